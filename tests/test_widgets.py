"""twelp.widgets: the form renderer writes the same HTML as Django's own."""

from __future__ import annotations

import uuid

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from inbox.forms import NoteForm, ReplyForm
from twelp import widgets

VALUES = [
    None,
    "",
    "plain",
    "@kim <b>bold</b> & \"quoted\" 'single'\nsecond line  ",
    mark_safe("<i>safe</i> & kept"),
    0,
    1000,
    True,
    False,
    uuid.UUID(int=12345),
    gettext_lazy("Reply"),
    3.5,
    ["a", "b"],
]

WIDGETS = [
    forms.TextInput,
    forms.HiddenInput,
    forms.NumberInput,
    forms.EmailInput,
    forms.PasswordInput,
    forms.URLInput,
    forms.Textarea,
    forms.DateInput,
    forms.DateTimeInput,
    forms.CheckboxInput,
    forms.Select,
]


def _attrs(value: object) -> dict[str, object]:
    return {
        "rows": 4,
        "data-counter": "reply",
        "required": True,
        "disabled": False,
        "placeholder": gettext_lazy("Only colleagues see this."),
        "title": value,
        "data-<x>": "a&b",
    }


@pytest.mark.parametrize("widget_class", WIDGETS)
def test_every_widget_and_value_renders_as_djangos(widget_class):
    ours, django = widgets.Renderer(), DjangoTemplates()
    for value in VALUES:
        widget = widget_class(attrs=_attrs(value))
        for language in ("en", "es"):
            with override(language):
                try:
                    expected = widget.render("text", value, renderer=django)
                except (TypeError, ValueError, AttributeError):
                    continue  # a value this widget cannot show at all
                assert widget.render("text", value, renderer=ours) == expected, (value, language)


def test_the_thread_pages_forms_render_as_djangos():
    token = uuid.uuid4()
    initial = {"text": "@cust1 <hi> & ", "client_token": token, "written_against": 1234}
    bound = {"text": "x" * 3000, "client_token": "not a uuid", "written_against": "-1"}
    cases = [
        lambda renderer: ReplyForm(initial=initial, renderer=renderer),
        lambda renderer: ReplyForm(bound, renderer=renderer),
        lambda renderer: NoteForm(renderer=renderer),
    ]
    for make in cases:
        ours, django = make(None), make(DjangoTemplates())
        assert isinstance(ours.renderer, widgets.Renderer)
        ours.is_valid(), django.is_valid()
        for name in ours.fields:
            assert str(ours[name]) == str(django[name]), name


def test_the_writers_are_used_for_plain_inputs_and_textareas_only():
    renderer = widgets.Renderer()
    assert renderer._writer("django/forms/widgets/text.html") is widgets._input
    assert renderer._writer("django/forms/widgets/hidden.html") is widgets._input
    assert renderer._writer("django/forms/widgets/textarea.html") is widgets._textarea
    assert renderer._writer("django/forms/widgets/select.html") is False
    assert (
        renderer._writer("django/forms/widgets/checkbox.html") is widgets._input
    )  # input.html too
    assert renderer._writer("django/forms/widgets/radio.html") is False
    assert renderer._writer("no/such/template.html") is False
