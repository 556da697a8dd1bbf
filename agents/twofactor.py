"""Two-factor sign-in through django-otp: a TOTP app, ten one-use recovery codes, and
security keys or passkeys (WebAuthn, through django-otp-webauthn: one more django-otp device).

1. Who must: an employee whose role is in settings.TWO_FACTOR_REQUIRED_ROLES (supervisors
   and admins by default), and anyone who enrolled (agents may). Until they pass it, every
   view (agents.access.role_required) sends them to enrol or to verify.
2. A session is verified when django-otp's `login` marked it after a token passed
   `match_token` (the library's verification). That mark is read from the session alone,
   with no query (django-otp's OTPMiddleware would add one per request, on the hot pages
   too); so whatever takes a device away (a reset, a new enrolment) ends the user's other
   sessions (agents.sessions). A session signed in with the identity provider, whose MFA
   counts by a setting (agents.sso), carries PROVIDER_MFA_KEY instead.
3. A TOTP code is accepted once: django-otp keeps the device's last time step and refuses
   a code of that step or an earlier one. A recovery code is deleted when used.
4. django-axes counts a wrong code as a failed login of that username (its signal), and a
   locked-out username gets the lockout page here too, before any code is checked. A
   refused security key counts the same (key_refused), and a locked-out username cannot
   start a key's check either.
5. A security key is added after the app (the app and its recovery codes stay the way
   back in when the key is lost), by an employee who passed the second factor in this
   session; adding one is an Event (TWO_FACTOR_KEY_ADDED). An admin's reset takes the keys
   away with the app and the codes.
"""

from __future__ import annotations

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from agents import sessions
from agents.models import Agent
from inbox import events
from inbox.errors import ActionError
from inbox.models import Verb

RECOVERY_CODES = 10
_PENDING = "twelp-pending"  # the name of a device not yet confirmed
# Set by agents.sso when the identity provider's MFA counts (OIDC_MFA_COUNTS): the session
# passed a second factor at the provider.
PROVIDER_MFA_KEY = "twelp-provider-mfa"


def must_verify(agent: Agent) -> bool:
    return agent.two_factor or agent.role in settings.TWO_FACTOR_REQUIRED_ROLES


def is_verified(request: HttpRequest) -> bool:
    session = request.session
    return bool(session.get(django_otp.DEVICE_ID_SESSION_KEY) or session.get(PROVIDER_MFA_KEY))


def next_step(request: HttpRequest, agent: Agent) -> str | None:
    """The URL name the employee must pass first, or None."""
    if not must_verify(agent) or is_verified(request):
        return None
    return "two_factor_verify" if agent.two_factor else "two_factor_setup"


def locked_out(request: HttpRequest, agent: Agent) -> bool:
    return AxesProxyHandler.is_locked(request, {"username": agent.user.username})  # (4)


def _failed(request: HttpRequest, agent: Agent) -> None:
    user_login_failed.send(
        sender=__name__, credentials={"username": agent.user.username}, request=request
    )


def key_refused(request: HttpRequest, agent: Agent) -> None:
    """(4): a security key's check failed (or was forged): axes counts it."""
    _failed(request, agent)


def key_passed(agent: Agent) -> None:
    AxesProxyHandler.reset_attempts(username=agent.user.username)


def keys(agent: Agent) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.filter(user=agent.user).order_by("created_at", "id"))


@transaction.atomic(durable=True)
def do_key_added(agent: Agent, credential_id: int) -> None:
    """(5): the library saved the key; this is its audit."""
    key = WebAuthnCredential.objects.filter(id=credential_id, user=agent.user).first()
    events.record(
        Verb.TWO_FACTOR_KEY_ADDED,
        brand_id=agent.brand_id,
        actor=agent,
        agent=agent.id,
        key=credential_id,
        key_name=getattr(key, "name", "") or "",
    )


def verify(request: HttpRequest, agent: Agent, token: str) -> bool:
    """The code (TOTP or recovery) passes: the session is verified. Else axes counts it."""
    user = agent.user
    device = django_otp.match_token(user, token.replace(" ", "")) if token else None
    if device is None or not device.confirmed:
        _failed(request, agent)
        return False
    django_otp.login(request, device)
    AxesProxyHandler.reset_attempts(username=user.username)
    return True


# --- enrolment ---------------------------------------------------------------------------


def pending_device(agent: Agent) -> TOTPDevice:
    """The device being enrolled (its secret shown until confirmed)."""
    device = TOTPDevice.objects.filter(user=agent.user, confirmed=False, name=_PENDING).first()
    return device or TOTPDevice.objects.create(user=agent.user, confirmed=False, name=_PENDING)


def confirm(request: HttpRequest, agent: Agent, token: str) -> list[str]:
    """The pending device's first code confirms it: the recovery codes, shown once."""
    device = pending_device(agent)
    if not django_otp.verify_token(agent.user, device.persistent_id, token.replace(" ", "")):
        user_login_failed.send(
            sender=__name__, credentials={"username": agent.user.username}, request=request
        )
        raise ActionError(_("That code is not right; type the 6 digits your app shows now."))
    codes = _enrol(agent, device.id)
    device.refresh_from_db()
    sessions.end_sessions(agent.user_id, keep=request.session.session_key)  # (2)
    django_otp.login(request, device)
    return codes


@transaction.atomic(durable=True)
def _enrol(agent: Agent, device_id: int) -> list[str]:
    user = agent.user
    TOTPDevice.objects.filter(user=user).exclude(id=device_id).delete()
    TOTPDevice.objects.filter(id=device_id).update(confirmed=True, name="Authenticator app")
    codes = _new_codes(user)
    Agent.objects.filter(id=agent.id).update(two_factor=True)
    agent.two_factor = True
    events.record(Verb.TWO_FACTOR_ENROLLED, brand_id=agent.brand_id, actor=agent, agent=agent.id)
    return codes


@transaction.atomic(durable=True)
def do_new_recovery_codes(agent: Agent) -> list[str]:
    codes = _new_codes(agent.user)
    events.record(Verb.TWO_FACTOR_CODES, brand_id=agent.brand_id, actor=agent, agent=agent.id)
    return codes


def _new_codes(user) -> list[str]:
    """Ten fresh recovery codes; the old ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic(durable=True)
def do_reset(agent_id: int, *, actor: Agent) -> Agent:
    """An admin takes away a lost phone: the employee enrols again at their next login."""
    agent = (
        Agent.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(id=agent_id, brand_id=actor.brand_id)
        .first()
    )
    if agent is None:
        raise Http404(_("No such employee."))
    if agent.id == actor.id:
        raise ActionError(_("You cannot reset your own two-factor; ask another admin."))
    TOTPDevice.objects.filter(user=agent.user).delete()
    StaticDevice.objects.filter(user=agent.user).delete()
    WebAuthnCredential.objects.filter(user=agent.user).delete()  # (5)
    Agent.objects.filter(id=agent.id).update(two_factor=False)
    events.record(Verb.TWO_FACTOR_RESET, brand_id=agent.brand_id, actor=actor, agent=agent.id)
    sessions.end_sessions(agent.user_id)  # Redis: ending them early is no harm on a rollback
    return agent
