"""The search box's input taken apart (inbox.search.terms): whatever is typed is searched
or refused with a message, never an error."""

from __future__ import annotations

import pytest

from inbox.search.terms import MAX_LENGTH, Refused, Terms, parse


def test_it_splits_handles_tags_and_words():
    assert parse('@Kim "label created" #VIP tag:refund') == Terms(
        '"label created"', ("kim",), ("vip", "refund")
    )


def test_an_email_address_is_words_not_a_handle():
    assert parse("kim@example.com").handles == ()


@pytest.mark.parametrize("raw", ["😡😡", "!!! ???", "🔥 #", "@"])
def test_it_refuses_nothing_searchable_with_a_message(raw):
    with pytest.raises(Refused, match="Emoji and punctuation alone"):
        parse(raw)


def test_emoji_beside_a_word_keeps_the_word():
    assert parse("refund 😡").words == "refund 😡"


def test_it_refuses_a_search_of_5000_characters_saying_its_length():
    with pytest.raises(Refused, match=f"at most {MAX_LENGTH} characters .this one has 5,000"):
        parse("a" * 5000)


def test_it_drops_nul_characters_postgresql_cannot_hold():
    assert parse("ref\x00und").words == "refund"


def test_an_empty_box_is_empty_not_refused():
    assert parse("   ").empty
