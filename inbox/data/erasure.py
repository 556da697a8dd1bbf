"""One customer's data, for an admin of their brand: exported (everything Twelp holds
about them, as JSON) or erased.

1. A customer is named by handle (with or without @) or X user id, within the admin's
   brand only; an erased customer is found by neither any more.
2. Erasure deletes their messages (inbox.data.removal), the notes on their threads,
   their profile (the Customer row stays, blanked: ERASED_HANDLE, a negative
   x_user_id, no tags) and the previews of their threads, and strips personal fields
   from their threads' Events (inbox.events.erase_details) and from the webhook
   deliveries that copied them (inbox.integrations.webhooks.erase_from_deliveries).
   Threads, the brand's replies and the Events stay, so every figure still adds up; the
   thread names an "erased customer".
3. Both are Events of the brand (no thread), naming the customer by row id only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import events
from inbox.data.removal import remove_messages
from inbox.errors import ActionError
from inbox.integrations import webhooks
from inbox.models import Customer, Event, Message, Mute, Note, Quarantine, Reply, Thread, Verb

if TYPE_CHECKING:
    from agents.models import Agent
    from inbox.models import Brand

_USER_ID = re.compile(r"^\d{1,20}$")


def find(brand: Brand, who: str, *, lock: bool = False) -> Customer:
    """The brand's (unerased) customer with this handle or X user id; ActionError if none."""
    who = who.strip().removeprefix("@")
    if not who:
        raise ActionError(_("Type the customer's X handle or X user id."))
    rows = Customer.objects.filter(brand=brand, erased_at__isnull=True)
    if lock:
        rows = rows.select_for_update(of=("self",))
    match = Q(handle__iexact=who)
    if _USER_ID.match(who):
        match |= Q(x_user_id=int(who))
    found = list(rows.filter(match).order_by("id")[:2])
    if not found:
        raise ActionError(
            _("No customer @%(who)s (or X user id %(who)s) in @%(handle)s.")
            % {"who": who, "handle": brand.handle}
        )
    return found[0]


@transaction.atomic(durable=True)
def export(brand: Brand, who: str, *, actor: Agent) -> dict[str, object]:
    customer = find(brand, who)
    threads = list(Thread.objects.filter(customer=customer).order_by("id"))
    thread_ids = [t.id for t in threads]
    data = {
        "exported_at": timezone.now().isoformat(),
        "brand": f"@{brand.handle}",
        "customer": _fields(
            customer,
            "x_user_id handle name description profile_image_url followers_count verified"
            " tags created_at updated_at",
        ),
        "threads": [
            _fields(t, "id channel conversation_id status preview created_at closed_at")
            for t in threads
        ],
        "messages": [
            _fields(m, "thread_id x_id channel direction text sent_at in_reply_to_x_id raw")
            for m in Message.objects.filter(thread_id__in=thread_ids).order_by("sent_at", "id")
        ],
        "replies": [
            _fields(r, "thread_id body status posted_x_id posted_at created_at")
            for r in Reply.objects.filter(thread_id__in=thread_ids).order_by("id")
        ],
        "notes": [
            _fields(n, "thread_id text created_at")
            for n in Note.objects.filter(thread_id__in=thread_ids).order_by("id")
        ],
        "mutes": [
            _fields(m, "kind created_at lifted_at")
            for m in Mute.objects.filter(customer=customer).order_by("id")
        ],
        "events": [
            _fields(e, "thread_id verb at detail")
            for e in Event.objects.filter(thread_id__in=thread_ids).order_by("id")
        ],
    }
    events.record(Verb.CUSTOMER_EXPORTED, brand_id=brand.id, actor=actor, customer=customer.id)
    return data


def _fields(row: object, names: str) -> dict[str, object]:
    out = {}
    for name in names.split():
        value = getattr(row, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


@transaction.atomic(durable=True)
def erase(brand: Brand, who: str, *, actor: Agent) -> dict[str, int]:
    """Erase the customer (module docstring, 2); what was removed, counted."""
    customer = find(brand, who, lock=True)
    counts = erase_customer(customer)
    events.record(Verb.CUSTOMER_ERASED, brand_id=brand.id, actor=actor, customer=customer.id)
    return counts


def erase_customer(customer: Customer) -> dict[str, int]:
    """The erasure itself, in the caller's transaction, with the customer row locked (an
    admin's request above, or X's report that the account is deleted)."""
    brand_id = customer.brand_id
    thread_ids = list(Thread.objects.filter(customer=customer).values_list("id", flat=True))
    counts = {
        "threads": len(thread_ids),
        "messages": remove_messages(
            Q(thread_id__in=thread_ids, direction=Message.Direction.IN)
            | Q(brand_id=brand_id, author_x_id=customer.x_user_id)
        ),
        "quarantined": _drop_quarantined(customer),
        # Colleagues' notes on their threads are about them ("Kim's order is #123"), as
        # the export shows: they go too (the retention sweep drops them the same way).
        "notes": Note.objects.filter(thread_id__in=thread_ids).delete()[1].get("inbox.Note", 0),
        "events": events.erase_details(thread_ids),
        "webhook_deliveries": webhooks.erase_from_deliveries(brand_id, thread_ids),
    }
    Thread.objects.filter(id__in=thread_ids).update(preview="")
    _blank(customer)
    return counts


def _blank(customer: Customer) -> None:
    customer.x_user_id = -customer.id  # X's ids are positive: never a real user's
    customer.handle = Customer.ERASED_HANDLE
    customer.name = Customer.ERASED_NAME
    customer.description = ""
    customer.profile_image_url = ""
    customer.followers_count = 0
    customer.verified = False
    customer.tags = []
    customer.erased_at = timezone.now()
    customer.save()


def _drop_quarantined(customer: Customer) -> int:
    """Quarantined payloads of the brand's sources written by them (a tweet's author_id,
    a DM's sender_id)."""
    user_id = str(customer.x_user_id)
    rows = Quarantine.objects.filter(source__brand_id=customer.brand_id).filter(
        Q(raw__author_id=user_id) | Q(raw__sender_id=user_id)
    )
    deleted, _ = rows.delete()
    return deleted
