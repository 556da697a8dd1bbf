"""The form renderer (settings.FORM_RENDERER): Django's, with its plain <input> and
<textarea> written in Python (issue 14: the thread page's four widgets, each a template
render with an include, were ~13 % of its CPU).

1. Only templates whose source, as this renderer's engine finds it, is Django's own
   (INPUT, TEXTAREA, ATTRS below, or an include of INPUT alone, as text.html and
   hidden.html are) are written here; anything else (a select, a checkbox, a template
   a project overrides, another Django version's) is rendered by the engine as before.
2. What is written is what those templates render: each value through the filters and
   escaping they apply (`stringformat:'s'`, autoescaping, safe strings left as they are),
   attributes in order, False left out, True bare, the result stripped as
   BaseRenderer.render strips it. A value of a type not handled here (not a str, int,
   bool, lazy translation or None; a str or lazy one where the template localizes) goes
   to the engine.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData

INPUT_NAME = "django/forms/widgets/input.html"
INPUT = (
    '<input type="{{ widget.type }}" name="{{ widget.name }}"'
    "{% if widget.value != None %} value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}"
    '{% include "django/forms/widgets/attrs.html" %}>\n'
)
TEXTAREA_NAME = "django/forms/widgets/textarea.html"
TEXTAREA = (
    '<textarea name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>\n'
    "{% if widget.value %}{{ widget.value }}{% endif %}</textarea>\n"
)
ATTRS_NAME = "django/forms/widgets/attrs.html"
ATTRS = (
    "{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}"
    "{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}"
    "{% endfor %}"
)
INCLUDES_INPUT = '{% include "django/forms/widgets/input.html" %}\n'
_PLAIN = (str, int, Promise)  # bool is an int


class Unhandled(Exception):
    """A value this module does not write: the engine renders the widget."""


def _formatted(value: Any) -> str:
    """`{{ value|stringformat:'s' }}` with autoescaping: the filter keeps a safe string safe."""
    if value is not None and not isinstance(value, _PLAIN):
        raise Unhandled(type(value).__qualname__)
    text = "%s" % value  # noqa: UP031 - the filter's own formatting
    return text if isinstance(value, SafeData) else escape(text)


def _shown(value: Any) -> str:
    """`{{ value }}` with autoescaping (a number would be localized there: not written here)."""
    if not isinstance(value, str | Promise):
        raise Unhandled(type(value).__qualname__)
    return conditional_escape(value)


def _attrs(attrs: dict[str, Any]) -> str:
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(
            f" {_shown(name)}" if value is True else f' {_shown(name)}="{_formatted(value)}"'
        )
    return "".join(out)


def _input(widget: dict[str, Any]) -> str:
    value = widget["value"]
    shown = f' value="{_formatted(value)}"' if value is not None else ""
    return (
        f'<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"'
        f"{shown}{_attrs(widget['attrs'])}>"
    )


def _textarea(widget: dict[str, Any]) -> str:
    value = widget["value"]
    text = _shown(value) if value else ""
    return f'<textarea name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>\n{text}</textarea>'


class Renderer(DjangoTemplates):
    """Django's default form renderer; the templates of invariant 1 written in Python."""

    def __init__(self) -> None:
        super().__init__()
        self._writers: dict[str, Any] = {}

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        writer = self._writers.get(template_name)
        if writer is None:
            writer = self._writers[template_name] = self._writer(template_name)
        widget = context.get("widget") if writer else None
        if writer and isinstance(widget, dict) and isinstance(widget.get("attrs"), dict):
            try:
                return writer(widget).strip()
            except (Unhandled, KeyError):
                pass
        return super().render(template_name, context, request)

    def _writer(self, template_name: str) -> Any:
        """The Python writer of `template_name`, or False: its source is not Django's."""
        if self._source(ATTRS_NAME) != ATTRS:
            return False
        source = self._source(template_name)
        if template_name == TEXTAREA_NAME and source == TEXTAREA:
            return _textarea
        if self._source(INPUT_NAME) == INPUT and source in (INPUT, INCLUDES_INPUT):
            return _input
        return False

    def _source(self, name: str) -> str | None:
        try:
            return self.get_template(name).template.source
        except Exception:  # no such template, or another engine's: not ours to write
            return None
