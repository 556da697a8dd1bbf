"""Noise: muted words, muted customers and blocked accounts.

What they keep out of the queue, and how, is inbox.ingest.screen's.

- Blocking an account also dismisses its open, unclaimed threads (one Event each).
- Lifting a mute (unmute, unblock) keeps its row, with who lifted it and when; tweets
  filed while it was live stay where they are (a supervisor may reopen by answering).

Who: any employee may mute a customer from a thread; supervisors and admins manage muted
words, blocks, and lift any of them (inbox.views.noise).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import actions
from inbox.errors import ActionError
from inbox.models import Customer, Mute, Thread, ThreadStatus

if TYPE_CHECKING:
    from agents.models import Agent

WORD_MAX = 100
_WORD = re.compile(r"^[\w][\w' .&-]*$")


def clean_word(raw: str) -> str:
    """A muted word or phrase, lowercased and single-spaced; ActionError if unusable."""
    word = " ".join(raw.split()).lower()
    if not word:
        raise ActionError(_("Type a word or phrase to mute."))
    if len(word) > WORD_MAX:
        raise ActionError(
            _("A muted word is at most %(WORD_MAX)s characters.") % {"WORD_MAX": WORD_MAX}
        )
    if not _WORD.match(word):
        raise ActionError(_("A muted word starts with a letter or digit and has no symbols."))
    return word


@transaction.atomic(durable=True)
def mute_word(raw: str, *, agent: Agent) -> Mute:
    _must_supervise(agent)
    word = clean_word(raw)
    try:
        with transaction.atomic():
            return Mute.objects.create(
                brand_id=agent.brand_id, kind=Mute.Kind.WORD, word=word, created_by=agent
            )
    except IntegrityError:
        raise ActionError(_("“%(word)s” is already muted.") % {"word": word}) from None


@transaction.atomic(durable=True)
def mute_customer(customer: Customer, *, agent: Agent, block: bool = False) -> Mute:
    """Mute (any employee) or block (supervisors) a customer of the agent's brand. Blocking
    also dismisses the customer's open threads nobody holds."""
    if block:
        _must_supervise(agent)
    kind = Mute.Kind.BLOCK if block else Mute.Kind.CUSTOMER
    try:
        with transaction.atomic():
            mute = Mute.objects.create(
                brand_id=agent.brand_id, kind=kind, customer=customer, created_by=agent
            )
    except IntegrityError:
        said = _("@%(handle)s is already blocked.") if block else _("@%(handle)s is already muted.")
        raise ActionError(said % {"handle": customer.handle}) from None
    if block:
        open_ids = Thread.objects.filter(customer=customer, status=ThreadStatus.OPEN).values_list(
            "id", flat=True
        )
        actions.dismiss_locked(list(open_ids), agent=agent, verb="blocked")
    return mute


@transaction.atomic(durable=True)
def lift(mute_id: int, *, agent: Agent) -> Mute:
    """Unmute or unblock: the row stays, marked lifted (supervisors and admins)."""
    _must_supervise(agent)
    mute = (
        Mute.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(id=mute_id, brand_id=agent.brand_id)
    )
    if mute.lifted_at is None:
        mute.lifted_at = timezone.now()
        mute.lifted_by = agent
        mute.save(update_fields=["lifted_at", "lifted_by"])
    return mute


def _must_supervise(agent: Agent) -> None:
    if not agent.is_supervisor:
        raise ActionError(_("Only supervisors and admins manage muted words and blocks."))
