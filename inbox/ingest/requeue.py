"""The quarantine (admins): look at what X sent that Twelp could not use, fetch it again,
or discard it. Each outcome is an Event.

1. Retry fetches the tweet again from X by its id (outside any transaction) and runs it
   through the source's own page step, as a poll would: stored once (ON CONFLICT DO
   NOTHING), or quarantined again with X's new reason. The old row then goes, by a delete
   that counts: of two admins retrying at once, one records the Event.
2. A DM event cannot be fetched alone (X has no look-up of one DM event): discard it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from inbox import events
from inbox.configure import credentials
from inbox.errors import ActionError
from inbox.ingest import relay, store, tweets
from inbox.models import Brand, Quarantine, Source, Verb
from twelp import xgateway

_PAGE_STEP = {
    Source.Kind.MENTIONS: tweets.ingest_page,
    Source.Kind.SEARCH: tweets.ingest_page,
    Source.Kind.RELAY: relay.ingest_page,
}


def quarantined(brand: Brand):
    return Quarantine.objects.filter(source__brand=brand).select_related("source")


def _row(brand: Brand, quarantine_id: int) -> Quarantine:
    row = quarantined(brand).filter(id=quarantine_id).first()
    if row is None:
        raise ActionError(_("That item is no longer in the quarantine (someone handled it)."))
    return row


def tweet_id(row: Quarantine) -> int | None:
    raw = row.raw if isinstance(row.raw, dict) else {}
    value = str(raw.get("id", ""))
    return int(value) if value.isdigit() else None


def do_retry(brand: Brand, quarantine_id: int, *, actor) -> str:
    """What happened, in a sentence for the admin."""
    row = _row(brand, quarantine_id)
    step = _PAGE_STEP.get(row.source.kind)
    if step is None:  # (2)
        raise ActionError(_("X cannot send one DM event again by itself; discard it."))
    x_id = tweet_id(row)
    if x_id is None:
        raise ActionError(_("This payload has no tweet id to fetch again; discard it."))
    try:
        with credentials.acting_for(brand):
            page = xgateway.get_tweets([x_id])
    except xgateway.XError as error:
        raise ActionError(
            _("X did not answer (%(error)s); try again later.") % {"error": error}
        ) from error
    result = store.PollResult(source_id=row.source_id)
    if page.tweets or page.malformed:
        step(row.source, page, result, advance_to=None)  # (1)
    if result.quarantined:
        outcome = "X sent it malformed again: it is back in the quarantine with X's reason."
    elif page.tweets:
        outcome = f"Tweet {x_id} was fetched again and stored."
    else:
        outcome = f"X no longer has tweet {x_id}; it was removed from the quarantine."
    _done(brand, row, Verb.QUARANTINE_RETRIED, actor, outcome=outcome)
    return outcome


def do_discard(brand: Brand, quarantine_id: int, *, actor) -> None:
    _done(brand, _row(brand, quarantine_id), Verb.QUARANTINE_DISCARDED, actor)


@transaction.atomic(durable=True)
def _done(brand: Brand, row: Quarantine, verb: Verb, actor, **detail: object) -> None:
    deleted, _ = Quarantine.objects.filter(id=row.id).delete()
    if not deleted:
        raise ActionError(_("That item is no longer in the quarantine (someone handled it)."))
    events.record(
        verb,
        brand_id=brand.id,
        actor=actor,
        source=row.source_id,
        error=row.error,
        x_id=tweet_id(row),
        **detail,
    )
