"""What X charges per answer: a URL makes any post $0.20; a summoned reply $0.01."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inbox.rules import cost

PRICES = cost.Prices(
    post=Decimal("0.015"),
    post_with_url=Decimal("0.20"),
    summoned_reply=Decimal("0.01"),
    dm=Decimal("0.015"),
)


@pytest.mark.parametrize(
    ("text", "dm", "reply", "label", "price"),
    [
        ("@kim on its way ^JD", False, True, "summoned reply", "0.01"),
        ("@kim track it at acme.com/track ^JD", False, True, "post with a URL", "0.20"),
        ("@kim https://acme.com/t ^JD", False, True, "post with a URL", "0.20"),
        ("Tip: restart the router ^JD", False, False, "post", "0.015"),
        ("see https://acme.com in private ^JD", True, True, "DM", "0.015"),
    ],
)
def test_it_classes_each_answer(text, dm, reply, label, price):
    found = cost.cost_class(text, dm=dm, reply=reply, prices=PRICES)
    assert (found.label, found.price) == (label, Decimal(price))


def test_prices_come_from_the_settings(settings):
    settings.X_PRICE_POST_URL = Decimal("0.25")
    assert cost.current_prices().post_with_url == Decimal("0.25")
