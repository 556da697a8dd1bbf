"""A customer's tags (the panel beside a thread reads them: inbox.queries.panel).

Tags are short lowercase slugs on Customer.tags (an array with a GIN index). Adding and
removing are single UPDATEs with array_append / array_remove, so two agents tagging at
once never overwrite each other. Any employee of the brand may tag (on a thread they can
see); the change is in the thread's timeline (Events `tagged` / `untagged`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.contrib.postgres.fields import ArrayField
from django.db import models, transaction
from django.db.models import F, Func, Value
from django.utils.translation import gettext as _

from inbox import events
from inbox.errors import ActionError
from inbox.models import Customer, Thread, Verb

if TYPE_CHECKING:
    from agents.models import Agent

TAGS_MAX = 20
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def clean_tag(raw: str) -> str:
    tag = "-".join(raw.strip().lower().lstrip("#").split())
    if not _TAG.match(tag):
        raise ActionError(
            _(
                "A tag is 1 to 32 lowercase letters, digits, - or _ (for example “vip” or "
                "“repeat-caller”)."
            )
        )
    return tag


@transaction.atomic(durable=True)
def add_tag(thread: Thread, raw: str, *, agent: Agent) -> Customer:
    tag = clean_tag(raw)
    updated = (
        Customer.objects.filter(id=thread.customer_id)
        .exclude(tags__contains=[tag])
        .filter(_fewer_than(TAGS_MAX))
        .update(tags=Func(F("tags"), Value(tag), function="array_append", output_field=_TAGS))
    )
    customer = Customer.objects.get(id=thread.customer_id)
    if not updated and tag not in customer.tags:
        raise ActionError(
            _("A customer has at most %(TAGS_MAX)s tags; remove one first.")
            % {"TAGS_MAX": TAGS_MAX}
        )
    if updated:
        events.record(Verb.TAGGED, thread=thread, actor=agent, tag=tag)
    return customer


@transaction.atomic(durable=True)
def remove_tag(thread: Thread, tag: str, *, agent: Agent) -> Customer:
    updated = Customer.objects.filter(id=thread.customer_id, tags__contains=[tag]).update(
        tags=Func(F("tags"), Value(tag), function="array_remove", output_field=_TAGS)
    )
    if updated:
        events.record(Verb.UNTAGGED, thread=thread, actor=agent, tag=tag)
    return Customer.objects.get(id=thread.customer_id)


_TAGS = ArrayField(models.CharField(max_length=32))


def _fewer_than(n: int) -> models.Q:
    return models.Q(tags__len__lt=n)
