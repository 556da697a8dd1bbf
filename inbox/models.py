"""The queue's data. Guarantees live in the database: unique X ids, one live thread per
conversation, one posted tweet per reply. Only inbox.actions changes a Thread's status."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy

# The text search configuration of inbox.search and of the GIN indexes it reads: English
# stemming ("arrived" finds "arrive"); words of other languages are matched as they are.
SEARCH_CONFIG = "english"


def searchable_text() -> models.GeneratedField:
    """A row's `text` as a tsvector, stored (issue 17): search tests it without parsing the
    text again (a phrase's recheck, a newest-first walk), and PostgreSQL keeps statistics
    of its words, so a rare word's plan reads the GIN index. Never written by Twelp."""
    return models.GeneratedField(
        expression=SearchVector("text", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )


class Channel(models.TextChoices):
    TWEET = "tweet", gettext_lazy("Public tweet")
    DM = "dm", gettext_lazy("Direct message")


class Brand(models.Model):
    """The one X account that posts every answer."""

    class CreditFormat(models.TextChoices):
        CARET = "caret", gettext_lazy("^ + credit code (^JD)")
        HANDLE = "handle", gettext_lazy("— @employee handle")

    name = models.CharField(max_length=100)
    handle = models.CharField(max_length=15, unique=True, help_text=gettext_lazy("Without @."))
    x_user_id = models.BigIntegerField(unique=True)
    credit_format = models.CharField(
        max_length=16, choices=CreditFormat.choices, default=CreditFormat.CARET
    )
    timezone = models.CharField(max_length=64, default="UTC")
    # {"mon": [["09:00", "17:00"]], ...}; empty means always open.
    business_hours = models.JSONField(default=dict, blank=True)
    auto_reply_enabled = models.BooleanField(default=False)
    auto_reply_text = models.CharField(max_length=280, blank=True)
    sla_first_response = models.DurationField(default=timedelta(minutes=15))
    sla_resolution = models.DurationField(default=timedelta(hours=4))
    employee_id_pattern = models.CharField(
        max_length=200,
        default=r"^[A-Za-z0-9-]{3,32}$",
        help_text=gettext_lazy("A regular expression."),
    )
    relay_hashtag = models.CharField(max_length=50, blank=True)

    class XAccess(models.TextChoices):
        SELF_SERVE = "self_serve", gettext_lazy("Self-serve (pay-per-use, Basic, Pro)")
        ENTERPRISE = "enterprise", gettext_lazy("Enterprise")

    # Since 23 Feb 2026 X lets a self-serve app reply in public only to a post whose author
    # mentioned or quoted the brand (inbox.rules.summons); Enterprise is exempt.
    x_access = models.CharField(
        max_length=16, choices=XAccess.choices, default=XAccess.SELF_SERVE, verbose_name="X access"
    )
    # Satisfaction after close (inbox.quality.survey): one DM with a one-question link.
    survey_enabled = models.BooleanField(default=False, db_default=False)
    urgent_keywords = models.JSONField(default=list, blank=True)
    # Routing and capacity (inbox.routing): how many threads an agent may hold at once
    # (Agent.max_held overrides it), and how long a thread in a language waits for a
    # speaker of it before anyone's "claim next" may take it.
    max_held = models.PositiveSmallIntegerField(default=5, db_default=5)
    language_wait = models.DurationField(
        default=timedelta(minutes=10), db_default=timedelta(minutes=10)
    )
    # Set on a training brand (inbox/training.py): its account lives only in the X sandbox,
    # and trainees' Agent rows belong to it until a supervisor marks them ready.
    training_for = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="training_brand"
    )
    # How long the daily retention sweep (inbox.data.retention) keeps each kind of data;
    # empty means the deployment's default (RETENTION_* settings).
    retain_closed_threads = models.DurationField(
        null=True,
        blank=True,
        help_text=gettext_lazy("Closed threads' messages and notes; then anonymised."),
    )
    retain_raw_payloads = models.DurationField(
        null=True, blank=True, help_text=gettext_lazy("X's raw JSON of each message; then emptied.")
    )
    retain_quarantine = models.DurationField(
        null=True, blank=True, help_text=gettext_lazy("Payloads X sent that Twelp could not use.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"@{self.handle}"

    @property
    def is_training(self) -> bool:
        return self.training_for_id is not None


class PostingBudget(models.Model):
    """X's budget for one brand account and one kind of call (posts and DMs are counted
    apart): what is left of the 15-minute and the 24-hour window and when each resets,
    from X's headers, clamped (inbox.rules.budget). Written only by inbox.outbox.budget;
    no reset time means no window is open."""

    class Kind(models.TextChoices):
        TWEETS = "tweets", gettext_lazy("Posts")
        DMS = "dms", gettext_lazy("Direct messages")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="budgets")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    limit = models.PositiveIntegerField()
    remaining = models.PositiveIntegerField()
    reset_at = models.DateTimeField(null=True, blank=True)
    day_limit = models.PositiveIntegerField()
    day_remaining = models.PositiveIntegerField()
    day_reset_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "kind"], name="postingbudget_uniq"),
            models.CheckConstraint(
                condition=Q(remaining__lte=models.F("limit"))
                & Q(day_remaining__lte=models.F("day_limit")),
                name="postingbudget_remaining_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand_id} {self.kind}: {self.remaining}/{self.limit}"


class Source(models.Model):
    """One thing to poll: the brand's mentions, or a listening query."""

    class Kind(models.TextChoices):
        MENTIONS = "mentions", gettext_lazy("Mentions")
        SEARCH = "search", gettext_lazy("Listening query")
        DMS = "dms", gettext_lazy("Direct messages")
        # Employees' own tweets carrying the brand's relay hashtag (inbox.ingest.relay).
        RELAY = "relay", gettext_lazy("Relay hashtag")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    query = models.CharField(max_length=512, blank=True)
    active = models.BooleanField(default=True)
    since_id = models.BigIntegerField(null=True, blank=True)
    poll_interval = models.DurationField(default=timedelta(seconds=15))
    next_poll_after = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # in English: operators, logs, metrics
    # The same reason as data (inbox.rules.reasons): pages render it in the reader's language.
    last_reason = models.JSONField(null=True, blank=True)
    rate_limited_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "kind", "query"], name="source_uniq"),
            models.CheckConstraint(
                condition=Q(kind="search") | Q(query=""), name="source_query_only_for_search"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.query}" if self.query else self.get_kind_display()


class Customer(models.Model):
    """An X user who wrote to the brand."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="customers")
    x_user_id = models.BigIntegerField()
    handle = models.CharField(max_length=15)
    name = models.CharField(max_length=100, blank=True)
    followers_count = models.PositiveIntegerField(default=0)
    verified = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    profile_image_url = models.URLField(blank=True)
    # Short lowercase slugs agents put on the customer (inbox.customers).
    # db_default: rows inserted by raw SQL (bench seeds) get an empty list too.
    tags = ArrayField(
        models.CharField(max_length=32), default=list, db_default=Value([]), blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when an admin erased the customer (inbox.data.erasure): the row stays, so do their
    # threads and the audit, but it holds nothing personal (ERASED_HANDLE, x_user_id < 0).
    erased_at = models.DateTimeField(null=True, blank=True)
    # Why X says the account's content must not be shown (protected, suspended, withheld:
    # inbox.data.compliance), else empty.
    x_hidden = models.CharField(max_length=16, blank=True, default="", db_default="")

    ERASED_HANDLE = "erased"
    ERASED_NAME = "erased customer"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "x_user_id"], name="customer_x_user_uniq")
        ]
        indexes = [GinIndex(fields=["tags"], name="customer_tags")]

    def __str__(self) -> str:
        return self.ERASED_NAME if self.erased_at else f"@{self.handle}"


class ThreadStatus(models.TextChoices):
    OPEN = "open", gettext_lazy("Open")
    CLAIMED = "claimed", gettext_lazy("Claimed")
    ANSWERED = "answered", gettext_lazy("Answered")
    CLOSED = "closed", gettext_lazy("Closed")


class Thread(models.Model):
    """One conversation with one customer on one channel (X conversation_id)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="threads")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="threads")
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="threads"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.TWEET)
    conversation_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=ThreadStatus.choices, default="open")
    # The team (inbox.routing) whose agents work it; None is the brand's default team.
    team = models.ForeignKey(
        "Team", null=True, blank=True, on_delete=models.PROTECT, related_name="threads"
    )
    # X's `lang` of the customer's latest message that had one ("" when X did not know).
    lang = models.CharField(max_length=8, blank=True, default="", db_default="")
    priority = models.IntegerField(default=0)
    # The mood (inbox.rules.triage, in VADER's range) and the intent of the customer's
    # most pressing words while waiting (complaint over question over praise over other).
    sentiment = models.FloatField(null=True, blank=True)
    intent = models.CharField(max_length=12, blank=True, db_default="", default="")
    claimed_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="claims"
    )
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    # Claimed again by its last answerer for a follow-up (inbox.actions.do_claim_follow_up):
    # a release or an expired lease hands it back answered, not to the queue.
    follow_up = models.BooleanField(default=False, db_default=False)
    # Who answered last: a customer who writes again is offered to them first, until
    # offer_expires_at; then anyone's "claim next" may take it.
    last_answered_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offered_to = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="offers"
    )
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    # Issue 15: when it was assigned to its holder by auto-assignment (inbox.routing.assign)
    # and not yet opened by them; such an "unstarted" claim goes back to the queue when
    # they go away. Every other way of taking a thread sets it to None.
    assigned_at = models.DateTimeField(null=True, blank=True)
    # A customer who joined another's conversation (replies to a viral tweet) has a thread
    # of their own, linked to the conversation's first thread (inbox.ingest.store).
    joined = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="joiners"
    )
    # The customer's latest words, so the queue lists them without reading messages.
    preview = models.CharField(max_length=280, blank=True)
    # Since when the customer has been waiting for us (their oldest unanswered message).
    waiting_since = models.DateTimeField(default=timezone.now)
    # The offer order's key (inbox.routing.offer): waiting_since moved earlier by
    # PRIORITY_SECONDS per priority point. Kept by a trigger (migration 0016_routing) on
    # every INSERT and every change of priority or waiting_since, whoever writes the row.
    offer_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_response_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the retention sweep last emptied it (its messages and notes removed); a thread
    # reopened since (closed_at later) is swept again once it is old enough.
    purged_at = models.DateTimeField(null=True, blank=True)
    # Why X says its customer's content must not be shown (protected, suspended, withheld:
    # inbox.data.compliance); set, the thread stays out of the queue and public stream.
    x_hidden = models.CharField(max_length=16, blank=True, default="", db_default="")

    class Meta:
        constraints = [
            # At most one live thread per customer of a conversation; a closed one may be
            # reopened.
            models.UniqueConstraint(
                fields=["brand", "channel", "conversation_id", "customer"],
                condition=~Q(status="closed"),
                name="thread_one_live_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(status="claimed", claimed_by__isnull=False)
                | (~Q(status="claimed") & Q(claimed_by__isnull=True)),
                name="thread_claimed_iff_claimed_by",
            ),
        ]
        indexes = [
            # The queue's order: most urgent first, then longest waiting (keyset pagination).
            models.Index(
                "brand",
                "status",
                models.F("priority").desc(),
                "waiting_since",
                "id",
                name="thread_queue_order",
            ),
            models.Index(fields=["claimed_by", "status"], name="thread_claims"),
            # "Claim next": the offer order (inbox.routing.offer), then the breached
            # first-response targets, oldest first.
            models.Index(
                fields=["brand", "offer_at", "id"],
                condition=Q(status="open"),
                name="thread_offer_order",
            ),
            models.Index(
                fields=["brand", "waiting_since", "id"],
                condition=Q(status="open"),
                name="thread_open_waiting",
            ),
            # The same two orders, one range per team (COALESCE(team, 0): 0 is no team),
            # for an agent in teams (inbox.actions._CLAIM_NEXT).
            models.Index(
                F("brand"),
                Coalesce("team", Value(0), output_field=models.BigIntegerField()),
                F("offer_at"),
                F("id"),
                condition=Q(status="open"),
                name="thread_team_offer_order",
            ),
            models.Index(
                F("brand"),
                Coalesce("team", Value(0), output_field=models.BigIntegerField()),
                F("waiting_since"),
                F("id"),
                condition=Q(status="open"),
                name="thread_team_open_waiting",
            ),
            models.Index(fields=["team"], condition=Q(team__isnull=False), name="thread_team"),
            models.Index(
                fields=["offered_to"],
                condition=Q(status="open", offered_to__isnull=False),
                name="thread_offers",
            ),
            models.Index(
                fields=["claim_expires_at"],
                condition=Q(status="claimed"),
                name="thread_claim_leases",
            ),
            models.Index(fields=["customer", "-created_at"], name="thread_customer_history"),
            # The poller's lookup of a page's conversations, closed ones included.
            models.Index(
                fields=["brand", "channel", "conversation_id"], name="thread_conversation"
            ),
            # The retention sweep's work list: closed threads not emptied since they closed.
            models.Index(
                fields=["brand", "closed_at"],
                condition=Q(status="closed")
                & (Q(purged_at__isnull=True) | Q(purged_at__lt=models.F("closed_at"))),
                name="thread_retention",
            ),
            # Supervision: oldest waiting and SLA breaches, without reading closed history.
            models.Index(
                fields=["brand", "waiting_since"],
                condition=Q(status__in=["open", "claimed"]),
                name="thread_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"Thread {self.pk} ({self.status})"

    @property
    def offered_now(self) -> bool:
        """Nobody holds it, and Claim next gives it only to `offered_to` (its last
        answerer) until the offer expires (as inbox.actions' claim statements read it)."""
        return offer_until(self) is not None


def offer_until(row) -> object:
    """When the offer of a thread (or of a queue row's head, inbox.queries.RowHead) to its
    last answerer ends, while nobody holds it and it lasts; else None."""
    if row.offered_to_id is None or row.claimed_by_id is not None:
        return None
    ends = row.offer_expires_at
    return ends if ends is not None and ends >= timezone.now() else None


class Message(models.Model):
    """One tweet or DM, in or out, exactly as X sent it (raw kept)."""

    class Direction(models.TextChoices):
        IN = "in", gettext_lazy("From the customer")
        OUT = "out", gettext_lazy("From the brand")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="messages")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    x_id = models.BigIntegerField()
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.TWEET)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    author_x_id = models.BigIntegerField()
    text = models.TextField()
    in_reply_to_x_id = models.BigIntegerField(null=True, blank=True)
    conversation_id = models.BigIntegerField()
    sentiment = models.FloatField(null=True, blank=True)
    intent = models.CharField(max_length=12, blank=True, db_default="", default="")
    # Attached photos, GIFs and videos as X described them (xgateway.XMedia.stored): URLs
    # on X's media host, shown as thumbnails loaded from there (inbox.rules.media).
    media = models.JSONField(default=list, blank=True)
    # X's `lang` for the tweet (BCP 47, "und" when undetermined); "" when X sent none.
    lang = models.CharField(max_length=8, blank=True, default="", db_default="")
    raw = models.JSONField(default=dict)
    sent_at = models.DateTimeField(help_text=gettext_lazy("created_at as X reports it."))
    ingested_at = models.DateTimeField(auto_now_add=True)

    # Why X says it must not be shown (inbox.data.compliance), else empty.
    x_hidden = models.CharField(max_length=16, blank=True, default="", db_default="")
    # Search (inbox.search): the text's tsvector, stored by PostgreSQL (issue 17).
    search = searchable_text()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "x_id"], name="message_x_id_uniq"),
        ]
        indexes = [
            models.Index(fields=["thread", "sent_at"], name="message_thread_time"),
            # The retention sweep's raw payloads still held, oldest first.
            models.Index(
                fields=["brand", "ingested_at"], condition=~Q(raw={}), name="message_raw_held"
            ),
            # Search (inbox.search): GIN over the stored tsvector (migration 0027_search_stored).
            GinIndex(fields=["search"], name="message_search_gin"),
            # Search's newest-first walk of one brand's customer messages.
            models.Index(
                "brand",
                models.F("sent_at").desc(),
                models.F("id").desc(),
                condition=Q(direction="in"),
                name="message_search_recent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.x_id}"


class ReplyStatus(models.TextChoices):
    QUEUED = "queued", gettext_lazy("Queued")
    SENDING = "sending", gettext_lazy("Sending")
    POSTED = "posted", gettext_lazy("Posted")
    FAILED = "failed", gettext_lazy("Failed")
    DISCARDED = "discarded", gettext_lazy("Discarded")


class OutboxRow(models.Model):
    """What X is asked to post exactly once (a Reply, a BrandTweet): the body, where posting
    it stands, and X's id once posted (set once: unique). Created `queued`; every later
    status is written by inbox.outbox only."""

    body = models.TextField(help_text=gettext_lazy("Exactly what is posted: text plus credit."))
    status = models.CharField(max_length=16, choices=ReplyStatus.choices, default="queued")
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the last attempt to post started, and when the row may be tried next: while a
    # request to X is in flight this is a lease (no second worker may post meanwhile);
    # after a 5xx/timeout it is the back-off; after a 429 it is X's reset time.
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the outbox's sweep last enqueued a task for it (inbox.outbox.sending.WAKE): while
    # that wake is in flight the sweep does not enqueue it again; the task clears it.
    woken_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # in English: operators, logs, the API
    # The same reason as data (inbox.rules.reasons): pages render it in the reader's language.
    last_reason = models.JSONField(null=True, blank=True)
    posted_x_id = models.BigIntegerField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    # What X charged for it, in US dollars (inbox.rules.cost), set once it is posted.
    cost = models.DecimalField(max_digits=8, decimal_places=4, default=0, db_default=0)

    class Meta:
        abstract = True
        # "%(class)s" is the concrete model's name in lower case: the names the tables
        # have always had (reply_posted_iff_x_id, brandtweet_outbox_pending, ...).
        constraints = [
            models.CheckConstraint(
                condition=Q(status="posted", posted_x_id__isnull=False)
                | (~Q(status="posted") & Q(posted_x_id__isnull=True)),
                name="%(class)s_posted_iff_x_id",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "created_at"],
                condition=Q(status__in=["queued", "sending"]),
                name="%(class)s_outbox_pending",
            ),
        ]


class Reply(OutboxRow):
    """The outbox: what an agent sent, until X has it (then posted_x_id is set, once)."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="replies")
    in_reply_to = models.ForeignKey(
        Message, null=True, on_delete=models.PROTECT, related_name="replies"
    )
    agent = models.ForeignKey(
        "agents.Agent", null=True, on_delete=models.PROTECT, related_name="replies"
    )
    # Always the thread's channel (a trigger enforces it: migration 0006_dm).
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.TWEET)
    # Posted only after this reply is (a move to DM's public note waits for its DM).
    waits_for = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(help_text=gettext_lazy("What the agent wrote."))
    credit = models.CharField(max_length=32, blank=True)
    # One per submitted form: a double click or a resubmitted stale form posts once.
    client_token = models.UUIDField(default=uuid.uuid4, unique=True)
    search = searchable_text()  # inbox.search, as Message.search

    class Meta(OutboxRow.Meta):
        indexes = [
            *OutboxRow.Meta.indexes,
            models.Index(fields=["agent", "-posted_at"], name="reply_agent_credits"),
            GinIndex(fields=["search"], name="reply_search_gin"),
            # Search's newest-first walk of the replies (inbox.search.find, rule 4).
            models.Index(
                models.F("created_at").desc(),
                models.F("id").desc(),
                name="reply_search_recent",
            ),
            # Supervision: failed replies to retry or discard; the public stream, newest first.
            models.Index(fields=["-created_at"], condition=Q(status="failed"), name="reply_failed"),
            models.Index(
                models.F("posted_at").desc(),
                models.F("id").desc(),
                condition=Q(status="posted", channel="tweet"),
                name="reply_public_stream",
            ),
        ]

    def __str__(self) -> str:
        return f"Reply {self.pk} ({self.status})"


class Quarantine(models.Model):
    """A payload X sent that Twelp could not use, kept raw with the reason for admins."""

    source = models.ForeignKey(
        Source, null=True, on_delete=models.SET_NULL, related_name="quarantined"
    )
    raw = models.JSONField()
    error = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"Quarantined {self.created_at:%Y-%m-%d %H:%M}: {self.error[:60]}"


class Verb(models.TextChoices):
    """Every kind of Event: what happened, in the audit trail's words."""

    # A thread's life (inbox.actions)
    CLAIMED = "claimed", gettext_lazy("Claimed")
    RELEASED = "released", gettext_lazy("Released")
    LEASE_EXPIRED = "lease_expired", gettext_lazy("Claim expired")
    REASSIGNED = "reassigned", gettext_lazy("Reassigned")
    REPLIED = "replied", gettext_lazy("Replied")
    MOVED_TO_DM = "moved_to_dm", gettext_lazy("Moved to DM")
    CLOSED = "closed", gettext_lazy("Closed")
    REOPENED = "reopened", gettext_lazy("Reopened")
    NOTED = "noted", gettext_lazy("Note added")
    DISMISSED = "dismissed", gettext_lazy("Dismissed as noise")
    MUTED = "muted", gettext_lazy("Muted")
    BLOCKED = "blocked", gettext_lazy("Blocked")
    TAGGED = "tagged", gettext_lazy("Customer tagged")
    UNTAGGED = "untagged", gettext_lazy("Customer untagged")
    # The outbox (inbox.outbox)
    REPLY_POSTED = "reply_posted", gettext_lazy("Reply posted")
    REPLY_FAILED = "reply_failed", gettext_lazy("Reply failed")
    REPLY_RETRIED = "reply_retried", gettext_lazy("Reply retried")
    REPLY_DISCARDED = "reply_discarded", gettext_lazy("Reply discarded")
    AUTO_REPLIED = "auto_replied", gettext_lazy("Auto-reply queued")
    AUTO_REPLY_POSTED = "auto_reply_posted", gettext_lazy("Auto-reply posted")
    # Proposed brand tweets (inbox.proposals, inbox.outbox.brand_tweets)
    PROPOSED = "proposed", gettext_lazy("Tweet proposed")
    PROPOSAL_APPROVED = "proposal_approved", gettext_lazy("Proposal approved")
    PROPOSAL_REJECTED = "proposal_rejected", gettext_lazy("Proposal rejected")
    PROPOSAL_POSTED = "proposal_posted", gettext_lazy("Proposal posted")
    PROPOSAL_FAILED = "proposal_failed", gettext_lazy("Proposal failed")
    PROPOSAL_RETRIED = "proposal_retried", gettext_lazy("Proposal retried")
    PROPOSAL_DISCARDED = "proposal_discarded", gettext_lazy("Proposal discarded")
    # The hashtag relay (inbox.ingest.relay): what it did not relay, and why
    RELAY_IGNORED = "relay_ignored", gettext_lazy("Relay ignored")
    RELAY_TOO_LONG = "relay_too_long", gettext_lazy("Relay too long")
    # The brand and its employees (inbox.brand_settings, agents.actions)
    BRAND_SETTINGS_CHANGED = "brand_settings_changed", gettext_lazy("Brand settings changed")
    AGENT_REGISTERED = "agent_registered", gettext_lazy("Employee registered")
    AGENT_ADDED = "agent_added", gettext_lazy("Employee added")
    AGENT_APPROVED = "agent_approved", gettext_lazy("Employee approved")
    AGENT_REJECTED = "agent_rejected", gettext_lazy("Registration rejected")
    AGENT_ROLE_CHANGED = "agent_role_changed", gettext_lazy("Role changed")
    AGENT_DEACTIVATED = "agent_deactivated", gettext_lazy("Employee deactivated")
    AGENT_REACTIVATED = "agent_reactivated", gettext_lazy("Employee reactivated")
    AGENT_TRAINING_STARTED = "agent_training_started", gettext_lazy("Sent to training")
    AGENT_READY = "agent_ready", gettext_lazy("Marked ready")
    # Customer data (inbox.data): an admin's export and erasure, the daily retention sweep
    # and X's compliance results
    CUSTOMER_EXPORTED = "customer_exported", gettext_lazy("Customer data exported")
    CUSTOMER_ERASED = "customer_erased", gettext_lazy("Customer erased")
    RETENTION_SWEPT = "retention_swept", gettext_lazy("Retention sweep")
    X_COMPLIANCE_APPLIED = "x_compliance_applied", gettext_lazy("X compliance applied")
    # Integrations (inbox.integrations): API tokens and webhook endpoints
    API_TOKEN_CREATED = "api_token_created", gettext_lazy("API token created")
    API_TOKEN_REVOKED = "api_token_revoked", gettext_lazy("API token revoked")
    WEBHOOK_ADDED = "webhook_added", gettext_lazy("Webhook added")
    WEBHOOK_REMOVED = "webhook_removed", gettext_lazy("Webhook removed")
    WEBHOOK_PAUSED = "webhook_paused", gettext_lazy("Webhook paused (failing)")
    WEBHOOK_RESUMED = "webhook_resumed", gettext_lazy("Webhook resumed")
    # The quality loop (inbox.quality)
    ANSWER_REVIEWED = "answer_reviewed", gettext_lazy("Answer reviewed")
    SURVEY_SENT = "survey_sent", gettext_lazy("Satisfaction survey sent")
    SURVEY_ANSWERED = "survey_answered", gettext_lazy("Satisfaction survey answered")
    # After the answer (inbox.actions): a follow-up on an answered thread; a closed one
    # reopened by a supervisor or its last answerer (a customer's reopen is REOPENED).
    FOLLOW_UP_CLAIMED = "follow_up_claimed", gettext_lazy("Claimed for a follow-up")
    REOPENED_BY_STAFF = "reopened_by_staff", gettext_lazy("Reopened by an employee")
    # Routing (inbox.routing): which team a thread went to and by which rule; the
    # supervisors' changes of teams and rules
    ROUTED = "routed", gettext_lazy("Routed to a team")
    TEAM_CHANGED = "team_changed", gettext_lazy("Team changed")
    ROUTING_RULE_CHANGED = "routing_rule_changed", gettext_lazy("Routing rule changed")
    # Work that comes to you (inbox.routing.assign): an agent set Available or away, a
    # thread assigned to them, an unstarted assignment handed back
    AVAILABILITY_CHANGED = "availability_changed", gettext_lazy("Availability changed")
    ASSIGNED = "assigned", gettext_lazy("Assigned automatically")
    ASSIGNMENT_RETURNED = "assignment_returned", gettext_lazy("Assignment handed back")
    # Administration in the app (inbox.configure, inbox.ingest.requeue, agents.bootstrap)
    BRAND_CREATED = "brand_created", gettext_lazy("Brand set up")
    SOURCE_ADDED = "source_added", gettext_lazy("Source added")
    SOURCE_CHANGED = "source_changed", gettext_lazy("Source changed")
    QUARANTINE_RETRIED = "quarantine_retried", gettext_lazy("Quarantined item retried")
    QUARANTINE_DISCARDED = "quarantine_discarded", gettext_lazy("Quarantined item discarded")
    # Identity (agents.twofactor, agents.xlink)
    TWO_FACTOR_ENROLLED = "two_factor_enrolled", gettext_lazy("Two-factor enrolled")
    TWO_FACTOR_CODES = "two_factor_codes", gettext_lazy("New recovery codes")
    TWO_FACTOR_RESET = "two_factor_reset", gettext_lazy("Two-factor reset")
    X_ACCOUNT_LINKED = "x_account_linked", gettext_lazy("X account proven")
    X_CLAIM_REFUSED = "x_claim_refused", gettext_lazy("X account already registered")
    # Single sign-on and security keys (agents.sso, agents.twofactor)
    SSO_REFUSED = "sso_refused", gettext_lazy("Company sign-in refused")
    TWO_FACTOR_KEY_ADDED = "two_factor_key_added", gettext_lazy("Security key added")
    # Several brand accounts (inbox.configure.credentials, agents.actions.do_switch_brand)
    BRAND_X_CONNECTED = "brand_x_connected", gettext_lazy("Brand's X account connected")
    BRAND_X_REVOKED = "brand_x_revoked", gettext_lazy("Brand's X account refused (401)")
    BRAND_X_DISCONNECTED = "brand_x_disconnected", gettext_lazy("Brand's X account disconnected")
    AGENT_SWITCHED_BRAND = "agent_switched_brand", gettext_lazy("Switched brand")
    AGENT_BRAND_GIVEN = "agent_brand_given", gettext_lazy("Brand given to an employee")
    AGENT_BRAND_TAKEN = "agent_brand_taken", gettext_lazy("Brand taken from an employee")


class Event(models.Model):
    """Append-only audit: the thread's timeline and the source of every metric.

    1. PostgreSQL refuses UPDATE and DELETE of a row (trigger inbox_event_append_only,
       migration 0020), but for two writes: sealing (the seal columns, once, from NULL)
       and a customer's erasure (`detail` only, in a transaction that set
       twelp.erasure; inbox.data.erasure).
    2. Nothing cascades into it: deleting a brand or thread that has Events is refused
       (PROTECT) rather than taking the audit with it.
    3. inbox.data.seal chains the rows of each brand by sha256, off the hot path:
       seal_seq is the row's place in its brand's chain, seal the chain's hash there,
       detail_digest the hash of `detail` when sealed (an erased detail then still
       verifies: `manage.py verify_audit`).
    """

    # No single-column indexes on the keys: the composite ones below lead with each of
    # them, and every transition writes an Event (BENCHMARKS.md, problem 5).
    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    actor = models.ForeignKey(
        "agents.Agent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    verb = models.CharField(max_length=32, choices=Verb.choices)
    thread = models.ForeignKey(
        Thread,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    # No index of its own: every read of Events filters by brand or thread first, and
    # their composite indexes carry `at` (event_audit, event_brand_verb_time,
    # event_thread_timeline): one index fewer to write on every transition.
    at = models.DateTimeField(default=timezone.now)
    detail = models.JSONField(default=dict, blank=True)
    seal_seq = models.BigIntegerField(null=True, blank=True, editable=False)
    seal = models.CharField(max_length=64, blank=True, default="", db_default="", editable=False)
    detail_digest = models.CharField(
        max_length=64, blank=True, default="", db_default="", editable=False
    )

    class Meta:
        constraints = [
            # Each brand's chain, in order; unsealed rows (NULL) are not in this index.
            models.UniqueConstraint(
                fields=["brand", "seal_seq"],
                condition=Q(seal_seq__isnull=False),
                name="event_seal_chain",
            ),
        ]
        indexes = [
            # The sealer's work list: rows not sealed yet (few; a row leaves on sealing).
            models.Index(fields=["id"], condition=Q(seal_seq__isnull=True), name="event_unsealed"),
            models.Index(fields=["thread", "at"], name="event_thread_timeline"),
            models.Index(fields=["brand", "verb", "at"], name="event_brand_verb_time"),
            # The audit trail: newest first (keyset on at, id), all or by actor.
            models.Index("brand", models.F("at").desc(), models.F("id").desc(), name="event_audit"),
            models.Index(
                "actor", models.F("at").desc(), models.F("id").desc(), name="event_audit_actor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.verb} at {self.at:%Y-%m-%d %H:%M:%S}"


# --- care tools (inbox.rules.canned) ----------------------------------------------------------


class CannedAnswer(models.Model):
    """A saved answer an agent inserts from the reply box; placeholders in inbox.rules.canned."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="canned_answers")
    title = models.CharField(max_length=100)
    text = models.TextField(max_length=1000)
    created_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("title"), "brand", name="canned_title_uniq")]

    def __str__(self) -> str:
        return self.title


class Note(models.Model):
    """An internal note on a thread: for colleagues, never posted to X."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="notes")
    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="notes")
    text = models.TextField(max_length=2000)
    search = searchable_text()  # inbox.search, as Message.search
    # Colleagues the note @mentions (by X handle or credit code): listed on their profile.
    mentions = models.ManyToManyField("agents.Agent", blank=True, related_name="mentioned_in")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["thread", "created_at"], name="note_thread_time"),
            GinIndex(fields=["search"], name="note_search_gin"),
        ]

    def __str__(self) -> str:
        return f"Note {self.pk} on thread {self.thread_id}"


# --- supervision: pre-aggregated figures (inbox.rollups) --------------------------------


class Rollup(models.Model):
    """Counts and duration histograms per brand (agent None) or agent and time bucket.

    Written as insert-only delta rows in the transaction of each Event (no row lock is
    shared between agents, so no transition waits on or deadlocks over a counter): one
    row an Event, grain EVENT (its UTC minute and its actor), which `inbox.rollups.compact`
    (beat) spreads into the minute, quarter-hour and actor's-day rows and folds into one
    row per key. Readers sum folded rows and deltas alike: a figure is exact when its
    Event commits, and costs the same at 10k or 10M events.
    """

    class Grain(models.TextChoices):
        MINUTE = "m", gettext_lazy("Minute (UTC)")
        QUARTER = "q", gettext_lazy("Quarter hour (aligns with every time zone's midnight)")
        DAY = "d", gettext_lazy("Day in the brand's time zone")
        EVENT = "e", gettext_lazy("Not yet compacted: one Event's minute (UTC) and actor")

    # rollup_window leads with the brand: no index of its own (written by every transition).
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", db_index=False)
    agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    grain = models.CharField(max_length=1, choices=Grain.choices)
    bucket = models.DateTimeField()
    delta = models.BooleanField(default=True, db_default=True)
    arrived = models.IntegerField(default=0, db_default=0)
    claimed = models.IntegerField(default=0, db_default=0)
    replied = models.IntegerField(default=0, db_default=0)
    posted = models.IntegerField(default=0, db_default=0)
    failed = models.IntegerField(default=0, db_default=0)
    closed = models.IntegerField(default=0, db_default=0)
    reopened = models.IntegerField(default=0, db_default=0)
    released = models.IntegerField(default=0, db_default=0)
    expired = models.IntegerField(default=0, db_default=0)
    reassigned = models.IntegerField(default=0, db_default=0)
    retried = models.IntegerField(default=0, db_default=0)
    discarded = models.IntegerField(default=0, db_default=0)
    first_response_n = models.IntegerField(default=0, db_default=0)
    first_response_seconds = models.BigIntegerField(default=0, db_default=0)
    first_response_breached = models.IntegerField(default=0, db_default=0)
    first_response_hist = ArrayField(models.IntegerField(), default=list, blank=True)
    resolution_n = models.IntegerField(default=0, db_default=0)
    resolution_seconds = models.BigIntegerField(default=0, db_default=0)
    resolution_breached = models.IntegerField(default=0, db_default=0)
    resolution_hist = ArrayField(models.IntegerField(), default=list, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["brand", "grain", "bucket"], name="rollup_window"),
            models.Index(fields=["id"], condition=Q(delta=True), name="rollup_deltas"),
        ]

    def __str__(self) -> str:
        return f"Rollup {self.grain} {self.bucket:%Y-%m-%d %H:%M}"


class QueueCount(models.Model):
    """Threads per brand, source and status, kept by triggers on inbox_thread.

    Every INSERT/UPDATE/DELETE of a thread, whoever issues it (an action, the poller's
    bulk_create), adds delta rows here; `inbox.rollups.compact` folds them. The queue's
    depth is then SUM(n) over a few rows instead of a COUNT over the threads. No foreign
    key constraints: a trigger may add a delta while its brand is being deleted. One
    index (queuecount_brand, what the queue reads): every claim, release and close writes
    two rows here, and nothing looks a row up by its source or by the brand alone.
    """

    brand = models.ForeignKey(
        Brand, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    status = models.CharField(max_length=16)
    n = models.BigIntegerField()
    delta = models.BooleanField(default=True, db_default=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "status"], name="queuecount_brand")]

    def __str__(self) -> str:
        return f"{self.status}: {self.n}"


# --- the hashtag relay (inbox.ingest.relay) ----------------------------------------------------


class RelayTweet(models.Model):
    """One tweet carrying the relay hashtag, and what became of it: relayed (a Reply from
    the brand), ignored, or too long. Unique per X id: a repeated poll relays nothing twice.
    """

    class Outcome(models.TextChoices):
        RELAYED = "relayed", gettext_lazy("Relayed from the brand")
        IGNORED = "ignored", gettext_lazy("Ignored")
        TOO_LONG = "too_long", gettext_lazy("Too long to relay")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    x_id = models.BigIntegerField()
    author_x_id = models.BigIntegerField()
    author_handle = models.CharField(max_length=15, blank=True)
    agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    in_reply_to_x_id = models.BigIntegerField(null=True, blank=True)
    text = models.TextField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.CharField(max_length=300, blank=True)
    reply = models.OneToOneField(
        Reply, null=True, blank=True, on_delete=models.SET_NULL, related_name="relayed_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "x_id"], name="relaytweet_x_id_uniq"),
        ]
        indexes = [models.Index(fields=["brand", "-created_at"], name="relaytweet_log")]

    def __str__(self) -> str:
        return f"Relay {self.x_id} ({self.outcome})"


# --- business hours and auto-reply (inbox.ingest.autoreply) ------------------------------------


class AutoReply(models.Model):
    """The ledger that makes an auto-reply "once per customer per window": the unique key
    decides it, inserted with ON CONFLICT DO NOTHING in the transaction that queues the
    Reply, so repeated or concurrent polls never answer a customer twice in one window."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    # When the window began: the brand's last closing time, or the start of the open span
    # (or local day) in which nobody was online.
    window_start = models.DateTimeField()
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    reply = models.OneToOneField(
        Reply, null=True, blank=True, on_delete=models.SET_NULL, related_name="auto_reply"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "customer", "window_start"], name="autoreply_once_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"Auto-reply to customer {self.customer_id} ({self.window_start:%Y-%m-%d %H:%M})"


# --- proposed brand tweets (inbox.proposals) --------------------------------------------


class Proposal(models.Model):
    """A tweet an employee proposes for the brand (a tip, an outage notice); a supervisor
    approves (it posts with the author's credit) or rejects it (with a reason)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", gettext_lazy("Waiting for a supervisor")
        APPROVED = "approved", gettext_lazy("Approved")
        REJECTED = "rejected", gettext_lazy("Rejected")
        POSTED = "posted", gettext_lazy("Posted")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="proposals")
    text = models.TextField(max_length=1000, help_text=gettext_lazy("What the author wrote."))
    credit = models.CharField(max_length=32, blank=True)
    body = models.TextField(help_text=gettext_lazy("Exactly what is posted: text plus credit."))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    decided_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["brand", "created_at"],
                condition=Q(status="proposed"),
                name="proposal_pending",
            ),
            models.Index(fields=["author", "-created_at"], name="proposal_author"),
        ]

    def __str__(self) -> str:
        return f"Proposal {self.pk} ({self.status})"


class BrandTweet(OutboxRow):
    """The outbox row of an approved proposal: a standalone tweet from the brand, its body
    the proposal's. One per proposal (the database decides two approvals at once); posted
    as inbox.outbox.sending posts."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="tweet")

    class Meta(OutboxRow.Meta):
        indexes = [
            *OutboxRow.Meta.indexes,
            models.Index(
                models.F("posted_at").desc(),
                models.F("id").desc(),
                condition=Q(status="posted"),
                name="brandtweet_public_stream",
            ),
        ]

    def __str__(self) -> str:
        return f"Brand tweet {self.pk} ({self.status})"


# --- noise: muted words and customers, blocked accounts (inbox.noise) -------------------


class Mute(models.Model):
    """A word, a customer or a blocked account whose tweets are stored but kept out of
    the queue. Lifting one (unmute) keeps the row, with who and when, for supervisors."""

    class Kind(models.TextChoices):
        WORD = "word", gettext_lazy("Muted word")
        CUSTOMER = "customer", gettext_lazy("Muted customer")
        BLOCK = "block", gettext_lazy("Blocked account")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="mutes")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    word = models.CharField(
        max_length=100, blank=True, help_text=gettext_lazy("Lowercase; words only.")
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="mutes"
    )
    created_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="word") & ~Q(word="") & Q(customer__isnull=True))
                | (~Q(kind="word") & Q(word="") & Q(customer__isnull=False)),
                name="mute_word_xor_customer",
            ),
            models.UniqueConstraint(
                "brand",
                "word",
                condition=Q(kind="word", lifted_at__isnull=True),
                name="mute_one_live_word",
            ),
            models.UniqueConstraint(
                "customer",
                "kind",
                condition=Q(lifted_at__isnull=True) & ~Q(kind="word"),
                name="mute_one_live_per_customer",
            ),
        ]
        indexes = [
            models.Index(fields=["brand"], condition=Q(lifted_at__isnull=True), name="mute_live")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.word or self.customer}"


# --- customer data duties (inbox.data) ----------------------------------------------------


class RetentionRun(models.Model):
    """One brand's run of the daily retention sweep (inbox.data.retention): what it removed,
    for the dashboard, and how long its longest batch held its locks."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    threads = models.IntegerField(default=0, help_text=gettext_lazy("Closed threads emptied."))
    messages = models.IntegerField(default=0, help_text=gettext_lazy("Messages removed with them."))
    raw_payloads = models.IntegerField(default=0, help_text=gettext_lazy("Raw payloads emptied."))
    quarantined = models.IntegerField(default=0, help_text=gettext_lazy("Quarantine rows deleted."))
    batches = models.IntegerField(default=0)
    longest_batch_ms = models.FloatField(default=0)

    class Meta:
        indexes = [models.Index(fields=["brand", "-started_at"], name="retentionrun_latest")]

    def __str__(self) -> str:
        return f"Retention run {self.started_at:%Y-%m-%d %H:%M}"


class ComplianceJob(models.Model):
    """One of X's batch compliance jobs Twelp ran (inbox.data.compliance): the ids it
    sent, where X's job stands, and what its result file did here."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", gettext_lazy("Ids uploaded; X is working")
        APPLIED = "applied", gettext_lazy("Results applied")
        FAILED = "failed", gettext_lazy("Failed")

    kind = models.CharField(max_length=8)  # tweets | users, X's job type
    x_job_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    attempt = models.PositiveSmallIntegerField(default=1)
    download_url = models.TextField(blank=True)
    ids_sent = models.IntegerField(default=0)
    lines = models.IntegerField(default=0, help_text=gettext_lazy("Result lines read."))
    removed = models.IntegerField(default=0)
    hidden = models.IntegerField(default=0)
    unknown = models.IntegerField(
        default=0, help_text=gettext_lazy("Ids of the file Twelp does not hold.")
    )
    malformed = models.IntegerField(
        default=0, help_text=gettext_lazy("Lines that were not a result.")
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(status="uploaded"), name="compliancejob_open"
            )
        ]

    def __str__(self) -> str:
        return f"X compliance job {self.x_job_id} ({self.kind}, {self.status})"


# --- integrations: the REST API's tokens (inbox.integrations.tokens, inbox.api) ---------


class ApiToken(models.Model):
    """A per-integration token for /api/v1/, created by an admin of the brand. Only its
    SHA-256 is stored (the token is 32 random bytes: no slow hash needed); the admin sees
    the token once. It acts with its creator's brand; `write` adds notes and tags."""

    class Scope(models.TextChoices):
        READ = "read", gettext_lazy("Read threads, customers and events")
        WRITE = "write", gettext_lazy("Read, and add notes and tags")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(
        max_length=100, help_text=gettext_lazy("Which system uses it (a CRM, ...).")
    )
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    # Issue 20: DMs are private: a token reads DM threads (list, read, search, events)
    # only when its admin ticked this; off by default, so a CRM sync sees tweets alone.
    dms = models.BooleanField(default=False, help_text=gettext_lazy("Reads direct messages too."))
    digest = models.CharField(max_length=64, unique=True)  # hex SHA-256 of the token
    hint = models.CharField(max_length=16)  # the token's first characters, to recognise it
    created_by = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "-created_at"], name="apitoken_brand")]

    def __str__(self) -> str:
        return f"API token {self.name} ({self.hint}…)"


# --- integrations: outbound webhooks (inbox.integrations.webhooks, inbox.outbox.webhooks) ---


class WebhookEndpoint(models.Model):
    """An admin's HTTPS endpoint that receives the brand's events it subscribed to, each
    signed with its secret (inbox.outbox.webhooks: the header format)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    # Shown to admins (they configure their receiver with it); needed in clear to sign.
    secret = models.CharField(max_length=64)
    # Event verbs (Verb values) plus "thread_created"; a trigger reads this column.
    event_types = ArrayField(models.CharField(max_length=32), default=list)
    created_by = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Since when every attempt has failed (None after any success); past a day: paused.
    failing_since = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    # Removed endpoints keep their deliveries' history but get no new ones.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["brand"], condition=Q(removed_at__isnull=True), name="webhook_live"
            )
        ]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row, written by a trigger in the event's own
    transaction (migration 0021) and posted by inbox.outbox.webhooks, the only writer of its
    status. `body` is exactly what is sent (and signed) on every attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("Waiting")
        SENDING = "sending", gettext_lazy("Sending")
        DELIVERED = "delivered", gettext_lazy("Delivered")
        FAILED = "failed", gettext_lazy("Failed (attempts spent)")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=32)
    ref_id = models.BigIntegerField(
        help_text=gettext_lazy("The Event's id (a thread's, for thread_created).")
    )
    body = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Due time: the back-off after a failure, or the in-flight lease while sending.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    response_status = models.IntegerField(null=True, blank=True)
    response_body = models.CharField(max_length=500, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="webhookdelivery_due",
            ),
            models.Index(fields=["endpoint", "-id"], name="webhookdelivery_log"),
        ]

    def __str__(self) -> str:
        return f"Delivery {self.pk} of {self.event_type} ({self.status})"


# --- the quality loop: answer review (inbox.quality.review) ---------------------------------


class AnswerReview(models.Model):
    """A supervisor's score of one posted answer on a short rubric (each 1-5), with
    feedback its author sees on their profile. One review per answer."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    reply = models.OneToOneField(Reply, on_delete=models.CASCADE, related_name="review")
    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="+")
    accuracy = models.PositiveSmallIntegerField(help_text=gettext_lazy("Right and complete."))
    tone = models.PositiveSmallIntegerField(
        help_text=gettext_lazy("Human, kind, in the brand's voice.")
    )
    policy = models.PositiveSmallIntegerField(
        help_text=gettext_lazy("No personal data in public; a DM offered where needed.")
    )
    feedback = models.TextField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(accuracy__range=(1, 5), tone__range=(1, 5), policy__range=(1, 5)),
                name="answerreview_scores_1_to_5",
            )
        ]
        indexes = [
            models.Index(fields=["brand", "-created_at"], name="answerreview_brand"),
            models.Index(fields=["agent", "-created_at"], name="answerreview_agent"),
        ]

    def __str__(self) -> str:
        return f"Review of reply {self.reply_id}"


# --- the quality loop: satisfaction after close (inbox.quality.survey) ---------------------


class Survey(models.Model):
    """One satisfaction question sent by DM after a close: a signed one-time link to a public
    page (1-5 and a comment). Answered once: `answered_at` is set by a conditional UPDATE."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="surveys")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    # Who the answer is credited to: the thread's last answerer when it closed.
    agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reply = models.OneToOneField(
        Reply, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey"
    )
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(max_length=1000, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, score__isnull=True)
                | Q(answered_at__isnull=False, score__range=(1, 5)),
                name="survey_score_iff_answered",
            )
        ]
        indexes = [
            models.Index(
                fields=["brand", "answered_at"],
                condition=Q(answered_at__isnull=False),
                name="survey_answers",
            ),
            models.Index(fields=["customer", "-created_at"], name="survey_customer"),
        ]

    def __str__(self) -> str:
        return f"Survey {self.pk} of thread {self.thread_id}"


# --- routing: teams and rules (inbox.routing) ---------------------------------------------


class Team(models.Model):
    """A queue of the brand's work and the agents who work it (an agent may be in several).
    Each brand has one default team: what no routing rule claims goes there."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=60)
    is_default = models.BooleanField(default=False)
    members = models.ManyToManyField("agents.Agent", blank=True, related_name="teams")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), "brand", name="team_name_uniq"),
            models.UniqueConstraint(
                fields=["brand"], condition=Q(is_default=True), name="team_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """One rule: a thread matching it goes to `team`. The brand's rules are tried in order
    of (position, id); the first match wins; no match, the default team
    (inbox.rules.routing)."""

    class Kind(models.TextChoices):
        SOURCE = "source", gettext_lazy("Source is")
        KEYWORD = "keyword", gettext_lazy("Text matches (regular expression)")
        HASHTAG = "hashtag", gettext_lazy("Has hashtag")
        LANGUAGE = "language", gettext_lazy("Language is")
        TAG = "tag", gettext_lazy("Customer has tag")
        VIP = "vip", gettext_lazy("Customer is VIP (verified, or at least N followers)")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="routing_rules")
    position = models.PositiveIntegerField(default=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The pattern, hashtag, language code, tag or follower count; for SOURCE the source id.
    value = models.CharField(max_length=200)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rules")
    created_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "position", "id"], name="routingrule_order")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value} -> {self.team}"


# --- Several brand accounts (issue 16) ---------------------------------------------------------


class BrandCredentials(models.Model):
    """The X account a brand posts from, connected by an admin (inbox.configure.credentials).

    1. `sealed` holds the secrets (OAuth 1.0a user keys, or OAuth 2.0 access and refresh
       tokens) sealed with TWELP_CREDENTIALS_KEYS (twelp.sealing); nothing else here is secret.
    2. `x_user_id` is the account that approved, and equals the brand's: an admin cannot
       connect brand A's row to brand B's account.
    3. `revoked_at` set: X answered 401 with these credentials; the brand's pollers and
       outbox stop (no other brand's) until an admin connects the account again.
    """

    class Kind(models.TextChoices):
        OAUTH1 = "oauth1", gettext_lazy("OAuth 1.0a keys")
        OAUTH2 = "oauth2", gettext_lazy("OAuth 2.0 (Sign in with X)")

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="credentials")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    sealed = models.BinaryField()
    x_user_id = models.BigIntegerField()
    x_username = models.CharField(max_length=15, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # the OAuth 2.0 access token's
    revoked_at = models.DateTimeField(null=True, blank=True)
    problem = models.TextField(blank=True)
    connected_by = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "brand credentials"

    def __str__(self) -> str:
        return f"{self.brand} ({self.get_kind_display()})"


# --- notifications in the top bar (issue 21: inbox.notifications) -------------------------


class Notification(models.Model):
    """Something that happened to one employee's work, told to them alone: their reply X
    refused, their DM X refused, a note that @mentions them, a thread handed to them.
    Written by inbox.notifications in the transaction of what it tells; read once seen."""

    class Kind(models.TextChoices):
        REPLY_FAILED = "reply_failed", gettext_lazy("Reply failed")
        DM_REFUSED = "dm_refused", gettext_lazy("DM refused")
        MENTIONED = "mentioned", gettext_lazy("Mentioned in a note")
        REASSIGNED = "reassigned", gettext_lazy("Thread assigned to you")
        # Auto-assignment gave an Available employee a thread (inbox.routing.assign).
        ASSIGNED = "assigned", gettext_lazy("A thread came to you")

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    thread = models.ForeignKey(
        Thread, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # One plain sentence, written by Twelp (never a customer's words: it is shown in a toast).
    text = models.CharField(max_length=300)
    # What the sentence is made of (inbox.rules.reasons.notice renders it in the reader's
    # language when read); None for rows written before (their text is shown).
    params = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The list: one employee's, newest first (keyset on created_at, id).
            models.Index(fields=["agent", "-created_at", "-id"], name="notification_list"),
            # The top bar's count: one employee's unread, on every page and every change.
            models.Index(
                fields=["agent"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for agent {self.agent_id}"
