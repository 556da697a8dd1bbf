from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agents import views as agents_views
from inbox.views import metrics, public, push
from twelp import views

handler500 = "twelp.views.server_error"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers report here what the Content-Security-Policy blocked (twelp.security).
    path("csp-report/", views.csp_report, name="csp_report"),
    # Served by the push process (uvicorn twelp.asgi); a load balancer routes /push/ there.
    path("push/events/", push.events, name="push_events"),
    path("push/healthz", push.healthz, name="push_healthz"),
    # Employees: registration (anyone), password reset by e-mail (anyone), the team pages.
    path("register/", agents_views.register, name="register"),
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
    path("metrics", metrics.metrics, name="metrics"),
    path("", include("inbox.urls")),
]
