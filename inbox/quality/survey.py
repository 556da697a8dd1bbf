"""Satisfaction after close: optional per brand (Brand.survey_enabled). When an agent closes
a thread, the customer gets one DM with a signed one-time link to a public page asking one
question (1-5, and a comment if they like). No login.

1. Only by DM, and never one X would refuse (X takes the brand's DM when the customer
   wrote to it, follows it, or accepts DMs from anyone):
   a. the customer has written to the brand by DM (an inbound message in one of their DM
      threads): the survey goes into that conversation at once. A DM thread we opened
      ourselves (a move to DM) proves nothing and does not count;
   b. otherwise, after commit, inbox.outbox.surveys asks X (user field `receives_your_dm`,
      as the brand) and queues the DM only on a plain yes; no, or X not saying, sends
      nothing.
2. The DM is an outbox row (a Reply with no agent, on the DM conversation, else on a DM
   thread made closed for it: inbox.actions.unasked_dm_thread) posted as replies are:
   within the handle's DM budget (the outbox holds rows while X's window is spent),
   exactly once. And a survey never takes a DM an answer needs: none is queued unless
   the day's DM budget has more than SURVEY_DM_RESERVE calls left beyond the DMs
   already waiting.
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
from django.db.models import Avg, Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import budgets, events, schedule
from inbox.errors import ActionError
from inbox.models import Brand, Channel, Message, Reply, Survey, Thread, Verb
from inbox.rules.budget import DMS
from twelp.prepared import Bound, PreparedRows, together

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


def conversation(thread: Thread) -> Thread | None:
    """The customer's latest DM thread in which they wrote to the brand (rule 1a)."""
    wrote = Message.objects.filter(thread=OuterRef("pk"), direction=Message.Direction.IN)
    return (
        Thread.objects.filter(
            brand_id=thread.brand_id, channel=Channel.DM, customer_id=thread.customer_id
        )
        .filter(Exists(wrote))
        .order_by("-created_at", "-id")
        .first()
    )


def eligible(thread: Thread) -> bool:
    """The brand asks, someone answered, and the customer had no survey lately (rule 3)."""
    brand = thread.brand
    if not brand.survey_enabled or brand.is_training or thread.last_answered_by_id is None:
        return False
    since = timezone.now() - timedelta(days=link_days())
    return not Survey.objects.filter(customer_id=thread.customer_id, created_at__gte=since).exists()


def dm_budget_spare(brand: Brand) -> bool:
    """Rule 2: the day's DM budget has more than SURVEY_DM_RESERVE calls beyond the DMs
    already waiting (three reads)."""
    view = next(b for b in budgets.budgets(brand, timezone.now()) if b.kind == DMS)
    return view.day_left - view.waiting > settings.SURVEY_DM_RESERVE


def on_close(thread: Thread, *, agent: Agent) -> Survey | None:
    """In the close's transaction: the survey and its DM, if the brand asks and the rules
    above allow; else None. With no conversation, X is asked after commit (rule 1b)."""
    if not eligible(thread):
        return None
    dm = conversation(thread)
    if dm is None:
        schedule.offer_survey(thread.id)
        return None
    if not dm_budget_spare(thread.brand):
        return None
    return send(thread, dm)


def send(thread: Thread, dm: Thread) -> Survey:
    """The survey, and its DM queued on the DM thread `dm`."""
    survey = Survey.objects.create(
        brand_id=thread.brand_id,
        thread=thread,
        customer_id=thread.customer_id,
        agent_id=thread.last_answered_by_id,
    )
    text = f"{QUESTION} {url_for(survey)}"
    latest_in = (
        Message.objects.filter(thread=dm, direction=Message.Direction.IN, channel=Channel.DM)
        .order_by("-sent_at", "-x_id")
        .first()
    )
    reply = Reply.objects.create(
        thread=dm, in_reply_to=latest_in, agent=None, channel=Channel.DM, text=text, body=text
    )
    survey.reply = reply
    survey.save(update_fields=["reply"])
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
        raise LinkRefused(_("This link has expired. Thank you all the same.")) from None
    except signing.BadSignature:
        raise LinkRefused(_("This link is not valid.")) from None
    survey = Survey.objects.select_related("brand").filter(id=survey_id).first()
    if survey is None or not isinstance(survey_id, int):
        raise LinkRefused(_("This link is not valid."))
    return survey


@transaction.atomic(durable=True)
def answer(link: str, *, score: int, comment: str = "") -> Survey:
    """Record the customer's answer, once."""
    survey = survey_for(link)
    if not 1 <= score <= 5:
        raise ActionError(_("Choose from 1 to 5."))
    now = timezone.now()
    recorded = Survey.objects.filter(id=survey.id, answered_at__isnull=True).update(
        answered_at=now, score=score, comment=comment.strip()[:1000]
    )
    if not recorded:
        raise LinkRefused(_("This survey has been answered already. Thank you!"))
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


def _per_agent(brand_id: int, since: datetime, until: datetime):
    in_window = Q(answered_at__gte=since, answered_at__lt=until)
    was_sent = Q(created_at__gte=since, created_at__lt=until)
    return (
        Survey.objects.filter(in_window | was_sent, brand_id=brand_id)
        .values("agent_id", "agent__name")
        .annotate(
            sent=Count("id", filter=was_sent),
            answered=Count("id", filter=in_window),
            average=Avg("score", filter=in_window),
            satisfied=Count("id", filter=in_window & Q(score__gte=4)),
        )
        .order_by("agent__name", "agent_id")
    )


def _per_day(tz: ZoneInfo) -> PreparedRows:
    def build(brand_id: int, since: datetime, until: datetime):
        return (
            Survey.objects.filter(answered_at__gte=since, answered_at__lt=until, brand_id=brand_id)
            .annotate(day=TruncDate("answered_at", tzinfo=tz))
            .values("day")
            .annotate(
                answered=Count("id"),
                average=Avg("score"),
                satisfied=Count("id", filter=Q(score__gte=4)),
            )
            .order_by("day")
        )

    return PreparedRows(build, times=2, convert=True)


# The dashboard reads these on every render: their SQL built once per process (per brand
# time zone for the days: the zone is part of the SQL's parameters).
_PER_AGENT = PreparedRows(_per_agent, times=2, convert=True)
_PER_DAY: dict[str, PreparedRows] = {}


def results(brand: Brand, since: datetime, until: datetime) -> Results:
    """Answers received in [since, until) for the team (every agent of the brand), each
    agent and each day in the brand's time zone, and the surveys sent in it: two queries
    (per agent, with the sent count beside; per day); the team's figures are the agents'
    rows summed."""
    agents, days = together(*results_reads(brand, since, until))
    return results_of(since, until, agents, days)


def results_reads(brand: Brand, since: datetime, until: datetime) -> tuple[Bound, Bound]:
    """`results` as two reads (twelp.prepared.together: the dashboard reads them with its
    own), their SQL built once per process; `results_of` makes the Results of theirs."""
    try:
        tz = ZoneInfo(brand.timezone or "UTC")
    except (ValueError, KeyError):
        tz = ZoneInfo("UTC")
    per_day = _PER_DAY.get(tz.key)
    if per_day is None:
        per_day = _PER_DAY.setdefault(tz.key, _per_day(tz))
    return (
        _PER_AGENT.bound_dicts(brand.id, since, until),
        per_day.bound_dicts(brand.id, since, until),
    )


def results_of(since: datetime, until: datetime, rows: list[dict], days: list[dict]) -> Results:
    sent = sum(row.pop("sent") for row in rows)
    agents = [row for row in rows if row["answered"]]
    answered = sum(row["answered"] for row in agents)
    average = sum(r["average"] * r["answered"] for r in agents) / answered if answered else None
    satisfied = sum(row["satisfied"] for row in agents)
    return Results(since, until, sent, answered, average, satisfied, agents, days)
