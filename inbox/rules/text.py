"""Reply text: the credit signature, and X's weighted length counted with it.

Counting uses `twitter-text-parser` (twitter-text v3 rules: 280 weighted characters,
URLs 23, CJK and emoji 2); the page counts with Twitter's own JS `parseTweet`, so server
and browser agree.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from twitter_text import parse_tweet

from inbox.errors import ActionError
from inbox.models import Brand

if TYPE_CHECKING:
    from agents.models import Agent

MAX_WEIGHTED_LENGTH = 280
MAX_DM_LENGTH = 10_000


def credit_for(agent: Agent, brand: Brand | None = None) -> str:
    """The signature appended to every answer, e.g. " ^JD2" or " —@janedoe"."""
    brand = brand or agent.brand
    if brand.credit_format == Brand.CreditFormat.HANDLE:
        return f" —@{agent.x_handle}"
    return f" ^{agent.credit_code or agent.initials}"


def render_body(text: str, agent: Agent) -> tuple[str, str]:
    """(what X receives, the credit part). Whitespace at the edges is not the agent's."""
    credit = credit_for(agent)
    return text.strip() + credit, credit


def weighted_length(body: str) -> int:
    return parse_tweet(body).weightedLength


def check_reply_text(body: str, *, channel: str = "tweet") -> None:
    """Raises ActionError with the numbers when X would refuse the text."""
    if not body.strip():
        raise ActionError(_("The reply is empty."))
    if channel == "dm":  # a DM is up to 10,000 characters, unweighted
        if len(body) > MAX_DM_LENGTH:
            raise ActionError(
                ngettext(
                    "The DM is %(over)s character too long for X (%(length)s/%(limit)s). "
                    "Your text is kept.",
                    "The DM is %(over)s characters too long for X (%(length)s/%(limit)s). "
                    "Your text is kept.",
                    len(body) - MAX_DM_LENGTH,
                )
                % {"over": len(body) - MAX_DM_LENGTH, "length": len(body), "limit": MAX_DM_LENGTH}
            )
        return
    length = weighted_length(body)
    if length > MAX_WEIGHTED_LENGTH:
        over = length - MAX_WEIGHTED_LENGTH
        raise ActionError(
            ngettext(
                "The reply is %(over)s character too long for X (%(length)s/%(limit)s, your "
                "credit included). Your text is kept.",
                "The reply is %(over)s characters too long for X (%(length)s/%(limit)s, your "
                "credit included). Your text is kept.",
                over,
            )
            % {"over": over, "length": length, "limit": MAX_WEIGHTED_LENGTH}
        )


# Moving a public thread to DM (actions.do_move_to_dm): the public note, with the agent's
# credit after it, short and with no personal data.
MOVE_NOTE = "@{handle} we've sent you a DM"
_LEADING_MENTIONS = re.compile(r"^(?:\s*@\w{1,15})+\s*")


def private_text(text: str) -> str:
    """The DM's words: the public box starts with @handles, which a DM does not need."""
    return _LEADING_MENTIONS.sub("", text).strip()


def move_note(handle: str) -> str:
    """The public note that says a DM was sent to @handle."""
    return MOVE_NOTE.format(handle=handle)


# The hashtag relay's tag (inbox.ingest.relay, set on the brand's settings page).
# X's hashtags: letters, digits and underscores, not digits only.
_HASHTAG = re.compile(r"^(?!\d+$)\w{1,49}$")


def relay_hashtag(brand: Brand) -> str:
    """The brand's relay hashtag without its `#`; "" when none is set."""
    return brand.relay_hashtag.strip().removeprefix("#")


def is_hashtag(tag: str) -> bool:
    """True for what X takes as a hashtag (without its `#`)."""
    return bool(_HASHTAG.match(tag))


def strip_hashtag(text: str, tag: str) -> str:
    """The employee's words without the relay hashtag (any case), spaces tidied."""
    pattern = re.compile(rf"[ \t]*(?<![\w#])#{re.escape(tag)}(?!\w)", re.IGNORECASE)
    return pattern.sub("", text).strip()
