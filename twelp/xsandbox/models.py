"""The sandbox's own world: apps, X accounts, tweets, DMs, and its rate-limit and fault state.

Ids of accounts, tweets and DMs are snowflakes (see snowflake.py), so a row's creation
time is read from its id, as on X; nothing stores it twice.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from twelp.xsandbox import snowflake


class App(models.Model):
    """A developer app: its consumer key/secret (OAuth 1.0a) and its app-only Bearer token."""

    name = models.CharField(max_length=100)
    consumer_key = models.CharField(max_length=100, unique=True)
    consumer_secret = models.CharField(max_length=200)
    bearer_token = models.CharField(max_length=300, unique=True)

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """An X user: the brand, or a (simulated or hand-made) customer persona."""

    class Kind(models.TextChoices):
        BRAND = "brand", "Brand"
        CUSTOMER = "customer", "Customer"

    id = models.BigIntegerField(primary_key=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CUSTOMER)
    username = models.CharField(max_length=15)
    name = models.CharField(max_length=50)
    description = models.CharField(max_length=160, blank=True)
    location = models.CharField(max_length=30, blank=True)
    verified = models.BooleanField(default=False)
    profile_image_url = models.URLField(blank=True)
    followers_count = models.PositiveIntegerField(default=0)
    following_count = models.PositiveIntegerField(default=0)
    listed_count = models.PositiveIntegerField(default=0)
    tweet_count = models.PositiveIntegerField(default=0)
    # Who may DM this account (X's rule): anyone if they allow "messages from everyone";
    # otherwise only accounts they follow, or that they have written to already.
    dms_open = models.BooleanField(default=False, help_text="Accepts DMs from anyone.")
    following = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="followers"
    )
    # OAuth 1.0a user context: X's access tokens start with the user's id ("<id>-...").
    access_token = models.CharField(max_length=200, unique=True)
    access_token_secret = models.CharField(max_length=200)
    # Protected ("protect your posts"), suspended or withheld: what X's user and tweet
    # compliance jobs report (compliance.py); empty: public.
    compliance = models.CharField(max_length=16, blank=True, default="")
    compliance_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="xsandbox_account_username_uniq")
        ]

    def __str__(self) -> str:
        return f"@{self.username}"

    @property
    def created_at(self) -> datetime:
        return snowflake.to_datetime(self.id)

    def accepts_dms_from(self, sender: Account) -> bool:
        """X's rule: open DMs, or this account follows the sender, or wrote to them."""
        return (
            self.dms_open
            or self.following.filter(pk=sender.pk).exists()
            or DirectMessage.objects.filter(sender=self, recipient=sender).exists()
        )


class Tweet(models.Model):
    id = models.BigIntegerField(primary_key=True)
    author = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tweets")
    text = models.TextField()
    conversation_id = models.BigIntegerField(db_index=True)
    in_reply_to_tweet_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    in_reply_to_user = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    quoted_tweet_id = models.BigIntegerField(null=True, blank=True)
    retweeted_tweet_id = models.BigIntegerField(null=True, blank=True)
    lang = models.CharField(max_length=8, default="en")
    # X's entities object (mentions, hashtags, urls), computed once when posted.
    entities = models.JSONField(default=dict, blank=True)
    # Attached photos, as X keeps them: [{"key", "type", "width", "height", "alt_text"}];
    # served by the sandbox at /media/<key>.png, as X serves them from pbs.twimg.com.
    media = models.JSONField(default=list, blank=True)
    reply_count = models.PositiveIntegerField(default=0)
    retweet_count = models.PositiveIntegerField(default=0)
    quote_count = models.PositiveIntegerField(default=0)
    like_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["author", "-id"], name="xsandbox_tweet_author_time")]

    def __str__(self) -> str:
        return f"{self.id}: {self.text[:40]}"

    @property
    def created_at(self) -> datetime:
        return snowflake.to_datetime(self.id)

    @property
    def referenced_tweets(self) -> list[dict[str, str]]:
        refs = [
            ("replied_to", self.in_reply_to_tweet_id),
            ("quoted", self.quoted_tweet_id),
            ("retweeted", self.retweeted_tweet_id),
        ]
        return [{"type": kind, "id": str(ref)} for kind, ref in refs if ref is not None]


class Mention(models.Model):
    """Who a tweet mentions: the mentions timeline reads this, newest tweet first."""

    tweet = models.ForeignKey(Tweet, on_delete=models.CASCADE, related_name="mention_rows")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            # (account, tweet) is also the index the timeline scans backwards.
            models.UniqueConstraint(fields=["account", "tweet"], name="xsandbox_mention_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.tweet_id} mentions {self.account_id}"


class DirectMessage(models.Model):
    id = models.BigIntegerField(primary_key=True)
    sender = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="dms_sent")
    recipient = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="dms_received")
    text = models.TextField()
    # X names a one-to-one conversation "<smaller id>-<larger id>".
    conversation_id = models.CharField(max_length=64, db_index=True)
    media = models.JSONField(default=list, blank=True)  # as Tweet.media

    class Meta:
        indexes = [
            models.Index(fields=["sender", "-id"], name="xsandbox_dm_sender_time"),
            models.Index(fields=["recipient", "-id"], name="xsandbox_dm_recipient_time"),
        ]

    def __str__(self) -> str:
        return f"DM {self.id}"

    @property
    def created_at(self) -> datetime:
        return snowflake.to_datetime(self.id)


class RateWindow(models.Model):
    """One fixed rate-limit window: requests counted in it, and when it resets."""

    bucket = models.CharField(max_length=200, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    reset_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.bucket}: {self.count} until {self.reset_at:%H:%M:%S}"


class Fault(models.Model):
    """A fault switched on at run time: the next `remaining` calls (or all) to `endpoint` fail."""

    class Kind(models.TextChoices):
        RATE_LIMIT = "rate_limit", "429 with a reset time"
        UNAVAILABLE = "unavailable", "503 Service Unavailable"
        SLOW = "slow", "Answer only after a delay"
        # The write happens, the answer is late: a client that times out (or dies) then
        # does not know X has its tweet.
        SLOW_AFTER = "slow_after", "Do the work, then answer only after a delay"
        MALFORMED_JSON = "malformed_json", "A truncated JSON body"
        MISSING_FIELDS = "missing_fields", "A tweet missing fields"

    endpoint = models.CharField(max_length=32, default="*", help_text="An endpoint name, or *.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    probability = models.FloatField(default=1.0)
    remaining = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no limit.")
    reset_after = models.PositiveIntegerField(default=60, help_text="rate_limit: seconds.")
    delay = models.FloatField(default=15.0, help_text="slow: seconds.")
    drop_fields = models.JSONField(default=list, blank=True, help_text="missing_fields.")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.kind} on {self.endpoint}"


class IdClock(models.Model):
    """One row: the last snowflake handed out, so ids grow across every sandbox process."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_id = models.BigIntegerField()

    def __str__(self) -> str:
        return str(self.last_id)


class Redaction(models.Model):
    """A tweet that is gone from X (its author deleted it): the Tweet row is deleted,
    this remembers it for X's tweet compliance jobs (compliance.py)."""

    tweet_id = models.BigIntegerField(primary_key=True)
    author_id = models.BigIntegerField()
    reason = models.CharField(max_length=16, default="deleted")
    redacted_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.tweet_id} ({self.reason})"


class ComplianceJob(models.Model):
    """One of X's batch compliance jobs (POST /2/compliance/jobs): ids uploaded to its
    upload_url, results downloaded from its download_url, both served by the sandbox."""

    class Status(models.TextChoices):
        CREATED = "created"
        IN_PROGRESS = "in_progress"
        COMPLETE = "complete"
        FAILED = "failed"
        EXPIRED = "expired"

    id = models.BigIntegerField(primary_key=True)
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=8)  # tweets | users
    name = models.CharField(max_length=64, blank=True)
    resumable = models.BooleanField(default=False)
    status = models.CharField(max_length=16, default=Status.CREATED)
    # The secret in the upload and download URLs (X signs them; so does the sandbox).
    token = models.CharField(max_length=64)
    result = models.TextField(blank=True)
    status_checks = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Compliance job {self.id} ({self.type}, {self.status})"
