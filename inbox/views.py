from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from agents.access import ANY_EMPLOYEE, AgentRequest, role_required
from inbox.models import ThreadStatus
from inbox.queries import Cursor, queue_page


@require_GET
@role_required(ANY_EMPLOYEE)
@vary_on_headers("HX-Request")
def queue(request: AgentRequest) -> HttpResponse:
    status = request.GET.get("status", ThreadStatus.OPEN)
    if status not in ThreadStatus.values:
        status = ThreadStatus.OPEN
    after = Cursor.decode(request.GET.get("after", ""))
    threads, next_cursor = queue_page(request.agent.brand, status, after)
    context = {
        "threads": threads,
        "status": status,
        "statuses": ThreadStatus.choices,
        "next_cursor": next_cursor.encode() if next_cursor else None,
    }
    template = "inbox/queue.html#rows" if request.htmx else "inbox/queue.html"
    return render(request, template, context)
