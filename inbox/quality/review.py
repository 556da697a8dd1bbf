"""Answer review: supervisors sample posted answers, score them on a short rubric and leave
feedback their author sees on their profile; the scores feed the dashboard.

1. Only posted answers written by an employee (not auto-replies) are reviewed, once each
   (the database decides two supervisors at once: a unique reply).
2. A supervisor reviews answers of their own brand, and their trainees' practice answers
   (the training brand's: inbox.training), never their own answers.
3. The review is an Event (`answer_reviewed`) in the reviewed thread's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import events
from inbox.errors import ActionError
from inbox.models import AnswerReview, Brand, Channel, Reply, ReplyStatus, Verb
from twelp.prepared import Bound, PreparedRows, together

if TYPE_CHECKING:
    from agents.models import Agent

RUBRIC = (
    ("accuracy", "Right and complete"),
    ("tone", "Human, kind, in the brand's voice"),
    ("policy", "No personal data in public; a DM offered where needed"),
)
SAMPLE_MAX = 50


def _brands_of(reviewer: Agent) -> Q:
    """Threads a supervisor may review answers in: their brand's and its trainees'."""
    return Q(thread__brand_id=reviewer.brand_id) | Q(thread__brand__training_for=reviewer.brand_id)


def sample(
    reviewer: Agent,
    *,
    agent_id: int | None = None,
    days: int = 7,
    channel: str = "",
    count: int = 10,
) -> list[Reply]:
    """Up to `count` posted, unreviewed answers of the reviewer's brand from the last `days`,
    at random (ORDER BY random() over that window: a supervisor's click, not a hot path),
    by one agent or any, on one channel or both; never the reviewer's own."""
    since = timezone.now() - timedelta(days=days)
    rows = Reply.objects.filter(
        thread__brand_id=reviewer.brand_id,
        status=ReplyStatus.POSTED,
        agent__isnull=False,
        posted_at__gte=since,
        review__isnull=True,
    ).exclude(agent_id=reviewer.id)
    if agent_id:
        rows = rows.filter(agent_id=agent_id)
    if channel in Channel.values:
        rows = rows.filter(channel=channel)
    return list(
        rows.select_related("agent", "thread__customer").order_by("?")[: min(count, SAMPLE_MAX)]
    )


def answer_for_review(reviewer: Agent, reply_id: int) -> Reply:
    """The posted answer `reply_id`, if the reviewer may review it; DoesNotExist if not."""
    return (
        Reply.objects.select_related("agent", "thread__customer", "thread__brand", "review")
        .filter(_brands_of(reviewer), status=ReplyStatus.POSTED, agent__isnull=False)
        .get(id=reply_id)
    )


@transaction.atomic(durable=True)
def do_review(
    reply_id: int,
    *,
    reviewer: Agent,
    accuracy: int,
    tone: int,
    policy: int,
    feedback: str = "",
) -> AnswerReview:
    if not reviewer.is_supervisor:
        raise ActionError(_("Only supervisors review answers."))
    reply = answer_for_review(reviewer, reply_id)
    if reply.agent_id == reviewer.id:
        raise ActionError(_("Someone else reviews your own answers."))
    scores = {"accuracy": accuracy, "tone": tone, "policy": policy}
    if not all(1 <= value <= 5 for value in scores.values()):
        raise ActionError(_("Score each line from 1 to 5."))
    try:
        with transaction.atomic():
            review = AnswerReview.objects.create(
                brand_id=reply.thread.brand_id,
                reply=reply,
                agent_id=reply.agent_id,
                reviewer=reviewer,
                feedback=feedback.strip()[:1000],
                **scores,
            )
    except IntegrityError:
        raise ActionError(_("This answer has been reviewed already.")) from None
    events.record(
        Verb.ANSWER_REVIEWED,
        thread=reply.thread,
        actor=reviewer,
        reply=reply.id,
        agent=reply.agent_id,
        **scores,
    )
    return review


def reviews_of(agent: Agent, limit: int = 20) -> list[AnswerReview]:
    """The latest reviews of the agent's answers, for their profile."""
    return list(
        AnswerReview.objects.filter(agent=agent)
        .select_related("reviewer", "reply__thread__customer")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class Scores:
    reviews: int
    accuracy: float | None
    tone: float | None
    policy: float | None
    agents: list[dict]  # per agent: name, reviews, the three averages


_PER_AGENT = PreparedRows(
    lambda brand_id, since: (
        AnswerReview.objects.filter(brand_id=brand_id, created_at__gte=since)
        .values("agent_id", "agent__name")
        .annotate(n=Count("id"), accuracy=Avg("accuracy"), tone=Avg("tone"), policy=Avg("policy"))
        .order_by("agent__name", "agent_id")
    ),
    times=1,
    convert=True,
)


def scores(brand: Brand, since: datetime) -> Scores:
    """Review averages of the brand since `since`, per agent and overall: one query over
    answerreview_brand (the overall figures are summed from the agents' rows)."""
    return together(scores_read(brand, since))[0]


def scores_read(brand: Brand, since: datetime) -> Bound:
    """`scores` as a read (twelp.prepared.together: the dashboard reads it with its own);
    its SQL built once per process."""
    return _PER_AGENT.bound_dicts(brand.id, since).then(_scores)


def _scores(per_agent: list[dict]) -> Scores:
    total = sum(row["n"] for row in per_agent)

    def overall(name: str) -> float | None:
        return sum(row[name] * row["n"] for row in per_agent) / total if total else None

    return Scores(total, overall("accuracy"), overall("tone"), overall("policy"), per_agent)
