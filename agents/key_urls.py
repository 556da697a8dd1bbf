"""Security keys and passkeys (WebAuthn): django-otp-webauthn's URL names (its template tags
and script reverse them), served by Twelp's views of them (agents.identity_views)."""

from __future__ import annotations

from django.urls import path

from agents import identity_views

app_name = "otp_webauthn"

urlpatterns = [
    path(
        "registration/begin/",
        identity_views.key_registration_begin,
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        identity_views.key_registration_complete,
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        identity_views.key_authentication_begin,
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        identity_views.key_authentication_complete,
        name="credential-authentication-complete",
    ),
    path("jsi18n/", identity_views.key_script_catalog, name="js-i18n-catalog"),
]
