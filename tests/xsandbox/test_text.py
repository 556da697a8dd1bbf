"""What X does to a posted text, and its snowflake ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from twelp.xsandbox import snowflake, text


@pytest.mark.parametrize(
    ("value", "length"),
    [
        ("hello", 5),
        ("日本語", 6),  # CJK weighs 2
        ("👍🏽", 2),  # an emoji with a skin tone is one emoji
        ("👩‍💻 ok", 5),  # a joined sequence too
        ("🇫🇷", 2),  # a flag: two regional indicators
        ("see https://example.com/a/very/long/path?with=query", 27),  # links weigh 23
        ("é" * 280, 280),
        ("1️⃣", 2),  # a keycap is one emoji
        ("see bestbuy.com/a/very/long/path/that/keeps/going", 27),  # a bare link too
        ("www.example.com", 23),
        ("a.co", 23),
    ],
)
def test_it_weighs_text_as_twitter_text_does(value: str, length: int):
    assert text.weighted_length(value) == length


def test_it_wraps_links_in_tco_and_records_the_original():
    wrapped, urls = text.wrap_links("see https://example.com/help. thanks")
    assert wrapped.startswith("see https://t.co/") and wrapped.endswith(". thanks")
    [url] = urls
    assert len(url["url"]) == 23
    assert wrapped[url["start"] : url["end"]] == url["url"]
    assert (url["expanded_url"], url["display_url"]) == (
        "https://example.com/help", "example.com/help"
    )  # fmt: skip
    assert text.wrap_links("https://example.com/help")[0] == url["url"]  # same link, same t.co


def test_it_wraps_bare_domains_as_x_does():
    wrapped, urls = text.wrap_links("你好 try bestbuy.com/help. or a@b.com")
    [url] = urls
    assert wrapped == f"你好 try {url['url']}. or a@b.com"
    assert wrapped[url["start"] : url["end"]] == url["url"]
    assert (url["expanded_url"], url["display_url"]) == (
        "http://bestbuy.com/help", "bestbuy.com/help"
    )  # fmt: skip


def test_it_finds_mentions_and_hashtags_with_code_point_offsets():
    found = text.entities("日本 @Brand hi #help_me a@b.com #123", [], {"brand": 7})
    assert found == {
        "mentions": [{"start": 3, "end": 9, "username": "Brand", "id": "7"}],
        "hashtags": [{"start": 13, "end": 21, "tag": "help_me"}],
    }


def test_it_makes_ever_increasing_ids_that_carry_their_time(db: None):
    ids = snowflake.allocate(3) + [snowflake.next_id()]
    assert ids == sorted(set(ids))
    moment = snowflake.to_datetime(ids[0])
    assert abs((moment - datetime.now(UTC)).total_seconds()) < 5
    assert snowflake.to_datetime(snowflake.floor_for(moment)) == moment
    assert moment.microsecond % 1000 == 0  # whole milliseconds, as X's created_at
