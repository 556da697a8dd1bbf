"""Removing a customer's messages, shared by erasure, retention and X's compliance.

A Reply keeps a PROTECT reference to the message it answers (the outbox needs its X id
to post in reply). So:
1. Replies done with X (posted, failed, discarded) let go of the message first.
2. A message a queued or sending reply still needs is blanked (text and raw emptied),
   not deleted; a later sweep removes it once that reply is done.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q

from inbox.models import Message, Reply, ReplyStatus

_IN_FLIGHT = [ReplyStatus.QUEUED, ReplyStatus.SENDING]


def remove_messages(messages: Q) -> int:
    """Delete (or, while a pending reply needs one, blank) the messages `messages`
    selects; how many. The caller's transaction."""
    ids = list(Message.objects.filter(messages).values_list("id", flat=True))
    if not ids:
        return 0
    Reply.objects.filter(in_reply_to_id__in=ids).exclude(status__in=_IN_FLIGHT).update(
        in_reply_to=None
    )
    needed = set(
        Reply.objects.filter(in_reply_to_id__in=ids, status__in=_IN_FLIGHT).values_list(
            "in_reply_to_id", flat=True
        )
    )
    if needed:
        Message.objects.filter(id__in=needed).update(text="", raw={})
    gone = [i for i in ids if i not in needed]
    # One DELETE: no row refers to these any more (Reply.in_reply_to was the only
    # reference, let go above), so Django's collector, which would load every row with
    # its raw payload to look for references, has nothing to find.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM inbox_message WHERE id = ANY(%s)", [gone])
    return len(ids)
