"""The search page (inbox.search): any active employee of the brand, their brand only.
GET only: a search changes nothing. The "More" row asks for the next page by keyset."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from agents.access import ANY_EMPLOYEE, AgentRequest, role_required
from agents.models import Agent, AgentState
from inbox.forms import SearchForm
from inbox.models import Source
from inbox.search import find
from inbox.views.throttle import throttled


@require_GET
@role_required(ANY_EMPLOYEE)
@throttled("search")
@vary_on_headers("HX-Request")
def search(request: AgentRequest) -> HttpResponse:
    agent = request.agent
    agents = list(
        Agent.objects.filter(brand_id=agent.brand_id)
        .exclude(state__in=[AgentState.PENDING, AgentState.REJECTED])
        .order_by("name", "id")
    )
    sources = list(Source.objects.filter(brand_id=agent.brand_id).order_by("id"))
    form = SearchForm(request.GET or None, agents=agents, sources=sources, brand_id=agent.brand_id)
    context: dict[str, object] = {"form": form, "page": None}
    if form.is_bound and form.asked() and form.is_valid():
        after = find.Cursor.decode(request.GET.get("after", ""))
        page = find.search(agent, form.terms(), form.filters(), after)
        context |= {
            "page": page,
            "next_cursor": page.next_cursor.encode() if page.next_cursor else None,
            "query": form.query_string(),
            "customer": form.customer,
        }
        if request.htmx and after is not None:
            return render(request, "inbox/search.html#rows", context)
    return render(request, "inbox/search.html", context)
