"""The brand's settings (admins): business hours, time zone, auto-reply on/off and text,
how long its data is kept (inbox.data.retention; empty: the deployment's default), and
the relay hashtag (inbox.ingest.relay): saving it turns the brand's relay Source on,
emptying it turns the Source off.

The form (inbox.forms.BrandSettingsForm) parses and normalises; `save` writes in one
transaction with an Event for the audit trail ("brand_settings_changed", before and after).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from inbox import events
from inbox.models import Brand, Source, Verb

FIELDS = (
    "timezone",
    "business_hours",
    "auto_reply_enabled",
    "auto_reply_text",
    "relay_hashtag",
    "x_access",
    "survey_enabled",
    "retain_closed_threads",
    "retain_raw_payloads",
    "retain_quarantine",
)


@transaction.atomic(durable=True)
def save(brand: Brand, data: dict[str, object], *, actor) -> Brand:
    brand = Brand.objects.select_for_update().get(id=brand.id)
    before = {name: getattr(brand, name) for name in FIELDS}
    for name in FIELDS:
        setattr(brand, name, data[name])
    brand.save(update_fields=list(FIELDS))
    after = {name: getattr(brand, name) for name in FIELDS}
    changed = {
        name: [_plain(before[name]), _plain(after[name])]
        for name in FIELDS
        if before[name] != after[name]
    }
    events.record(Verb.BRAND_SETTINGS_CHANGED, brand_id=brand.id, actor=actor, **changed)
    _relay_source(brand, changed)
    return brand


def _plain(value: object) -> object:
    """A retention period as days for the Event's detail (JSON); None is the default."""
    return value.days if isinstance(value, timedelta) else value


def _relay_source(brand: Brand, changed: dict) -> None:
    """The brand's relay Source (its query is built from the hashtag by inbox.ingest.relay) is
    active exactly while a hashtag is set; a new hashtag is polled at once."""
    tag = brand.relay_hashtag
    source = Source.objects.filter(brand=brand, kind=Source.Kind.RELAY, query="").first()
    if source is None:
        if tag:
            Source.objects.create(brand=brand, kind=Source.Kind.RELAY)
        return
    if not tag:
        Source.objects.filter(id=source.id).update(active=False)
    elif not source.active or "relay_hashtag" in changed:
        # A hashtag put right un-parks the Source its old value had parked.
        Source.objects.filter(id=source.id).update(active=True, next_poll_after=None, last_error="")
