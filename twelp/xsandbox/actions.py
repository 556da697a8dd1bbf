"""Every change to the sandbox's world. The API views, the persona page, the simulator and
the seed all post through here, so a tweet is the same whoever made it."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models.functions import Lower

from twelp.xsandbox import snowflake, text, wire
from twelp.xsandbox.models import Account, DirectMessage, Mention, Tweet

DM_MAX_LENGTH = 10_000
DM_NOT_ACCEPTED = "You cannot send messages to this user."
DUPLICATE_WINDOW_MS = 24 * 3600 * 1000
# X's answer, since 23 Feb 2026, to a self-serve app's reply to a post whose author did not
# mention or quote the replying account (Enterprise apps are exempt).
NOT_SUMMONED = (
    "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to."
)


class Rejected(Exception):
    """X refuses the change; `status` and `body` are its answer."""

    def __init__(self, status: int, body: dict[str, object]) -> None:
        super().__init__(body.get("detail") or body)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Draft:
    """An unsaved tweet with its mention rows: one post, or one of a simulated batch."""

    tweet: Tweet
    mentions: list[Mention]


def create_account(
    username: str,
    name: str,
    *,
    kind: str = Account.Kind.CUSTOMER,
    access_token: str = "",
    access_token_secret: str = "",
    **profile: object,
) -> Account:
    """A new X user. Its access token starts with its id, as X's do ("<id>-<secret>")."""
    prefix = access_token.partition("-")[0]
    user_id = int(prefix) if prefix.isdigit() else snowflake.next_id()
    return Account.objects.create(
        id=user_id,
        kind=kind,
        username=username,
        name=name,
        access_token=access_token or f"{user_id}-{secrets.token_urlsafe(24)}",
        access_token_secret=access_token_secret or secrets.token_urlsafe(32),
        **profile,
    )


def create_customers(names: list[tuple[str, str]]) -> list[Account]:
    """Many new customers at once, (username, name) each: what a simulated crowd needs."""
    accounts = [
        Account(
            id=user_id,
            username=username,
            name=name,
            access_token=f"{user_id}-{secrets.token_urlsafe(24)}",
            access_token_secret=secrets.token_urlsafe(32),
        )
        for user_id, (username, name) in zip(snowflake.allocate(len(names)), names, strict=True)
    ]
    return Account.objects.bulk_create(accounts)


def accounts_by_username(names: list[str]) -> dict[str, int]:
    """Lower-cased username -> id, for the names that exist."""
    lowered = {name.lower() for name in names}
    rows = Account.objects.annotate(lname=Lower("username")).filter(lname__in=lowered)
    return {row.lname: row.id for row in rows.only("id", "username")}


def draft_tweet(
    author: Account,
    body: str,
    *,
    tweet_id: int,
    parent: Tweet | None = None,
    quote_of: Tweet | None = None,
    retweet_of: Tweet | None = None,
    lang: str = "en",
    known: dict[str, int] | None = None,
    media: list[dict[str, object]] | None = None,
) -> Draft:
    """Build a tweet the way X stores it: reply mention added, links wrapped, entities set."""
    if parent is not None:
        body = _with_reply_mentions(author, body, parent)
    stored, urls = text.wrap_links(body)
    names = text.mentioned_usernames(stored)
    known = accounts_by_username(names) if known is None else known
    tweet = Tweet(
        id=tweet_id,
        author=author,
        text=stored,
        conversation_id=parent.conversation_id if parent else tweet_id,
        in_reply_to_tweet_id=parent.id if parent else None,
        in_reply_to_user_id=parent.author_id if parent else None,
        quoted_tweet_id=quote_of.id if quote_of else None,
        retweeted_tweet_id=retweet_of.id if retweet_of else None,
        lang=lang,
        entities=text.entities(stored, urls, known),
        media=media or [],
    )
    mentioned = {known[name.lower()] for name in names if name.lower() in known}
    return Draft(tweet, [Mention(tweet=tweet, account_id=i) for i in sorted(mentioned)])


def _with_reply_mentions(author: Account, body: str, parent: Tweet) -> str:
    """X starts a reply with @mentions of the replied-to author and of everyone that tweet
    mentions ("Replying to @a @b"), except the one replying; so a customer's follow-up to
    their own tweet at the brand still mentions the brand."""
    wanted: list[str] = []
    for name in [parent.author.username, *text.mentioned_usernames(parent.text)]:
        if name.lower() != author.username.lower() and name.lower() not in map(str.lower, wanted):
            wanted.append(name)
    missing = [name for name in wanted if not text.starts_with_mention_of(body, name)]
    return " ".join(f"@{name}" for name in missing) + " " + body if missing else body


def post_tweet(
    author: Account,
    body: str,
    *,
    in_reply_to_tweet_id: int | None = None,
    quote_tweet_id: int | None = None,
    lang: str = "en",
    media: list[dict[str, object]] | None = None,
) -> Tweet:
    """Post as X's POST /2/tweets does: Rejected for a missing parent, too long, duplicate."""
    parent = _visible_tweet(in_reply_to_tweet_id, "reply to")
    quoted = _visible_tweet(quote_tweet_id, "quote")
    _check_length(body)
    with transaction.atomic():
        draft = draft_tweet(
            author,
            body,
            tweet_id=snowflake.next_id(),
            parent=parent,
            quote_of=quoted,
            lang=lang,
            media=media,
        )
        _refuse_duplicate(author, draft.tweet)
        save_drafts([draft])
    return draft.tweet


def check_summoned(author: Account, in_reply_to_tweet_id: int) -> None:
    """X's summoned-reply rule for self-serve apps: `author` may reply only to a post by
    itself, or whose author mentioned it (a reply to its post carries that mention) or
    quoted one of its posts. Rejected(403) otherwise; a missing parent is post_tweet's."""
    parent = Tweet.objects.filter(pk=in_reply_to_tweet_id).first()
    if parent is None or parent.author_id == author.pk:
        return
    mentioned = Mention.objects.filter(tweet=parent, account=author).exists()
    quoted = (
        parent.quoted_tweet_id is not None
        and Tweet.objects.filter(pk=parent.quoted_tweet_id, author=author).exists()
    )
    if not (mentioned or quoted):
        raise Rejected(403, wire.problem(403, "Forbidden", NOT_SUMMONED))


def retweet(author: Account, original: Tweet) -> Tweet:
    """A plain retweet: "RT @author: text", referencing the original as `retweeted`."""
    body = f"RT @{original.author.username}: {original.text}"
    with transaction.atomic():
        draft = draft_tweet(
            author, body, tweet_id=snowflake.next_id(), retweet_of=original, lang=original.lang
        )
        save_drafts([draft])
    return draft.tweet


def save_drafts(drafts: list[Draft]) -> None:
    """Insert tweets and their mentions, and bump the counters they change."""
    Tweet.objects.bulk_create([draft.tweet for draft in drafts])
    Mention.objects.bulk_create([mention for draft in drafts for mention in draft.mentions])
    tweets = [draft.tweet for draft in drafts]
    _add_counts("xsandbox_tweet", "reply_count", Counter(t.in_reply_to_tweet_id for t in tweets))
    _add_counts("xsandbox_tweet", "quote_count", Counter(t.quoted_tweet_id for t in tweets))
    _add_counts("xsandbox_tweet", "retweet_count", Counter(t.retweeted_tweet_id for t in tweets))
    _add_counts("xsandbox_account", "tweet_count", Counter(t.author_id for t in tweets))


def _add_counts(table: str, column: str, counts: Counter[int | None]) -> None:
    """One UPDATE per batch, however many rows it bumps (a simulated run bumps thousands)."""
    counts.pop(None, None)
    if not counts:
        return
    rows = ", ".join(["(%s::bigint, %s::integer)"] * len(counts))
    # Safe to format: table and column are this module's constants; the values are %s.
    sql = (
        f"UPDATE {table} AS t SET {column} = t.{column} + v.n "  # noqa: S608
        f"FROM (VALUES {rows}) AS v(id, n) WHERE t.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for pair in counts.items() for value in pair])


def photo(alt_text: str = "", *, width: int = 1200, height: int = 900) -> dict[str, object]:
    """A photo to attach to a tweet or DM (post_tweet, send_dm's `media`)."""
    return {
        "key": f"3_{snowflake.next_id()}",
        "type": "photo",
        "width": width,
        "height": height,
        "alt_text": alt_text,
    }


def send_dm(
    sender: Account,
    recipient: Account,
    body: str,
    *,
    media: list[dict[str, object]] | None = None,
) -> DirectMessage:
    if sender.pk == recipient.pk:
        raise Rejected(400, wire.InvalidRequest("You cannot send a message to yourself.").body())
    if not body.strip() or len(body) > DM_MAX_LENGTH:
        raise Rejected(
            400, wire.InvalidRequest(f"text must be 1 to {DM_MAX_LENGTH} characters.").body()
        )
    if not recipient.accepts_dms_from(sender):
        # X answers 403 when the recipient does not allow DMs from the sender.
        raise Rejected(403, wire.problem(403, "Forbidden", DM_NOT_ACCEPTED))
    low, high = sorted((sender.pk, recipient.pk))
    return DirectMessage.objects.create(
        id=snowflake.next_id(),
        sender=sender,
        recipient=recipient,
        text=body,
        conversation_id=f"{low}-{high}",
        media=media or [],
    )


def _visible_tweet(tweet_id: int | None, verb: str) -> Tweet | None:
    if tweet_id is None:
        return None
    found = Tweet.objects.select_related("author").filter(pk=tweet_id).first()
    if found is None:
        detail = f"You attempted to {verb} a Tweet that is deleted or not visible to you."
        raise Rejected(403, wire.problem(403, "Forbidden", detail))
    return found


def _check_length(body: str) -> None:
    if not body.strip():
        raise Rejected(400, wire.InvalidRequest("Tweet text can not be empty.", "text").body())
    if text.weighted_length(body) > text.MAX_WEIGHTED_LENGTH:
        message = (
            "Your Tweet text is too long. For more information on how X determines text "
            "length see https://github.com/twitter/twitter-text."
        )
        raise Rejected(400, wire.InvalidRequest(message).body())


def _refuse_duplicate(author: Account, tweet: Tweet) -> None:
    recent = tweet.id - (DUPLICATE_WINDOW_MS << snowflake.SEQUENCE_BITS)
    if Tweet.objects.filter(author=author, id__gt=recent, text=tweet.text).exists():
        detail = "You are not allowed to create a Tweet with duplicate content."
        raise Rejected(403, wire.problem(403, "Forbidden", detail))
