"""Listening queries checked as X's recent search would, with X's reasons."""

from __future__ import annotations

import pytest

from inbox.rules import xquery

PREFIX = "There were errors processing your request: "


@pytest.mark.parametrize(
    "query",
    [
        "acme",
        '"acme support" -is:retweet',
        "(acme OR acmecorp) lang:en -has:links",
        "#AcmeHelp from:jane_doe",
        "https://acme.example/help",
        "acme OR @acmecares",
    ],
)
def test_it_takes_what_x_takes(query):
    assert xquery.check(f"  {query} ") == query


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ('"acme support', "Unmatched quotation mark (at position 1)"),
        ('acme "support', "Unmatched quotation mark (at position 6)"),
        ("(acme OR acmecorp", "Unbalanced parentheses (at position 17)"),
        ("acme)", "Unbalanced parentheses (at position 5)"),
        ("acme colour:red", "Reference to invalid operator 'colour'"),
        ("acme is:answered", "Reference to invalid field 'is:answered' (at position 6)"),
        ("-acme -is:retweet", "Rules must contain a non-negation term"),
        ("", "Query must not be empty"),
        ("a" * 513, "Query is longer than 512 characters (it has 513)"),
    ],
)
def test_it_refuses_with_xs_reason(query, reason):
    with pytest.raises(xquery.QueryError) as refused:
        xquery.check(query)
    assert str(refused.value).startswith(PREFIX + reason)


def test_512_characters_is_still_fine():
    assert len(xquery.check("a" * 512)) == 512
