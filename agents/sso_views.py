"""Single sign-on's two views (agents.sso): mozilla-django-oidc's, with Twelp's answers.

- Start (`/oidc/authenticate/`, GET, anyone): to the provider's sign-in page, the state,
  nonce and PKCE verifier kept in the session by the library.
- Callback (`/oidc/callback/`, GET, anyone): the provider sends the person back with
  `code` and `state` (or `error`). A state this session did not start, a wrong nonce, a
  wrong issuer or audience, a bad signature: refused with 400 and logged, nobody signed in.
  Every refusal (those, the provider's error answer, the provider out of reach, a closed
  account) is an SSO_REFUSED Event with its reason (agents.sso (5)).
- Sign-out (`/logout/`, POST): Twelp's session ends; one the provider started goes on to
  the provider's end_session endpoint to end the provider's session too (agents.sso (6)).
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from mozilla_django_oidc import views as oidc_views

from agents import sso
from agents.access import anyone

log = logging.getLogger(__name__)


class Start(oidc_views.OIDCAuthenticationRequestView):
    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.SSO_ENABLED:
            raise Http404(_("Single sign-on is not set up here."))
        if request.user.is_authenticated:
            return redirect("inbox:queue")
        return super().get(request)


class Callback(oidc_views.OIDCAuthenticationCallbackView):
    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.SSO_ENABLED:
            raise Http404(_("Single sign-on is not set up here."))
        state = request.GET.get("state", "")
        if not request.GET.get("error") and state not in request.session.get("oidc_states", {}):
            return _refused(request, "state")
        try:
            return super().get(request)
        except SuspiciousOperation as error:  # nonce, issuer, audience, signature
            return _refused(request, sso.refusal_reason(error), str(error))
        except requests.HTTPError as error:  # the token endpoint refused the code
            answer = error.response
            if answer is not None and 400 <= answer.status_code < 500:
                return _refused(request, "token", str(error))
            return _unreachable(request, str(error))
        except requests.RequestException as error:
            return _unreachable(request, str(error))

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        claims, tokens = self.request.sso_tokens
        sso.begin_session(self.request, claims, tokens)
        return response

    def login_failure(self) -> HttpResponse:
        request = self.request
        if getattr(request, "sso_newcomer", False):
            messages.success(request, _("Your company account is confirmed; now register."))
            return redirect("register")
        if request.GET.get("error"):
            error = request.GET.get("error", "")[:100]
            sso.record_refusal("provider_error", why=f"the provider answered error={error}")
            messages.error(request, _("You did not sign in with your company account."))
        else:
            reason = getattr(request, "sso_refusal", "Your company account did not sign you in.")
            messages.error(request, reason)
        return redirect("login")


def _refused(request: HttpRequest, reason: str, why: str = "") -> HttpResponse:
    why = why or sso.REFUSALS[reason]
    log.warning(
        "Single sign-on: refused a callback from %s: %s", request.META.get("REMOTE_ADDR", "?"), why
    )
    sso.record_refusal(reason, why=why)
    shown = gettext("This company sign-in was not accepted; start again from the login page.")
    return render(request, "agents/sso_refused.html", {"reason": shown}, status=400)


def _unreachable(request: HttpRequest, why: str) -> HttpResponse:
    log.warning("Single sign-on: the provider could not be reached: %s", why)
    sso.record_refusal("provider_unreachable", why=why)
    messages.error(request, gettext("The company sign-in could not be reached; try again."))
    return redirect("login")


class Logout(auth_views.LogoutView):
    """Django's sign-out (POST only); then on to the provider's end_session (agents.sso (6))."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        provider = sso.end_session_url(request)  # before logout() forgets the session's marks
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(provider) if provider else response


start = anyone(Start.as_view())
logout = anyone(Logout.as_view())
callback = anyone(Callback.as_view())
