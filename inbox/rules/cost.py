"""What X charges for one answer (pay-per-use, per call): its cost class.

| class           | when                                             | default price |
| --------------- | ------------------------------------------------ | ------------: |
| DM              | a direct message                                 |        $0.015 |
| post with a URL | any public post whose text carries a link        |        $0.20  |
| summoned reply  | a public reply to a post that tagged the brand   |        $0.01  |
| post            | a standalone post (an approved brand tweet)      |        $0.015 |

A link decides first: a reply with a URL is billed as a post with a URL, not as a
summoned reply. Prices are settings (X_PRICE_*), so a change of X's price list is a
configuration change.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy
from twitter_text import extract_urls


@dataclass(frozen=True)
class Prices:
    post: Decimal
    post_with_url: Decimal
    summoned_reply: Decimal
    dm: Decimal


@dataclass(frozen=True)
class CostClass:
    label: str  # in the reader's language when rendered (a lazy translation)
    price: Decimal


def cost_class(text: str, *, dm: bool, reply: bool, prices: Prices) -> CostClass:
    if dm:
        return CostClass(gettext_lazy("DM"), prices.dm)
    if extract_urls(text):
        return CostClass(gettext_lazy("post with a URL"), prices.post_with_url)
    if reply:
        return CostClass(gettext_lazy("summoned reply"), prices.summoned_reply)
    return CostClass(gettext_lazy("post"), prices.post)


def current_prices() -> Prices:
    """The prices in the settings (X_PRICE_*)."""
    return Prices(
        post=settings.X_PRICE_POST,
        post_with_url=settings.X_PRICE_POST_URL,
        summoned_reply=settings.X_PRICE_SUMMONED_REPLY,
        dm=settings.X_PRICE_DM,
    )
