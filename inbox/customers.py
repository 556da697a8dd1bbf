"""The customer panel beside a thread: the X profile, tags, mutes, and the customer's
past threads with our replies and their credits.

Tags are short lowercase slugs on Customer.tags (an array with a GIN index). Adding and
removing are single UPDATEs with array_append / array_remove, so two agents tagging at
once never overwrite each other. Any employee of the brand may tag (on a thread they can
see); the change is in the thread's timeline (Events `tagged` / `untagged`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.postgres.fields import ArrayField
from django.db import models, transaction
from django.db.models import F, Func, Prefetch, Value
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from agents.access import ANY_EMPLOYEE, AgentRequest, role_required
from agents.models import Agent
from inbox import noise, queries
from inbox.errors import ActionError
from inbox.models import Customer, Event, Mute, Reply, ReplyStatus, Thread

HISTORY_LIMIT = 20
TAGS_MAX = 20
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Panel:
    customer: Customer
    history: list[Thread]  # newest first, at most HISTORY_LIMIT, replies prefetched
    more: bool
    mutes: list[Mute]


def panel(thread: Thread) -> Panel:
    """Three queries whatever the history's size: threads, their replies, live mutes."""
    replies = Reply.objects.exclude(status=ReplyStatus.DISCARDED).select_related("agent")
    rows = list(
        # thread_customer_history: (customer, -created_at)
        Thread.objects.filter(customer_id=thread.customer_id)
        .exclude(id=thread.id)
        .order_by("-created_at")
        .prefetch_related(Prefetch("replies", queryset=replies.order_by("created_at")))[
            : HISTORY_LIMIT + 1
        ]
    )
    return Panel(
        thread.customer,
        rows[:HISTORY_LIMIT],
        len(rows) > HISTORY_LIMIT,
        noise.live_mutes(thread.customer),
    )


def clean_tag(raw: str) -> str:
    tag = "-".join(raw.strip().lower().lstrip("#").split())
    if not _TAG.match(tag):
        raise ActionError(
            "A tag is 1 to 32 lowercase letters, digits, - or _ (for example “vip” or "
            "“repeat-caller”)."
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
        raise ActionError(f"A customer has at most {TAGS_MAX} tags; remove one first.")
    if updated:
        Event.objects.create(
            brand_id=thread.brand_id, thread=thread, actor=agent, verb="tagged", detail={"tag": tag}
        )
    return customer


@transaction.atomic(durable=True)
def remove_tag(thread: Thread, tag: str, *, agent: Agent) -> Customer:
    updated = Customer.objects.filter(id=thread.customer_id, tags__contains=[tag]).update(
        tags=Func(F("tags"), Value(tag), function="array_remove", output_field=_TAGS)
    )
    if updated:
        Event.objects.create(
            brand_id=thread.brand_id,
            thread=thread,
            actor=agent,
            verb="untagged",
            detail={"tag": tag},
        )
    return Customer.objects.get(id=thread.customer_id)


_TAGS = ArrayField(models.CharField(max_length=32))


def _fewer_than(n: int) -> models.Q:
    return models.Q(tags__len__lt=n)


@require_POST
@role_required(ANY_EMPLOYEE)
def customer_tags(request: AgentRequest, thread_id: int) -> HttpResponse:
    """Add (`tag`) or remove (`remove`) a tag; htmx gets the tags partial back (200, with
    the error and the typed text kept), a plain form goes back to the thread."""
    thread = queries.access_thread(request.agent, thread_id)
    error, typed = "", request.POST.get("tag", "")[:100]
    try:
        if request.POST.get("remove"):
            customer = remove_tag(thread, request.POST["remove"], agent=request.agent)
        else:
            customer = add_tag(thread, typed, agent=request.agent)
            typed = ""
    except ActionError as exc:
        error, customer = str(exc), Customer.objects.get(id=thread.customer_id)
    if request.htmx:
        context = {"thread": thread, "customer": customer, "tag_error": error, "typed": typed}
        return render(request, "inbox/customer_panel.html#tags", context)
    if error:
        messages.error(request, error)
    return redirect("inbox:thread", thread_id)
