"""The customer's tags, from the panel beside a thread."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from agents.access import ANY_EMPLOYEE, AgentRequest, role_required
from inbox import queries
from inbox.customers import add_tag, remove_tag
from inbox.errors import ActionError
from inbox.models import Customer


@require_POST
@role_required(ANY_EMPLOYEE)
def customer_tags(request: AgentRequest, thread_id: int) -> HttpResponse:
    """Add (`tag`) or remove (`remove`) a tag; htmx gets the tags partial back (200, with
    the error and the typed text kept), a plain form goes back to the thread."""
    thread = queries.access_thread(request.agent, thread_id)
    error, typed = "", request.POST.get("tag", "")[:100]
    try:
        if request.POST.get("remove"):
            customer = remove_tag(thread, request.POST["remove"], agent=request.agent)
        else:
            customer = add_tag(thread, typed, agent=request.agent)
            typed = ""
    except ActionError as exc:
        error, customer = str(exc), Customer.objects.get(id=thread.customer_id)
    if request.htmx:
        context = {"thread": thread, "customer": customer, "tag_error": error, "typed": typed}
        return render(request, "inbox/customer_panel.html#tags", context)
    if error:
        messages.error(request, error)
    return redirect("inbox:thread", thread_id)
