"""Canned answers: saved texts with placeholders, rendered for one thread and one agent.

| placeholder | becomes |
| ----------- | ------- |
| {customer}  | the customer's first name as on X (their @handle when they show no name) |
| {agent}     | the writing agent's first name |

`{{` and `}}` write a literal brace. Anything else in braces is refused when the answer is
saved, with the placeholders it may use, so rendering never fails at the reply box.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING

from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from inbox.models import Brand, CannedAnswer, Thread

if TYPE_CHECKING:
    from agents.models import Agent

PLACEHOLDERS = ("customer", "agent")
MAX_RESULTS = 20


class TemplateError(ValueError):
    """The text cannot be saved as a canned answer; the message says why."""


def check_template(text: str) -> str:
    """The text, stripped, if it is a usable canned answer; else TemplateError."""
    text = text.strip()
    if not text:
        raise TemplateError(_("A canned answer needs some text."))
    allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise TemplateError(
            _("Unbalanced { or }. Placeholders are %(allowed)s; write {{ or }} for a brace.")
            % {"allowed": allowed}
        ) from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            raise TemplateError(
                _("Unknown placeholder {%(field)s}: use %(allowed)s.")
                % {"field": field, "allowed": allowed}
            )
        if spec or conversion:
            raise TemplateError(
                _("Write {%(field)s} plainly, without a format or conversion.") % {"field": field}
            )
    return text


def render(text: str, *, thread: Thread, agent: Agent) -> str:
    """The answer with its placeholders filled for this customer and agent."""
    customer = thread.customer
    values = {
        "customer": _first_word(customer.name) or f"@{customer.handle}",
        "agent": _first_word(agent.name) or agent.initials,
    }
    return text.format(**values)


def search(brand: Brand, query: str, *, limit: int = MAX_RESULTS) -> list[CannedAnswer]:
    """The brand's answers whose title or text contains every word of `query`, by title."""
    rows = CannedAnswer.objects.filter(brand=brand)
    for word in query.split()[:5]:
        rows = rows.filter(Q(title__icontains=word) | Q(text__icontains=word))
    return list(rows.order_by(Lower("title"), "id")[:limit])


def _first_word(name: str) -> str:
    words = name.split()
    return words[0] if words else ""
