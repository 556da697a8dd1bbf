"""Signing in: the second factor (agents.twofactor), which comes before `role_required`'s
own check (it sends employees here, so each view states who it serves), and Sign in with X
(agents.xlink), which proves an employee's X account."""

from __future__ import annotations

import base64
import json

import segno
from axes.helpers import get_lockout_response
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import exceptions as webauthn_errors
from django_otp_webauthn import views as webauthn_views

from agents import queries, twofactor, xlink
from agents.access import ADMINS, ANY_EMPLOYEE, AgentRequest, anyone, role_required
from agents.models import Agent, AgentState
from inbox.errors import ActionError


class CodeForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=gettext_lazy(
            "The 6 digits your authenticator app shows, or one of your recovery codes."
        ),
    )


def _employee(request: HttpRequest) -> Agent:
    """The logged-in, active employee (before any second factor); else 403."""
    agent = getattr(request.user, "agent", None)
    if agent is None or agent.state != AgentState.ACTIVE:
        raise PermissionDenied(_("Only active employees sign in here."))
    return agent


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe else "/"


def _lockout(request: HttpRequest, agent: Agent) -> HttpResponse:
    return get_lockout_response(request, None, {"username": agent.user.username})


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    agent = _employee(request)
    if twofactor.next_step(request, agent) != "two_factor_verify":
        return redirect(twofactor.next_step(request, agent) or _next(request))
    if twofactor.locked_out(request, agent):
        return _lockout(request, agent)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if twofactor.verify(request, agent, form.cleaned_data["token"]):
            return redirect(_next(request))
        if twofactor.locked_out(request, agent):
            return _lockout(request, agent)
        form.add_error("token", _("That code is not right, or it was used already."))
    context = {"form": form, "next": _next(request), "has_keys": bool(twofactor.keys(agent))}
    return render(request, "agents/two_factor_verify.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP app: first time, or (once verified) a new phone."""
    agent = _employee(request)
    if agent.two_factor and not twofactor.is_verified(request):
        return redirect("two_factor_verify")
    if twofactor.locked_out(request, agent):
        return _lockout(request, agent)
    device = twofactor.pending_device(agent)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.confirm(request, agent, form.cleaned_data["token"])
        except ActionError as error:
            form.add_error("token", str(error))
        else:
            context = {"codes": codes, "next": _next(request), "keys": twofactor.keys(agent)}
            return render(request, "agents/two_factor_codes.html", context)
    secret = base64.b32encode(device.bin_key).decode()
    qr = segno.make(device.config_url).svg_data_uri(scale=4)
    context = {"form": form, "secret": secret, "qr": qr, "next": _next(request), "agent": agent}
    return render(request, "agents/two_factor_setup.html", context)


@require_POST
@role_required(ANY_EMPLOYEE)
def new_codes(request: AgentRequest) -> HttpResponse:
    if not request.agent.two_factor:
        messages.error(request, _("Enrol an authenticator app first."))
        return redirect("agents:me")
    codes = twofactor.do_new_recovery_codes(request.agent)
    context = {"codes": codes, "next": "/team/me/", "keys": twofactor.keys(request.agent)}
    return render(request, "agents/two_factor_codes.html", context)


@require_POST
@role_required(ADMINS)
def reset(request: AgentRequest, agent_id: int) -> HttpResponse:
    try:
        agent = twofactor.do_reset(agent_id, actor=request.agent)
    except ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s's two-factor is reset: they enrol again at their next login.")
            % {"name": agent.name},
        )
    return redirect("agents:profile", agent_id)


# --- Sign in with X (agents.xlink) -------------------------------------------------------------


@anyone
@require_POST
def x_start_register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("inbox:queue")
    if queries.registration_brand() is None:
        raise Http404(_("Registration is not open yet."))
    return _to_x(request, "register", "register")


@require_POST
@role_required(ANY_EMPLOYEE)
def x_start_relink(request: AgentRequest) -> HttpResponse:
    return _to_x(request, "relink", "agents:me")


def _to_x(request: HttpRequest, purpose: str, back: str) -> HttpResponse:
    try:
        return redirect(xlink.start(request, purpose))
    except ImproperlyConfigured:
        messages.error(request, _("Sign in with X is not set up here; ask an admin to add you."))
        return redirect(back)


@anyone
@require_GET
def x_callback(request: HttpRequest) -> HttpResponse:
    """X sends the person back here with `code` and `state` (or `error`)."""
    try:
        purpose, account = xlink.finish(request)
    except xlink.WrongState as error:
        return render(request, "agents/x_refused.html", {"reason": str(error)}, status=400)
    except ActionError as error:
        messages.error(request, str(error))
        return redirect("agents:me" if request.user.is_authenticated else "register")
    if purpose == "relink":
        return _relinked(request, account)
    brand = queries.registration_brand()
    if brand is None:
        raise Http404(_("Registration is not open yet."))
    held = xlink.holder(brand, account)
    if held is not None:
        xlink.refuse_claim(brand, account, held, by=None)
        messages.error(
            request,
            _(
                "@%(username)s is registered to an employee already, so it cannot register "
                "again. Your supervisors have been told; if it is your account, talk to them."
            )
            % {"username": account.username},
        )
        return redirect("register")
    xlink.remember(request, account)
    messages.success(
        request, _("X confirmed your account: @%(username)s.") % {"username": account.username}
    )
    return redirect("register")


def _relinked(request: HttpRequest, account: xlink.Proven) -> HttpResponse:
    agent = getattr(request.user, "agent", None) if request.user.is_authenticated else None
    if agent is None or agent.state != AgentState.ACTIVE:
        raise PermissionDenied(_("Log in as an active employee first."))
    held = xlink.holder(agent.brand, account, besides=agent)
    if held is not None:
        xlink.refuse_claim(agent.brand, account, held, by=agent)
        messages.error(
            request,
            _(
                "@%(username)s is registered to another employee; your supervisors have been "
                "told. Your handle is unchanged."
            )
            % {"username": account.username},
        )
        return redirect("agents:me")
    try:
        agent = xlink.do_relink(agent, account)
    except ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Your X account is @%(x_handle)s, as X confirmed.") % {"x_handle": agent.x_handle},
        )
    return redirect("agents:me")


# --- security keys and passkeys (WebAuthn; agents.twofactor (4), (5)) ----------------------
# django-otp-webauthn's four JSON views (its JavaScript calls them with the CSRF token in
# X-CSRFToken), narrowed to Twelp's rules: an active employee past the first factor, whose
# second factor is read as agents.twofactor reads it (not by OTPMiddleware).


class AppFirst(webauthn_errors.OTPWebAuthnApiError):
    status_code = 403
    default_code = "app_first"
    default_detail = gettext_lazy("Set up an authenticator app first; then add a key.")


class LockedOut(webauthn_errors.OTPWebAuthnApiError):
    status_code = 403
    default_code = "locked_out"
    default_detail = gettext_lazy("Too many failed attempts: try again later.")


class _Employee:
    agent: Agent

    def initial(self, request: HttpRequest, *args: object, **kwargs: object) -> None:
        agent = getattr(request.user, "agent", None) if request.user.is_authenticated else None
        if agent is None or agent.state != AgentState.ACTIVE:
            raise webauthn_errors.NotAuthenticated()
        request.user.is_verified = lambda: twofactor.is_verified(request)  # type: ignore[union-attr]
        self.agent = agent
        super().initial(request, *args, **kwargs)  # type: ignore[misc]


class _Registration(_Employee):
    def check_can_register(self) -> None:
        if not self.agent.two_factor:  # (5): the app and its recovery codes come first
            raise AppFirst()


class KeyRegistrationBegin(_Registration, webauthn_views.BeginCredentialRegistrationView):
    pass


class KeyRegistrationComplete(_Registration, webauthn_views.CompleteCredentialRegistrationView):
    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 200:
            twofactor.do_key_added(self.agent, json.loads(response.content)["id"])
        return response


class NoKeys(webauthn_errors.OTPWebAuthnApiError):
    status_code = 403
    default_code = "no_keys"
    default_detail = gettext_lazy("You have no security key here: type a code.")


class _Authentication(_Employee):
    checked = False  # a key's answer was looked at (not refused before: (4) counts those)

    def check_can_authenticate(self) -> None:
        if twofactor.locked_out(self.request, self.agent):  # type: ignore[attr-defined]
            raise LockedOut()
        if not twofactor.keys(self.agent):
            raise NoKeys()


class KeyAuthenticationBegin(_Authentication, webauthn_views.BeginCredentialAuthenticationView):
    pass


class KeyAuthenticationComplete(
    _Authentication, webauthn_views.CompleteCredentialAuthenticationView
):
    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = super().dispatch(request, *args, **kwargs)
        if not self.checked:  # not an employee's try, or refused before any key was looked at
            return response
        if response.status_code == 200:
            twofactor.key_passed(self.agent)
        else:  # (4): a refused, forged or replayed key counts toward the lockout
            twofactor.key_refused(request, self.agent)
        return response

    def post(self, *args: object, **kwargs: object) -> HttpResponse:
        self.checked = True
        return super().post(*args, **kwargs)


def _employees_json(view_class: type) -> object:
    """Who: any active employee, before the second factor too (it is one); the rest get the
    library's JSON 403 (the views answer fetch(), not pages)."""
    view = view_class.as_view()
    view.allowed_roles = ANY_EMPLOYEE  # type: ignore[attr-defined]
    return view


key_registration_begin = _employees_json(KeyRegistrationBegin)
key_registration_complete = _employees_json(KeyRegistrationComplete)
key_authentication_begin = _employees_json(KeyAuthenticationBegin)
key_authentication_complete = _employees_json(KeyAuthenticationComplete)
# The library's translations of its script's messages: a static catalog, anyone.
key_script_catalog = anyone(JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]))
