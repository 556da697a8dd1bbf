"""Satisfaction after close: optional per brand (Brand.survey_enabled). When an agent closes
a thread, the customer gets one DM with a signed one-time link to a public page asking one
question (1-5, and a comment if they like). No login.

1. Only by DM, and only where a DM conversation with the customer exists already (the
   closed thread is one, or the customer has a DM thread with the brand): never a cold DM.
   (Whether a customer accepts DMs from anyone is not known to Twelp: X's user field
   `receives_your_dm` is not fetched, so that case sends nothing.)
2. The DM is an outbox row (a Reply with no agent, on the DM thread) queued in the close's
   transaction and posted as replies are: within the handle's DM budget (the outbox holds
   rows while X's window is spent), exactly once.
3. At most one survey per customer per SURVEY_LINK_DAYS, and only for a thread someone
   answered: a closed conversation with no answer asks nothing.
4. The link is the survey's id signed with SECRET_KEY (django.core.signing, salted) and
   valid SURVEY_LINK_DAYS. A forged, altered or expired link records nothing; an answered
   survey is answered once (a conditional UPDATE: two submits at once record one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from inbox import events, schedule
from inbox.errors import ActionError
from inbox.models import Brand, Channel, Message, Reply, Survey, Thread, Verb

if TYPE_CHECKING:
    from agents.models import Agent

SALT = "twelp.survey"
QUESTION = "How did we do? Tap to rate your conversation with us (1-5):"


def link_days() -> int:
    return settings.SURVEY_LINK_DAYS


def token_for(survey: Survey) -> str:
    return signing.dumps(survey.id, salt=SALT, compress=False)


def url_for(survey: Survey) -> str:
    path = reverse("survey", kwargs={"link": token_for(survey)})
    return settings.SITE_URL.rstrip("/") + path


def _dm_thread(thread: Thread) -> Thread | None:
    if thread.channel == Channel.DM:
        return thread
    return (
        Thread.objects.filter(
            brand_id=thread.brand_id,
            channel=Channel.DM,
            conversation_id=thread.customer.x_user_id,
        )
        .order_by("-created_at")
        .first()
    )


def on_close(thread: Thread, *, agent: Agent) -> Survey | None:
    """In the close's transaction: the survey and its DM, if the brand asks and the rules
    above allow; else None."""
    brand = thread.brand
    if not brand.survey_enabled or brand.is_training or thread.last_answered_by_id is None:
        return None
    since = timezone.now() - timedelta(days=link_days())
    if Survey.objects.filter(customer_id=thread.customer_id, created_at__gte=since).exists():
        return None
    dm = _dm_thread(thread)
    if dm is None:
        return None
    survey = Survey.objects.create(
        brand_id=thread.brand_id,
        thread=thread,
        customer_id=thread.customer_id,
        agent_id=thread.last_answered_by_id,
    )
    text = f"{QUESTION} {url_for(survey)}"
    latest_in = (
        Message.objects.filter(thread=dm, direction=Message.Direction.IN)
        .order_by("-sent_at", "-x_id")
        .first()
    )
    reply = Reply.objects.create(
        thread=dm, in_reply_to=latest_in, agent=None, channel=Channel.DM, text=text, body=text
    )
    Survey.objects.filter(id=survey.id).update(reply=reply)
    events.record(Verb.SURVEY_SENT, thread=thread, actor=None, survey=survey.id, reply=reply.id)
    schedule.post_reply(reply.id)
    return survey


class LinkRefused(ActionError):
    """A forged, altered, expired or used link: nothing recorded."""


def survey_for(link: str) -> Survey:
    """The survey a link names, if the link is genuine and not expired; LinkRefused if not."""
    try:
        survey_id = signing.loads(link, salt=SALT, max_age=timedelta(days=link_days()))
    except signing.SignatureExpired:
        raise LinkRefused("This link has expired. Thank you all the same.") from None
    except signing.BadSignature:
        raise LinkRefused("This link is not valid.") from None
    survey = Survey.objects.select_related("brand").filter(id=survey_id).first()
    if survey is None or not isinstance(survey_id, int):
        raise LinkRefused("This link is not valid.")
    return survey


@transaction.atomic(durable=True)
def answer(link: str, *, score: int, comment: str = "") -> Survey:
    """Record the customer's answer, once."""
    survey = survey_for(link)
    if not 1 <= score <= 5:
        raise ActionError("Choose from 1 to 5.")
    now = timezone.now()
    recorded = Survey.objects.filter(id=survey.id, answered_at__isnull=True).update(
        answered_at=now, score=score, comment=comment.strip()[:1000]
    )
    if not recorded:
        raise LinkRefused("This survey has been answered already. Thank you!")
    thread = Thread.objects.get(id=survey.thread_id)
    events.record(
        Verb.SURVEY_ANSWERED,
        thread=thread,
        actor=None,
        survey=survey.id,
        agent=survey.agent_id,
        score=score,
    )
    survey.refresh_from_db()
    return survey


# --- results: per agent, for the team, per day ----------------------------------------------


@dataclass(frozen=True)
class Results:
    since: datetime
    until: datetime
    sent: int
    answered: int
    average: float | None
    satisfied: int  # scored 4 or 5
    agents: list[dict]  # agent_id, agent__name, answered, average, satisfied
    days: list[dict]  # day (the brand's), answered, average, satisfied


def results(brand: Brand, since: datetime, until: datetime) -> Results:
    """Answers received in [since, until) for the team (every agent of the brand), each
    agent and each day in the brand's time zone, and the surveys sent in it: two queries
    (per agent, with the sent count beside; per day); the team's figures are the agents'
    rows summed."""
    in_window = Q(answered_at__gte=since, answered_at__lt=until)
    was_sent = Q(created_at__gte=since, created_at__lt=until)
    rows = list(
        Survey.objects.filter(in_window | was_sent, brand=brand)
        .values("agent_id", "agent__name")
        .annotate(
            sent=Count("id", filter=was_sent),
            answered=Count("id", filter=in_window),
            average=Avg("score", filter=in_window),
            satisfied=Count("id", filter=in_window & Q(score__gte=4)),
        )
        .order_by("agent__name", "agent_id")
    )
    sent = sum(row.pop("sent") for row in rows)
    agents = [row for row in rows if row["answered"]]
    answered = sum(row["answered"] for row in agents)
    average = sum(r["average"] * r["answered"] for r in agents) / answered if answered else None
    try:
        tz = ZoneInfo(brand.timezone or "UTC")
    except (ValueError, KeyError):
        tz = ZoneInfo("UTC")
    days = list(
        Survey.objects.filter(in_window, brand=brand)
        .annotate(day=TruncDate("answered_at", tzinfo=tz))
        .values("day")
        .annotate(
            answered=Count("id"),
            average=Avg("score"),
            satisfied=Count("id", filter=Q(score__gte=4)),
        )
        .order_by("day")
    )
    satisfied = sum(row["satisfied"] for row in agents)
    return Results(since, until, sent, answered, average, satisfied, agents, days)
