from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agents import identity_views, sso_views
from agents import views as agents_views
from inbox.api import v1 as api_v1
from inbox.views import metrics, public, push, survey
from twelp import views

handler500 = "twelp.views.server_error"
handler404 = "twelp.errors.page_not_found"
handler403 = "twelp.errors.permission_denied"

urlpatterns = [
    path("login/", agents_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    # Sign-out; a single sign-on session goes on to end the provider's too (agents.sso).
    path("logout/", sso_views.logout, name="logout"),
    # The second factor (agents.twofactor): enrol an authenticator app, pass it at login.
    path("2fa/", identity_views.verify, name="two_factor_verify"),
    path("2fa/setup/", identity_views.setup, name="two_factor_setup"),
    # Security keys and passkeys (WebAuthn, django-otp-webauthn): its script's JSON calls.
    path("2fa/keys/", include("agents.key_urls")),
    path("healthz", views.healthz, name="healthz"),
    # The scripts' words (issue 21): Django's JavaScript catalog, one cacheable URL a language.
    path("jsi18n/<str:language>/", views.javascript_catalog, name="javascript_catalog"),
    # Browsers report here what the Content-Security-Policy blocked (twelp.security).
    path("csp-report/", views.csp_report, name="csp_report"),
    # Served by the push process (uvicorn twelp.asgi); a load balancer routes /push/ there.
    path("push/events/", push.events, name="push_events"),
    path("push/healthz", push.healthz, name="push_healthz"),
    # Employees: registration (anyone), password reset by e-mail (anyone), the team pages.
    path("register/", agents_views.register, name="register"),
    # Sign in with X (agents.xlink): registration starts at X; X calls back here.
    path("register/x/", identity_views.x_start_register, name="register_x"),
    path("x/callback/", identity_views.x_callback, name="x_callback"),
    # Single sign-on with the company's identity provider (agents.sso, mozilla-django-oidc).
    path("oidc/authenticate/", sso_views.start, name="oidc_authentication_init"),
    path("oidc/callback/", sso_views.callback, name="oidc_authentication_callback"),
    # The first run: the one-time link of `manage.py bootstrap` (agents.bootstrap).
    path("setup/<str:token>/", agents_views.setup, name="setup"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("team/", include("agents.urls")),
    path("django-admin/", admin.site.urls),
    # The public answers stream (no login) and the operators' metrics (a bearer token).
    path("stream/", public.stream, name="stream"),
    # A customer's satisfaction survey: a signed one-time link (inbox.quality.survey).
    path("s/<str:link>/", survey.survey_page, name="survey"),
    path("metrics", metrics.metrics, name="metrics"),
    # The REST API for other systems (inbox.api): bearer tokens, never a session.
    path("api/v1/", api_v1.urls),
    path("", include("inbox.urls")),
]
