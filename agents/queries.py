"""Reads about employees: duplicates, the team page, a profile's credits and claims.
Lists use keyset pagination over an index in their order; never OFFSET or COUNT(*)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet

from agents.models import Agent, AgentState
from inbox.models import Brand, Reply, ReplyStatus, Thread, ThreadStatus
from inbox.rules import keyset

PAGE_SIZE = 50


def find_duplicates(
    brand: Brand,
    *,
    employee_id: str,
    email: str,
    x_handle: str,
    x_user_id: int | None = None,
) -> dict[str, str]:
    """{field: message} for each value another employee (or login) already has."""
    errors = {}
    agents = Agent.objects.filter(brand=brand)
    if (
        agents.filter(employee_id__iexact=employee_id).exists()
        or User.objects.filter(username__iexact=employee_id).exists()
    ):
        errors["employee_id"] = f"Employee id {employee_id} is already registered."
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = f"{email} is already registered. Forgot your password? Reset it."
    if agents.filter(x_handle__iexact=x_handle).exists() or (
        x_user_id is not None and agents.filter(x_user_id=x_user_id).exists()
    ):
        errors["x_handle"] = f"@{x_handle} is already registered to an employee."
    return errors


def pending_registrations(brand: Brand, limit: int = 500) -> list[Agent]:
    """Oldest first: whoever has waited longest is approved first."""
    rows = Agent.objects.filter(brand=brand, state=AgentState.PENDING).select_related("user")
    return list(rows.order_by("created_at", "id")[:limit])


@dataclass(frozen=True)
class NameCursor:
    """The last row of a team page: (name, id)."""

    name: str
    id: int

    def encode(self) -> str:
        return keyset.encode(self.name, self.id)

    @classmethod
    def decode(cls, value: str) -> NameCursor | None:
        position = keyset.decode(value, str, int)
        return cls(*position) if position else None  # type: ignore[arg-type]


def team_page(
    brand: Brand, state: str, after: NameCursor | None = None
) -> tuple[list[Agent], NameCursor | None]:
    """One page of the brand's employees in one state, by name (index agent_team_order)."""
    rows = Agent.objects.filter(brand=brand, state=state).order_by("name", "id")
    if after is not None:
        rows = rows.filter(Q(name__gt=after.name) | Q(name=after.name, id__gt=after.id))
    page = list(rows[: PAGE_SIZE + 1])
    if len(page) <= PAGE_SIZE:
        return page, None
    last = page[PAGE_SIZE - 1]
    return page[:PAGE_SIZE], NameCursor(last.name, last.id)


@dataclass(frozen=True)
class TimeCursor:
    """The last row of a credits page: (posted_at desc, id desc)."""

    at: datetime
    id: int

    def encode(self) -> str:
        return keyset.encode(self.at, self.id)

    @classmethod
    def decode(cls, value: str) -> TimeCursor | None:
        position = keyset.decode(value, datetime, int)
        return cls(*position) if position else None  # type: ignore[arg-type]


def credits_page(
    agent: Agent, after: TimeCursor | None = None
) -> tuple[list[Reply], TimeCursor | None]:
    """The replies posted from the brand account in the agent's name, newest first
    (index reply_agent_credits). A deactivated employee's credits stay theirs."""
    rows: QuerySet[Reply] = (
        Reply.objects.filter(agent=agent, status=ReplyStatus.POSTED)
        .select_related("thread__customer")
        .order_by("-posted_at", "-id")
    )
    if after is not None:
        rows = rows.filter(Q(posted_at__lt=after.at) | Q(posted_at=after.at, id__lt=after.id))
    page = list(rows[: PAGE_SIZE + 1])
    if len(page) <= PAGE_SIZE:
        return page, None
    last = page[PAGE_SIZE - 1]
    return page[:PAGE_SIZE], TimeCursor(last.posted_at, last.id)  # type: ignore[arg-type]


def open_claims(agent: Agent) -> list[Thread]:
    """The threads the agent holds now (index thread_claims); a handful at most."""
    rows = Thread.objects.filter(claimed_by=agent, status=ThreadStatus.CLAIMED)
    return list(rows.select_related("customer").order_by("claim_expires_at", "id")[:100])


def registration_brand() -> Brand | None:
    """The brand a self-registration joins. Twelp runs one brand account per deployment;
    should there ever be several, the oldest takes registrations."""
    return Brand.objects.order_by("id").first()


def trainees(brand: Brand) -> list[Agent]:
    """The live brand's trainees (Agent rows in its training brand), with what they have
    practised: replies posted and threads closed, counted in one query."""
    return list(
        Agent.objects.filter(brand__training_for=brand, state=AgentState.ACTIVE)
        .annotate(
            practice_posted=Count("replies", filter=Q(replies__status=ReplyStatus.POSTED)),
        )
        .order_by("name", "id")[:500]
    )


PRACTICE_THREADS = 20


def practice_threads(trainee: Agent) -> list[Thread]:
    """The latest training threads the trainee wrote a reply in (their brand is the
    training brand), newest first."""
    return list(
        Thread.objects.filter(
            brand_id=trainee.brand_id,
            id__in=Reply.objects.filter(agent=trainee).values("thread_id"),
        )
        .select_related("customer", "brand")
        .order_by("-updated_at", "-id")[:PRACTICE_THREADS]
    )


def mentions_of(agent: Agent, limit: int = 20) -> list:
    """The latest internal notes that @mention the agent, with their thread and author."""
    return list(
        agent.mentioned_in.select_related("thread__customer", "agent").order_by(
            "-created_at", "-id"
        )[:limit]
    )


def refused_x_claims(brand: Brand, limit: int = 20) -> list:
    """The latest Sign-in-with-X callbacks refused because another employee holds that X
    account (agents.xlink), for the supervisors' team page."""
    from inbox.models import Event, Verb

    rows = Event.objects.filter(brand=brand, verb=Verb.X_CLAIM_REFUSED).select_related("actor")
    return list(rows.order_by("-at", "-id")[:limit])


def refused_sign_ins(brand: Brand, limit: int = 20) -> list:
    """The latest refused company sign-ins and sessions the provider disowned (agents.sso),
    for the supervisors' team page."""
    from inbox.models import Event, Verb

    rows = Event.objects.filter(brand=brand, verb=Verb.SSO_REFUSED).select_related("actor")
    return list(rows.order_by("-at", "-id")[:limit])
