"""inbox.rules.keyset: one codec for every list's `?after=` cursor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inbox.rules import keyset

WHEN = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("parts", "kinds"),
    [
        ((3, WHEN, 42), (int, datetime, int)),
        ((WHEN, 2**63 - 1), (datetime, int)),
        (("Zoë_Smith:1", 7), (str, int)),
        (("", 7), (str, int)),
        ((datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), -1), (datetime, int)),
    ],
)
def test_it_gives_back_exactly_the_position_it_was_given(parts, kinds):
    token = keyset.encode(*parts)
    assert keyset.decode(token, *kinds) == parts
    assert token.replace("_", "").replace("-", "").isalnum()  # URL-safe as it is


def test_it_keeps_the_microseconds_a_float_would_round():
    later = WHEN.replace(microsecond=123457)
    assert keyset.encode(WHEN, 1) != keyset.encode(later, 1)
    assert keyset.decode(keyset.encode(later, 1), datetime, int) == (later, 1)


def test_it_reads_the_tokens_pages_already_carry():
    assert keyset.decode("2_1714979289123456_42", int, datetime, int) == (2, WHEN, 42)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "1_2",
        "1_2_3_4",
        "a_b_c",
        "1_99999999999999999999999_3",
        "1_2_9223372036854775808",  # past PostgreSQL's bigint
        "1_ 2_3",
        "1_+2_3",
        "1_٣_3",
        "1__3",
    ],
)
def test_it_refuses_anything_else_with_none(token):
    assert keyset.decode(token, int, datetime, int) is None


@pytest.mark.parametrize("token", ["zz_1", "abc_1", "ff_1", "41_x", "1"])
def test_it_refuses_a_string_that_is_not_hex_of_utf8(token):
    assert keyset.decode(token, str, int) is None
