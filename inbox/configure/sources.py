"""The brand's sources: add, change, turn off. A listening query is checked as X would
(inbox.rules.xquery) and the whole set must fit X's 15-minute budgets (inbox.rules.request_budget).

1. The brand's row is locked for the change, so two admins editing at once cannot each
   fit their own source and together overspend an endpoint.
2. A changed query starts from a fresh cursor (the old since_id belonged to another
   search), and any save un-parks the source (an admin has looked at it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from inbox import events
from inbox.errors import ActionError
from inbox.models import Brand, Source, Verb
from inbox.rules import request_budget as budget
from inbox.rules import xquery

# Sources an admin adds here; the relay's Source follows the brand's hashtag (Brand page).
ADDABLE = (Source.Kind.MENTIONS, Source.Kind.SEARCH, Source.Kind.DMS)


@dataclass(frozen=True)
class Change:
    kind: str
    query: str
    interval_seconds: int
    active: bool


def label(kind: str, query: str) -> str:
    return f"{Source.Kind(kind).label}: {query}" if query else Source.Kind(kind).label


def budgets_with(brand: Brand, change: Change | None, source_id: int | None) -> list[budget.Budget]:
    """Every endpoint's budget for the brand's active sources, with `change` applied to
    source `source_id` (or added, when None)."""
    rows = [
        (s.kind, label(s.kind, s.query), int(s.poll_interval.total_seconds()))
        for s in Source.objects.filter(brand=brand, active=True).order_by("kind", "query", "id")
        if s.id != source_id
    ]
    if change is not None and change.active:
        rows.append((change.kind, label(change.kind, change.query), change.interval_seconds))
    return budget.budgets(rows)


@transaction.atomic(durable=True)
def do_save_source(brand: Brand, change: Change, *, source_id: int | None, actor) -> Source:
    Brand.objects.select_for_update().filter(id=brand.id).first()  # (1)
    source = None
    if source_id is not None:
        source = Source.objects.filter(brand=brand, id=source_id).first()
        if source is None:
            raise ActionError(_("That source is gone; reload the page."))
        if source.kind != change.kind:
            raise ActionError(_("A source keeps its kind; add a new one instead."))
    elif change.kind not in ADDABLE:
        raise ActionError(_("The relay's source follows the brand's hashtag (Brand page)."))
    query = xquery.check(change.query) if change.kind == Source.Kind.SEARCH else ""
    change = Change(change.kind, query, change.interval_seconds, change.active)
    clash = Source.objects.filter(brand=brand, kind=change.kind, query=query)
    if clash.exclude(id=source_id).exists():
        raise ActionError(
            _("The brand already has %(query)s.") % {"query": label(change.kind, query)}
        )
    reason = budget.overspent(budgets_with(brand, change, source_id))
    if reason:
        raise ActionError(_("Not saved. %(reason)s") % {"reason": reason})
    return _write(brand, source, change, actor)


def _write(brand: Brand, source: Source | None, change: Change, actor) -> Source:
    interval = timedelta(seconds=change.interval_seconds)
    if source is None:
        source = Source.objects.create(
            brand=brand,
            kind=change.kind,
            query=change.query,
            poll_interval=interval,
            active=change.active,
        )
        events.record(
            Verb.SOURCE_ADDED, brand_id=brand.id, actor=actor, source=source.id, **_shown(source)
        )
        return source
    before = _shown(source)
    fields = {"poll_interval": interval, "active": change.active, "next_poll_after": None}
    fields |= {"last_error": "", "rate_limited_until": None}
    if change.query != source.query:
        fields |= {"query": change.query, "since_id": None}  # (2)
    for name, value in fields.items():
        setattr(source, name, value)
    source.save(update_fields=list(fields))
    after = _shown(source)
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    events.record(Verb.SOURCE_CHANGED, brand_id=brand.id, actor=actor, source=source.id, **changed)
    return source


def _shown(source: Source) -> dict[str, object]:
    return {
        "kind": source.kind,
        "query": source.query,
        "interval_seconds": int(source.poll_interval.total_seconds()),
        "active": source.active,
    }
