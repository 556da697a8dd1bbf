"""The satisfaction survey's DM where the customer never wrote to the brand by DM
(inbox.quality.survey, rule 1b): ask X first, so the outbox never sends a DM X refuses.

1. X's answer (user field `receives_your_dm`, as the brand's account) comes before any
   transaction: the look-up is slow I/O, and the thread is not locked meanwhile.
2. Only a plain yes queues the survey (`_queue`, which checks everything again under the
   thread's lock: still closed, no survey meanwhile, DM budget to spare); no, a gone
   user or X refusing the look-up sends nothing. A transient failure raises for the task
   to retry. Run twice, it queues one survey.
3. The DM goes into the customer's DM thread, else one made closed for it
   (inbox.actions.unasked_dm_thread): nothing new waits in the queue.
"""

from __future__ import annotations

import logging

from django.db import transaction

from inbox import actions
from inbox.models import Survey, Thread, ThreadStatus
from inbox.quality import survey
from twelp import xgateway

log = logging.getLogger(__name__)


def offer(thread_id: int) -> Survey | None:
    thread = Thread.objects.select_related("brand", "customer").filter(id=thread_id).first()
    if thread is None or thread.status != ThreadStatus.CLOSED or not survey.eligible(thread):
        return None
    try:
        with xgateway.acting_for(thread.brand):
            accepts = xgateway.receives_dms(thread.customer.x_user_id)
    except xgateway.Permanent as error:
        log.info("No survey for thread %s: X refused the look-up: %s", thread_id, error)
        return None
    if not accepts:
        return None
    return _queue(thread_id)


@transaction.atomic(durable=True)
def _queue(thread_id: int) -> Survey | None:
    thread = (
        Thread.objects.select_for_update(no_key=True, of=("self",))
        .select_related("brand", "customer")
        .filter(id=thread_id)
        .first()
    )
    if thread is None or thread.status != ThreadStatus.CLOSED or not survey.eligible(thread):
        return None
    if not survey.dm_budget_spare(thread.brand):
        return None
    dm = survey.conversation(thread) or actions.unasked_dm_thread(thread)
    return survey.send(thread, dm)
