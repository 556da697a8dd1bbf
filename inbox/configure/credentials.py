"""Each brand's X account: which credentials its calls use, connected, refreshed, revoked.

1. A brand calls X only with its own credentials (BrandCredentials, sealed with
   twelp.sealing), or, for the env brand alone (settings.X_ENV_BRAND, else the brand of
   the account X_ACCESS_TOKEN names, else the oldest brand that is not a training
   brand), with the X_ACCESS_* settings, so the demo and every existing deployment keep
   working unchanged. Any other brand with no credentials
   is refused before anything is sent: `problem()` says why, in words for admins.
   A training brand keeps its own sandbox-only account (twelp.xgateway.acting_for).
2. Connecting checks that the account that approved (or whose pasted keys answer users/me)
   IS the brand's account (Brand.x_user_id): brand A's row can never hold B's keys.
3. An OAuth 2.0 access token is refreshed shortly before it expires, under the row's lock:
   X's refresh tokens work once, so two workers must not both spend it. This is the one
   call to X made inside a transaction (a short POST to the token endpoint).
4. X's 401 (or a refresh X refuses) marks the credentials revoked: that brand's pollers
   park and its outbox holds (nothing is failed, nothing is lost), and its admins see a
   banner until they connect the account again, which resumes both at once.
5. Disconnecting revokes the OAuth 2.0 tokens at X (POST /2/oauth2/revoke, the refresh
   token first) and deletes the row whatever X answered; when X could not be told (an
   error, a timeout) or the keys were pasted OAuth 1.0a keys (X has no API to revoke
   them), the admin is told so in plain words, and the Event records it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from agents.models import Agent
from inbox import events
from inbox.errors import ActionError
from inbox.live import version
from inbox.models import Brand, BrandCredentials, BrandTweet, Reply, ReplyStatus, Source, Verb
from inbox.rules import reasons
from twelp import sealing, xgateway

log = logging.getLogger(__name__)

REFRESH_AHEAD = timedelta(minutes=2)  # refresh an access token this long before it expires
HOLD = timedelta(minutes=5)  # an outbox row of a brand that cannot post waits this long
BANNER_SECONDS = 300


def is_env_brand(brand: Brand) -> bool:
    """(1) The brand the X_ACCESS_* settings belong to."""
    if brand.is_training:
        return False
    if settings.X_ENV_BRAND:
        return brand.handle.lower() == settings.X_ENV_BRAND.lower()
    # X's OAuth 1.0a access token starts with its account's user id ("<id>-..."): the brand
    # of that account, when there is one; else the oldest brand.
    owner, _, rest = settings.X_ACCESS_TOKEN.partition("-")
    live = Brand.objects.filter(training_for__isnull=True)
    if owner.isdigit() and rest and live.filter(x_user_id=int(owner)).exists():
        return brand.x_user_id == int(owner)
    oldest = live.order_by("id").values("id").first()
    return oldest is not None and oldest["id"] == brand.id


def problem_reason(brand: Brand) -> reasons.Reason | None:
    """Why the brand cannot call X now (None when it can), as data (inbox.rules.reasons);
    reads the database only."""
    if brand.is_training:
        return None
    row = BrandCredentials.objects.filter(brand_id=brand.id).only("revoked_at", "problem").first()
    if row is None:
        return None if is_env_brand(brand) else reasons.make("no_account", brand=brand.handle)
    if row.revoked_at is not None:
        return reasons.make(
            "credentials_revoked",
            brand=brand.handle,
            when=f"{row.revoked_at:%Y-%m-%d %H:%M}",
            detail=row.problem or "HTTP 401",
        )
    return None


def problem(brand: Brand) -> str:
    """problem_reason() in words, in the active language ("" when the brand can call X)."""
    return reasons.words(problem_reason(brand))


def problem_english(brand: Brand) -> str:
    """problem() for operators, logs and rows read by anyone (a Source's last_error)."""
    return reasons.english(problem_reason(brand))


def banner(brand: Brand) -> str:
    """problem(), cached for admins' pages (a banner on every page must cost no query);
    forgotten on every change below."""
    key = _banner_key(brand.id, translation.get_language())  # one per language (issue 21)
    return cache.get_or_set(key, lambda: problem(brand), BANNER_SECONDS)


def _banner_key(brand_id: int, language: str) -> str:
    return f"inbox:x-account-problem:{brand_id}:{language}"


def _changed(brand: Brand) -> None:
    brand_id = brand.id

    def forget() -> None:
        cache.delete_many([_banner_key(brand_id, code) for code, _name in settings.LANGUAGES])
        version.bump(brand_id)  # pages rendered once per brand version show it anew

    transaction.on_commit(forget)


def account_for(brand: Brand) -> xgateway.Credentials | xgateway._Env | str:
    """What xgateway.acting_for takes for `brand`: its credentials (refreshed if due), ENV,
    or why it cannot call X (a string: every call then raises NotConnected)."""
    if brand.is_training:
        return xgateway.ENV
    why = problem_english(brand)
    if why:
        return why
    row = BrandCredentials.objects.filter(brand_id=brand.id).first()
    if row is None:
        return xgateway.ENV  # the env brand (problem() said so)
    try:
        if row.kind == BrandCredentials.Kind.OAUTH2 and _due(row):
            return _refresh(row.id)
        return _credentials(row)
    except sealing.CannotOpen as error:
        return str(error)


@contextmanager
def acting_for(brand: Brand) -> Iterator[None]:
    """Calls inside act as `brand`'s own account (1); a 401 among them revokes it (4)."""
    with xgateway.acting_for(brand, account_for(brand)):
        try:
            yield
        except xgateway.Unauthorized as error:
            mark_revoked(brand, str(error))
            raise


def _credentials(row: BrandCredentials) -> xgateway.Credentials:
    values = sealing.open_sealed(row.sealed)
    return xgateway.Credentials(
        kind=row.kind,
        access_token=values["access_token"],
        access_token_secret=values.get("access_token_secret", ""),
        consumer_key=values.get("consumer_key", ""),
        consumer_secret=values.get("consumer_secret", ""),
    )


def _due(row: BrandCredentials) -> bool:
    return row.expires_at is not None and row.expires_at <= timezone.now() + REFRESH_AHEAD


def _refresh(row_id: int) -> xgateway.Credentials | str:
    """(3) A fresh access token, or why there is none (the refresh was refused: revoked)."""
    with transaction.atomic():
        row = BrandCredentials.objects.select_for_update().select_related("brand").get(id=row_id)
        if not _due(row):  # another worker refreshed it while this one waited for the lock
            return _credentials(row)
        values = sealing.open_sealed(row.sealed)
        if not values.get("refresh_token"):
            refused = "the access token expired and X gave no refresh token (offline.access)"
        else:
            scopes = tuple(values.get("scopes", "").split()) or settings.X_BRAND_OAUTH2_SCOPES
            try:
                token = xgateway.oauth2_refresh(values["refresh_token"], scopes)
            except xgateway.Permanent as error:
                refused = str(error)
            else:
                _store_oauth2(row, token)
                return _credentials(row)
    mark_revoked(row.brand, refused)
    return problem_english(row.brand)


def _store_oauth2(row: BrandCredentials, token: xgateway.OAuth2Token) -> None:
    row.sealed = sealing.seal(
        {
            "access_token": token.access_token,
            "refresh_token": token.refresh_token,
            "scopes": " ".join(token.scopes),
        }
    )
    row.expires_at = token.expires_at
    row.save(update_fields=["sealed", "expires_at", "updated_at"])


# --- connecting, by an admin ----------------------------------------------------------------


def _require_admin(actor: Agent, brand: Brand) -> None:
    if not actor.is_admin or actor.brand_id != brand.id:
        raise ActionError(_("Only the brand's admins connect its X account."))


def _check_account(brand: Brand, user: xgateway.XUser) -> None:
    """(2)"""
    if user.id != brand.x_user_id:
        raise ActionError(
            _(
                "These credentials are @%(username)s's (X id %(id)s), not @%(handle)s's: sign in "
                "to X as @%(handle)s and connect again."
            )
            % {"username": user.username, "id": user.id, "handle": brand.handle}
        )


def connect_oauth1(
    brand: Brand,
    *,
    actor: Agent,
    access_token: str,
    access_token_secret: str,
    consumer_key: str = "",
    consumer_secret: str = "",
) -> BrandCredentials:
    """Pasted OAuth 1.0a keys, tried against users/me before they are kept."""
    _require_admin(actor, brand)
    pasted = xgateway.Credentials(
        "oauth1", access_token, access_token_secret, consumer_key, consumer_secret
    )
    try:
        with xgateway.acting_for(brand, pasted):
            user = xgateway.get_me()
    except xgateway.Unauthorized as error:
        raise ActionError(
            _("X refused these keys (401): %(error)s. Nothing was saved.") % {"error": error}
        ) from error
    except xgateway.XError as error:
        raise ActionError(
            _("X could not check these keys just now: %(error)s") % {"error": error}
        ) from error
    _check_account(brand, user)
    secrets = {"access_token": access_token, "access_token_secret": access_token_secret}
    if consumer_key:
        secrets |= {"consumer_key": consumer_key, "consumer_secret": consumer_secret}
    return do_store(brand, BrandCredentials.Kind.OAUTH1, secrets, user, None, actor=actor)


def connect_oauth2(
    brand: Brand, *, actor: Agent, redirect_uri: str, code: str, verifier: str
) -> BrandCredentials:
    """The callback of X's consent page, its state already checked by the caller."""
    _require_admin(actor, brand)
    scopes = settings.X_BRAND_OAUTH2_SCOPES
    try:
        user, token = xgateway.oauth2_connect(redirect_uri, code, verifier, scopes)
    except xgateway.XError as error:
        raise ActionError(
            _("X did not connect the account: %(error)s") % {"error": error}
        ) from error
    try:
        _check_account(brand, user)
    except ActionError:
        _revoke_quietly(token)  # another account's grant is not kept, here or at X
        raise
    secrets = {
        "access_token": token.access_token,
        "refresh_token": token.refresh_token,
        "scopes": " ".join(token.scopes),
    }
    return do_store(
        brand, BrandCredentials.Kind.OAUTH2, secrets, user, token.expires_at, actor=actor
    )


def _revoke_quietly(token: xgateway.OAuth2Token) -> None:
    pairs = (("refresh_token", token.refresh_token), ("access_token", token.access_token))
    for hint, value in pairs:
        if value:
            try:
                xgateway.oauth2_revoke(value, hint)
            except xgateway.XError as error:  # it expires on its own (2 hours at X)
                log.info("X did not revoke a refused account's %s: %s", hint, error)
                return


@transaction.atomic(durable=True)
def do_store(
    brand: Brand,
    kind: str,
    secrets: dict[str, str],
    user: xgateway.XUser,
    expires_at,
    *,
    actor: Agent,
) -> BrandCredentials:
    """Keep the credentials (replacing any), and resume the brand's pollers and outbox."""
    row, _ = BrandCredentials.objects.update_or_create(
        brand=brand,
        defaults={
            "kind": kind,
            "sealed": sealing.seal(secrets),
            "x_user_id": user.id,
            "x_username": user.username,
            "expires_at": expires_at,
            "revoked_at": None,
            "problem": "",
            "connected_by": actor,
            "connected_at": timezone.now(),
        },
    )
    _resume(brand)
    _changed(brand)
    events.record(
        Verb.BRAND_X_CONNECTED, brand_id=brand.id, actor=actor, kind=kind, x_handle=user.username
    )
    return row


def _resume(brand: Brand) -> None:
    """Pollers due now; held outbox rows due now (the sweep sends them)."""
    Source.objects.filter(brand=brand).update(
        next_poll_after=None, rate_limited_until=None, last_error=""
    )
    held = Q(status__in=[ReplyStatus.QUEUED, ReplyStatus.SENDING])
    Reply.objects.filter(held, thread__brand=brand).update(next_attempt_at=None)
    BrandTweet.objects.filter(held, brand=brand).update(next_attempt_at=None)


@dataclass(frozen=True)
class Disconnected:
    """What disconnect() did at X (5): told X (it revoked the tokens), or why not."""

    told_x: bool
    why: str = ""  # when X was not told: why, in words for admins
    had_credentials: bool = True


def disconnect(brand: Brand, *, actor: Agent) -> Disconnected:
    """(5) Revoke the brand's OAuth 2.0 tokens at X (the refresh token first, then the
    access token, as X asks), then delete the credentials whatever X answered: an admin
    who disconnects must never find them still in use. Slow I/O: outside any transaction."""
    _require_admin(actor, brand)
    row = BrandCredentials.objects.filter(brand=brand).first()
    if row is None:
        return Disconnected(told_x=False, had_credentials=False)
    outcome = _revoke_at_x(row)
    do_disconnect(brand, actor=actor, outcome=outcome)
    return outcome


def _revoke_at_x(row: BrandCredentials) -> Disconnected:
    try:
        values = sealing.open_sealed(row.sealed)
    except sealing.CannotOpen as error:
        return Disconnected(told_x=False, why=str(error))
    if values.get("env"):  # mark_revoked's marker: X refused the X_ACCESS_* settings' keys
        return Disconnected(
            told_x=False,
            why=gettext("these were the deployment's X_ACCESS_* keys, which X had refused"),
        )
    if row.kind != BrandCredentials.Kind.OAUTH2:
        return Disconnected(
            told_x=False,
            why=gettext(
                "pasted OAuth 1.0a keys cannot be revoked through X's API: regenerate or "
                "revoke the access token in X's developer portal"
            ),
        )
    for hint in ("refresh_token", "access_token"):
        if not values.get(hint):
            continue
        try:
            xgateway.oauth2_revoke(values[hint], hint)
        except xgateway.XError as error:
            log.warning("X did not revoke @%s's %s: %s", row.x_username, hint, error)
            return Disconnected(
                told_x=False, why=gettext("X could not be told (%(error)s)") % {"error": error}
            )
    return Disconnected(told_x=True)


@transaction.atomic(durable=True)
def do_disconnect(brand: Brand, *, actor: Agent, outcome: Disconnected | None = None) -> None:
    """Delete the brand's credentials (disconnect() tells X first)."""
    _require_admin(actor, brand)
    deleted, _ = BrandCredentials.objects.filter(brand=brand).delete()
    _changed(brand)
    if deleted:
        told = outcome.told_x if outcome else False
        why = outcome.why if outcome else "not asked"
        events.record(
            Verb.BRAND_X_DISCONNECTED, brand_id=brand.id, actor=actor, revoked_at_x=told, why=why
        )


def mark_revoked(brand: Brand, reason: str) -> None:
    """(4) X refused the brand's credentials: stop its pollers and outbox (not others')."""
    now = timezone.now()
    with transaction.atomic():
        if BrandCredentials.objects.filter(brand=brand).exists():
            changed = BrandCredentials.objects.filter(brand=brand, revoked_at__isnull=True).update(
                revoked_at=now, problem=reason[:500]
            )
        else:  # the env brand: its settings' keys were refused; remembered as a row
            BrandCredentials.objects.create(
                brand=brand,
                kind=BrandCredentials.Kind.OAUTH1,
                sealed=sealing.seal({"access_token": "", "env": "refused"}),
                x_user_id=brand.x_user_id,
                x_username=brand.handle,
                revoked_at=now,
                problem=f"the X_ACCESS_* settings: {reason}"[:500],
            )
            changed = 1
        if changed:
            _changed(brand)
            events.record(Verb.BRAND_X_REVOKED, brand_id=brand.id, reason=reason[:500])
    if changed:
        log.warning("X refused @%s's credentials (401): its polling and posting stop", brand.handle)


@transaction.atomic
def rotate_keys() -> int:
    """Every row re-sealed with the first of TWELP_CREDENTIALS_KEYS; how many."""
    count = 0
    for row in BrandCredentials.objects.select_for_update().iterator():
        row.sealed = sealing.reseal(row.sealed)
        row.save(update_fields=["sealed"])
        count += 1
    return count
