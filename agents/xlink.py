"""Sign in with X: an employee's X handle and user id come from X, never from a form.

Registration, and a later change of handle, send the person to X's consent page (OAuth 2.0
with PKCE, through tweepy's OAuth2UserHandler in twelp.xgateway) and read `users/me` with
the token X gives back.

1. The flow's `state` and PKCE verifier wait in the session; the callback must bring the
   same state (compared in constant time) or it is refused and logged: a callback this
   session did not start is someone else's code.
2. An X account that another employee of the brand holds (by X user id, or by handle) is
   refused, and the refusal is an Event the supervisors see on the team page: an impostor's
   attempt, or a colleague's mistake, is never silent.
3. A proven account waits in the session for PROVEN_SECONDS for the registration form.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from agents.models import Agent
from inbox import events
from inbox.errors import ActionError
from inbox.models import Brand, Verb
from twelp import xgateway

log = logging.getLogger(__name__)

FLOW_KEY = "agents:xlink:flow"
PROVEN_KEY = "agents:xlink:proven"
FLOW_SECONDS = 600
PROVEN_SECONDS = 1800


@dataclass(frozen=True)
class Proven:
    id: int
    username: str


class WrongState(ActionError):
    """The callback is not the one this session started (or it expired)."""


def start(request: HttpRequest, purpose: str) -> str:
    """X's consent page URL; the flow waits in the session (1)."""
    redirect_uri = request.build_absolute_uri(reverse("x_callback"))
    begun = xgateway.oauth2_start(redirect_uri)
    request.session[FLOW_KEY] = {
        "state": begun.state,
        "verifier": begun.code_verifier,
        "purpose": purpose,
        "redirect_uri": redirect_uri,
        "at": time.time(),
    }
    return begun.url


def finish(request: HttpRequest) -> tuple[str, Proven]:
    """(purpose, the account X vouches for). Raises WrongState, or ActionError when the
    person cancelled on X or X refused."""
    flow = request.session.pop(FLOW_KEY, None)
    given = request.GET.get("state", "")
    fresh = flow is not None and time.time() - flow["at"] < FLOW_SECONDS
    if not fresh or not hmac.compare_digest(given.encode(), flow["state"].encode()):
        log.warning(
            "Sign in with X: refused a callback with a wrong or expired state from %s",
            request.META.get("REMOTE_ADDR", "?"),
        )
        raise WrongState(_("This sign-in with X was not started here, or it expired; start again."))
    if request.GET.get("error") or not request.GET.get("code"):
        raise ActionError(_("You did not authorize Twelp on X, so your account is not proven."))
    try:
        user = xgateway.oauth2_user(flow["redirect_uri"], request.GET["code"], flow["verifier"])
    except xgateway.XError as error:
        log.warning("Sign in with X: X refused the code exchange: %s", error)
        raise ActionError(_("X could not confirm your account just now; start again.")) from error
    return flow["purpose"], Proven(user.id, user.username)


def holder(brand: Brand, account: Proven, *, besides: Agent | None = None) -> Agent | None:
    """The brand's employee (any state) who holds this X account already, by id or handle."""
    rows = Agent.objects.filter(brand=brand).filter(
        Q(x_user_id=account.id) | Q(x_handle__iexact=account.username)
    )
    if besides is not None:
        rows = rows.exclude(id=besides.id)
    return rows.order_by("id").first()


def refuse_claim(brand: Brand, account: Proven, held_by: Agent, *, by: Agent | None) -> None:
    """(2): the refusal, for the supervisors (team page, audit trail)."""
    with transaction.atomic():
        events.record(
            Verb.X_CLAIM_REFUSED,
            brand_id=brand.id,
            actor=by,
            x_user_id=account.id,
            x_handle=account.username,
            held_by=held_by.id,
            held_by_name=held_by.name,
        )
    log.warning("Sign in with X: @%s is registered to %s already", account.username, held_by)


def allow_consent_page(response):
    """A page with a Sign in with X button posts to Twelp, which redirects to X's consent
    page: browsers apply the page's CSP form-action to that redirect too."""
    from urllib.parse import urlsplit

    from django.conf import settings

    parts = urlsplit(settings.X_OAUTH2_AUTHORIZE_URL)
    if parts.scheme and parts.netloc:
        response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}
    return response


def remember(request: HttpRequest, account: Proven) -> None:
    request.session[PROVEN_KEY] = {
        "id": account.id,
        "username": account.username,
        "at": time.time(),
    }


def proven(request: HttpRequest) -> Proven | None:
    """(3): the account proven in this session for the registration form, if still fresh."""
    kept = request.session.get(PROVEN_KEY)
    if not kept or time.time() - kept["at"] > PROVEN_SECONDS:
        return None
    return Proven(kept["id"], kept["username"])


def forget(request: HttpRequest) -> None:
    request.session.pop(PROVEN_KEY, None)


@transaction.atomic(durable=True)
def do_relink(agent: Agent, account: Proven) -> Agent:
    """An employee's own X account, proven again: a renamed handle, or another account."""
    locked = Agent.objects.select_for_update().get(id=agent.id)
    taken = holder(locked.brand, account, besides=locked)
    if taken is not None:
        raise ActionError(
            _("@%(username)s is registered to another employee.") % {"username": account.username}
        )
    before = {"x_handle": locked.x_handle, "x_user_id": locked.x_user_id}
    locked.x_handle, locked.x_user_id = account.username, account.id
    locked.save(update_fields=["x_handle", "x_user_id"])
    events.record(
        Verb.X_ACCOUNT_LINKED,
        brand_id=locked.brand_id,
        actor=locked,
        agent=locked.id,
        x_handle=[before["x_handle"], account.username],
        x_user_id=[before["x_user_id"], account.id],
    )
    return locked
