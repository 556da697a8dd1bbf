"""twelp.links: `{% url %}` reversed once per URL shape gives what Django's reverse gives."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.test import override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, path, reverse

from twelp import links


def _named(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            space = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            found += _named(entry, space)
        elif entry.name:
            found.append((prefix + entry.name, entry))
    return found


def test_it_gives_what_reverse_gives_for_every_named_url_of_ints():
    """Every named URL whose arguments are all ints, with several values each."""
    checked = 0
    for name, pattern in _named(get_resolver()):
        converters = pattern.pattern.converters
        if not converters or any(type(c).__name__ != "IntConverter" for c in converters.values()):
            continue
        for value in (0, 1, 9, 12345, 734_000_001, 10**15):
            args = [value + n for n in range(len(converters))]
            assert links.cached_reverse(name, args, {}, None) == reverse(name, args=args)
            kwargs = dict.fromkeys(converters, value)
            assert links.cached_reverse(name, [], kwargs, None) == reverse(name, kwargs=kwargs)
        checked += 1
    assert checked > 20


def test_it_gives_what_reverse_gives_without_arguments_and_with_strs():
    assert links.cached_reverse("inbox:queue", [], {}, None) == reverse("inbox:queue")
    for code in ("en", "es"):
        assert links.cached_reverse("javascript_catalog", [code], {}, None) == reverse(
            "javascript_catalog", args=[code]
        )


def test_it_raises_as_reverse_does():
    with pytest.raises(NoReverseMatch):
        links.cached_reverse("inbox:no_such_view", [], {}, None)
    with pytest.raises(NoReverseMatch):
        links.cached_reverse("inbox:thread", [-3], {}, None)  # not an int of the pattern
    with pytest.raises(NoReverseMatch):
        links.cached_reverse("inbox:thread", ["abc"], {}, None)


def _odd(request, value):  # pragma: no cover - never called, only reversed
    raise AssertionError


class Padded:
    """A converter that writes ints zero-padded: a marker is not its digits there."""

    regex = "[0-9]{6}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{value:06d}"


class Shifted:
    """A converter that writes another number than it was given."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        return int(value) - 1

    def to_url(self, value: int) -> str:
        return str(value + 1)


class Urls:
    from django.urls import register_converter

    register_converter(Padded, "padded")
    register_converter(Shifted, "shifted")
    urlpatterns = [
        path("p/<padded:n>/", _odd, name="padded"),
        path("s/<shifted:n>/", _odd, name="shifted"),
        path("two/<int:b>/<int:a>/", _odd, name="two"),
    ]


@override_settings(ROOT_URLCONF=Urls)
def test_a_converter_that_does_not_write_digits_is_left_to_django():
    for value in (1, 42, 999_999):
        assert links.cached_reverse("padded", [value], {}, None) == reverse("padded", args=[value])
        assert links.cached_reverse("shifted", [value], {}, None) == reverse(
            "shifted", args=[value]
        )
    with pytest.raises(NoReverseMatch):
        links.cached_reverse("padded", [1_000_000], {}, None)  # past its six digits


@override_settings(ROOT_URLCONF=Urls)
def test_keyword_holes_in_another_order_than_the_pattern():
    for a, b in ((1, 2), (30, 4)):
        assert links.cached_reverse("two", [], {"a": a, "b": b}, None) == reverse(
            "two", kwargs={"a": a, "b": b}
        )
        assert links.cached_reverse("two", [b, a], {}, None) == reverse("two", args=[b, a])


def test_the_tag_renders_as_djangos():
    """The engine's builtin: output, escaping, `as var`, a failed `as var` left empty."""
    source = (
        "{% url 'inbox:thread' n %}|{% url 'inbox:reply' thread_id=n %}|"
        "{% url 'inbox:nope' n as missing %}[{{ missing }}]|"
        "{% url 'inbox:thread' n as here %}{{ here }}|{% url 'inbox:queue' %}?x"
    )
    ours = Template(source)
    assert ours.render(Context({"n": 7})) == "/t/7/|/t/7/reply/|[]|/t/7/|/?x"
    django = Engine().from_string(source)  # Django's own builtins, no "twelp.links"
    for n in (7, 123456):
        assert ours.render(Context({"n": n})) == django.render(Context({"n": n}))
    with pytest.raises(NoReverseMatch):
        Template("{% url 'inbox:nope' %}").render(Context())
    with pytest.raises(TemplateSyntaxError):
        Template("{% url %}")
