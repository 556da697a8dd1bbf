"""inbox.rules.reasons: a code renders in the active language; the English sentence
stored before codes parses back to its code."""

from __future__ import annotations

import pytest
from django.utils import translation

from inbox.rules import reasons

EXAMPLES = [
    reasons.make("dm_refused", handle="leo", brand="acme"),
    reasons.make("not_summoned", handle="leo", brand="acme"),
    reasons.make("x_forbidden", detail="You are not permitted to perform this action."),
    reasons.make("x_refused", detail="400 Bad Request"),
    reasons.make("tweet_refused", detail="duplicate content"),
    reasons.make("attempts_spent", attempts=5),
    reasons.make("lookup_rate_limited"),
    reasons.make("rate_limited", until="12:30:00"),
    reasons.make("x_unavailable", detail="503 Service Unavailable"),
    reasons.make("x_request_refused", detail="400"),
    reasons.make("no_account", brand="acme"),
]


@pytest.mark.parametrize("reason", EXAMPLES, ids=lambda r: r["code"])
def test_each_code_reads_differently_in_spanish_and_keeps_its_params(reason):
    english = reasons.english(reason)
    with translation.override("es"):
        spanish = reasons.words(reason)
    assert spanish and spanish != english
    for value in reason.values():
        if value != reason["code"]:
            assert str(value) in spanish and str(value) in english


@pytest.mark.parametrize("reason", EXAMPLES, ids=lambda r: r["code"])
def test_the_english_sentence_parses_back_to_its_code(reason):
    assert reasons.parse(reasons.english(reason)) == reason


def test_a_note_whose_dm_failed_renders_the_dms_reason_inside():
    dm = reasons.make("dm_refused", handle="leo", brand="acme")
    note = reasons.make("dm_not_sent", dm=dm)
    with translation.override("es"):
        assert reasons.words(note).endswith(reasons.words(dm))
    assert reasons.parse(reasons.english(note)) == note


def test_what_it_does_not_know_is_shown_as_it_is():
    assert reasons.words("Something X said.") == "Something X said."
    assert reasons.words({"code": "from_the_future", "detail": "x"}) == "x"
    assert reasons.words(None) == ""
    with translation.override("es"):
        assert reasons.words("training") == "enviado a formación"
