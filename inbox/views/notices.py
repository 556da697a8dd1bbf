"""The top bar's notifications (issue 21): the list, the badge the page polls when the
push is down, and marking read. Every employee sees and marks only their own
(inbox.live.notices, inbox.notifications)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from agents.access import ANY_EMPLOYEE, AgentRequest, role_required
from inbox import notifications
from inbox.live import notices
from inbox.models import Notification

PAGE = 50


@require_GET
@role_required(ANY_EMPLOYEE)
def notification_list(request: AgentRequest) -> HttpResponse:
    """The employee's notifications, newest first; the unread ones marked."""
    rows = notices.listed(request.agent.id, limit=PAGE)
    for row in rows:
        row.link = notices.link(row)
    unread = sum(1 for row in rows if row.read_at is None)
    return render(request, "inbox/notifications.html", {"rows": rows, "unread": unread})


@require_GET
@never_cache
@role_required(ANY_EMPLOYEE)
def badge(request: AgentRequest) -> HttpResponse:
    """The unread count and newest unread one, as JSON: the page's poll while the push
    stream cannot be opened (the push sends the same as `event: notices`)."""
    return HttpResponse(notices.badge(request.agent.id), content_type="application/json")


@require_POST
@role_required(ANY_EMPLOYEE)
def mark_read(request: AgentRequest) -> HttpResponse:
    """`id`: that notification is marked read and its thread opened; no `id`: all of the
    employee's are marked read. Another employee's id marks nothing (the list again)."""
    raw = request.POST.get("id", "")
    if not raw:
        changed = notifications.mark_read(request.agent)
        messages.success(
            request,
            ngettext(
                "Marked %(changed)s notification read.",
                "Marked %(changed)s notifications read.",
                changed,
            )
            % {"changed": changed},
        )
        return redirect("inbox:notifications")
    found = (
        Notification.objects.filter(id=int(raw), agent_id=request.agent.id).first()
        if raw.isdigit()
        else None
    )
    if found is None:
        messages.error(request, _("That notification is not yours, or no longer exists."))
        return redirect("inbox:notifications")
    notifications.mark_read(request.agent, [found.id])
    return redirect(notices.link(found))
