"""The brand's rules (admins): SLA targets, urgent keywords, the credit format and the
employee-id pattern. One transaction, one Event with what changed (before, after)."""

from __future__ import annotations

from django.db import transaction

from inbox import events
from inbox.models import Brand, Verb

FIELDS = (
    "sla_first_response",
    "sla_resolution",
    "urgent_keywords",
    "credit_format",
    "employee_id_pattern",
)


def _jsonable(value: object) -> object:
    return str(value) if hasattr(value, "total_seconds") else value


@transaction.atomic(durable=True)
def do_save_rules(brand: Brand, data: dict[str, object], *, actor) -> Brand:
    brand = Brand.objects.select_for_update().get(id=brand.id)
    before = {name: getattr(brand, name) for name in FIELDS}
    for name in FIELDS:
        setattr(brand, name, data[name])
    brand.save(update_fields=list(FIELDS))
    changed = {
        name: [_jsonable(before[name]), _jsonable(data[name])]
        for name in FIELDS
        if before[name] != data[name]
    }
    if changed:
        events.record(Verb.BRAND_SETTINGS_CHANGED, brand_id=brand.id, actor=actor, **changed)
    return brand
