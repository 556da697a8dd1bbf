"""{% kept %} (inbox.templatetags.kept): a part is reused while its arguments' values are
the same, and rendered again as soon as any of them changes, however deep the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from inbox.templatetags import kept
from tests.helpers import make_thread

pytestmark = pytest.mark.django_db


def part(body: str, args: str = "a") -> Template:
    # `b` is read inside but is not an argument: the output shows whether it was re-rendered.
    return Template("{% load kept %}{% kept " + args + " %}" + body + "{% endkept %}")


def test_it_reuses_a_part_while_its_arguments_are_the_same():
    t = part("{{ a }}/{{ b }}")
    assert t.render(Context({"a": 1, "b": 1})) == "1/1"
    assert t.render(Context({"a": 1, "b": 2})) == "1/1"  # kept: b is not an argument
    assert t.render(Context({"a": 2, "b": 2})) == "2/2"  # a changed: rendered again


def test_a_change_of_any_field_of_a_model_or_its_related_rows_renders_it_again(brand, customer):
    thread = make_thread(brand, customer, 1)
    t = part("{{ a.customer.name }} {{ a.priority }} {{ b }}")
    first = t.render(Context({"a": thread, "b": "first"}))
    assert first.endswith("first")
    assert t.render(Context({"a": thread, "b": "second"})) == first
    thread.priority += 1  # a field of the row
    assert t.render(Context({"a": thread, "b": "third"})).endswith("third")
    thread.customer.name = "Someone else"  # a related row read with it
    changed = t.render(Context({"a": thread, "b": "fourth"}))
    assert "Someone else" in changed
    assert changed.endswith("fourth")


def test_items_of_lists_dicts_and_dataclasses_count():
    @dataclass
    class Row:
        counts: dict[str, int]

    t = part("{{ a.0.counts.open }} {{ b }}")
    assert t.render(Context({"a": [Row({"open": 1})], "b": 1})) == "1 1"
    assert t.render(Context({"a": [Row({"open": 1})], "b": 2})) == "1 1"
    assert t.render(Context({"a": [Row({"open": 2})], "b": 3})) == "2 3"


def test_a_filtered_argument_is_keyed_by_its_filtered_value():
    t = part("{{ a|date:'H:i' }} {{ b }}", args="a|date:'H:i'")

    def at(minute: int, second: int) -> datetime:
        return datetime(2026, 1, 1, 10, minute, second, tzinfo=UTC)

    with timezone.override(UTC):
        assert t.render(Context({"a": at(0, 1), "b": 1})) == "10:00 1"
        assert t.render(Context({"a": at(0, 59), "b": 2})) == "10:00 1"
        assert t.render(Context({"a": at(1, 0), "b": 3})) == "10:01 3"


def test_each_language_has_its_own_render():
    t = part("{% load i18n %}{% translate 'Open' %} {{ b }}")
    with translation.override("en"):
        assert t.render(Context({"a": 1, "b": 1})) == "Open 1"
    with translation.override("es"):
        spanish = t.render(Context({"a": 1, "b": 2}))
    assert spanish.endswith(" 2")
    assert not spanish.startswith("Open")


def test_a_part_showing_a_csrf_token_is_kept_per_token():
    t = part("{% csrf_token %}")
    assert 'value="one"' in t.render(Context({"a": 1, "csrf_token": "one"}))
    assert 'value="two"' in t.render(Context({"a": 1, "csrf_token": "two"}))


def test_a_value_it_cannot_read_in_full_is_rendered_every_time():
    class Opaque:
        def __init__(self, n: int) -> None:
            self.n = n

    t = part("{{ a.n }} {{ b }}")
    assert t.render(Context({"a": Opaque(1), "b": 1})) == "1 1"
    assert t.render(Context({"a": Opaque(1), "b": 2})) == "1 2"  # not kept
    with pytest.raises(kept.Unkept):
        kept.shape(Opaque(1))


def test_it_keeps_at_most_its_limit_the_least_recently_used_dropped(monkeypatch):
    monkeypatch.setattr(kept, "LIMIT", 3)
    t = part("{{ a }}/{{ b }}")
    for n in range(3):
        t.render(Context({"a": n, "b": "first"}))
    t.render(Context({"a": 0, "b": "again"}))  # 0 used again: 1 is now the oldest
    t.render(Context({"a": 3, "b": "first"}))
    node = next(n for n in t.nodelist if isinstance(n, kept.KeptNode))
    assert len(node.renders) == 3
    assert t.render(Context({"a": 0, "b": "later"})) == "0/first"  # still kept
    assert t.render(Context({"a": 1, "b": "later"})) == "1/later"  # dropped, rendered again


def test_it_keeps_at_most_its_characters(monkeypatch):
    monkeypatch.setattr(kept, "CHARS", 10)
    t = part("{{ a }}-------")  # 8 characters each
    t.render(Context({"a": 1}))
    t.render(Context({"a": 2}))
    node = next(n for n in t.nodelist if isinstance(n, kept.KeptNode))
    assert len(node.renders) == 1
    assert node.chars == 8
