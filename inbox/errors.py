from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from agents.models import Agent


class ActionError(Exception):
    """A user-facing refusal: the message says what happened and what to do next."""


class AlreadyClaimed(ActionError):
    def __init__(self, holder: Agent | None) -> None:
        who = (
            f"{holder.name} (^{holder.credit_code or holder.initials})" if holder else _("Someone")
        )
        super().__init__(
            _("%(who)s already has this thread. Take the next one instead.") % {"who": who}
        )
        self.holder = holder
