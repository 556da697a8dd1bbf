"""What the API answers and accepts (pydantic, through django-ninja's Schema)."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema


class AgentOut(Schema):
    id: int
    name: str
    credit_code: str


class CustomerBrief(Schema):
    id: int
    x_user_id: int
    handle: str
    name: str


class CustomerOut(CustomerBrief):
    followers_count: int
    verified: bool
    description: str
    tags: list[str]
    created_at: datetime


class ThreadOut(Schema):
    id: int
    status: str
    channel: str
    priority: int
    sentiment: float | None
    preview: str
    customer: CustomerBrief
    claimed_by: AgentOut | None
    source_id: int | None
    conversation_id: int
    waiting_since: datetime
    first_response_at: datetime | None
    closed_at: datetime | None
    created_at: datetime


class MessageOut(Schema):
    x_id: int
    direction: str
    channel: str
    author_x_id: int
    text: str
    in_reply_to_x_id: int | None
    sent_at: datetime


class ReplyOut(Schema):
    id: int
    status: str
    channel: str
    text: str
    body: str
    agent: AgentOut | None
    posted_x_id: int | None
    created_at: datetime
    posted_at: datetime | None


class NoteOut(Schema):
    id: int
    text: str
    agent: AgentOut
    created_at: datetime


class ThreadDetail(ThreadOut):
    messages: list[MessageOut]
    replies: list[ReplyOut]
    notes: list[NoteOut]


class ThreadPage(Schema):
    threads: list[ThreadOut]
    next: str | None = Field(description="Pass as `after` for the next page; null at the end.")


class CustomerPage(Schema):
    customers: list[CustomerOut]
    next: str | None


class EventOut(Schema):
    id: int
    verb: str
    at: datetime
    thread_id: int | None
    actor_id: int | None
    detail: dict


class EventPage(Schema):
    events: list[EventOut]
    last_id: int | None = Field(description="Pass as `after` to read on; null: none yet.")


class SatisfactionRow(Schema):
    answered: int
    average: float | None
    satisfied: int = Field(description="Answers scoring 4 or 5.")


class AgentSatisfaction(SatisfactionRow):
    agent_id: int | None
    agent_name: str | None


class DaySatisfaction(SatisfactionRow):
    day: date = Field(description="In the brand's time zone.")


class SatisfactionOut(Schema):
    since: datetime
    until: datetime
    sent: int
    team: SatisfactionRow
    agents: list[AgentSatisfaction]
    days: list[DaySatisfaction]


class NoteIn(Schema):
    text: str = Field(min_length=1, max_length=2000)


class TagIn(Schema):
    tag: str = Field(min_length=1, max_length=40)


class TagsOut(Schema):
    customer_id: int
    tags: list[str]


class ThreadRef(Schema):
    id: int
    status: str
    channel: str


class HitOut(Schema):
    kind: str = Field(description="message (a customer's), reply (ours) or note (internal).")
    id: int = Field(description="The message's, reply's or note's id (unique per kind).")
    at: datetime
    text: str = Field(description="As written: untrusted text, escape it where you show it.")
    author: str = Field(description="@handle of the customer, or the employee's name.")
    thread: ThreadRef
    customer: CustomerBrief


class SearchPage(Schema):
    hits: list[HitOut] = Field(description="Newest first, 25 a page.")
    customers: list[CustomerBrief] = Field(
        description="Customers whose handle, name or tags match (first page only)."
    )
    next: str | None = Field(description="Pass as `after` for the next page; null at the end.")
