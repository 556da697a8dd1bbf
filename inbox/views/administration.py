"""Administration in the app (admins only): the brand's sources with X's budgets, its
rules, and the quarantine. The Django admin is not needed for any of it."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.access import ADMINS, AgentRequest, role_required
from inbox.configure import rules, sources
from inbox.errors import ActionError
from inbox.forms import SOURCE_KINDS, RulesForm, SourceForm
from inbox.ingest import requeue
from inbox.models import Brand, Source
from inbox.rules import request_budget as budget


@require_GET
@role_required(ADMINS)
def source_list(request: AgentRequest) -> HttpResponse:
    brand = request.agent.brand
    context = {
        "brand": brand,
        "sources": Source.objects.filter(brand=brand).order_by("kind", "query", "id"),
        "budgets": sources.budgets_with(brand, None, None),
        "quarantined": requeue.quarantined(brand).count(),
    }
    return render(request, "inbox/admin_sources.html", context)


@require_http_methods(["GET", "POST"])
@role_required(ADMINS)
def source_new(request: AgentRequest) -> HttpResponse:
    form = SourceForm(request.POST if request.method == "POST" else None)
    return _source_form(request, form, None)


@require_http_methods(["GET", "POST"])
@role_required(ADMINS)
def source_edit(request: AgentRequest, source_id: int) -> HttpResponse:
    source = Source.objects.filter(brand=request.agent.brand, id=source_id).first()
    if source is None:
        raise Http404(_("No such source."))
    initial = {
        "kind": source.kind,
        "query": source.query,
        "interval_seconds": int(source.poll_interval.total_seconds()),
        "active": source.active,
    }
    kinds = [(source.kind, source.get_kind_display())]  # a source keeps its kind
    data = request.POST if request.method == "POST" else None
    form = SourceForm(data, initial=initial, kinds=kinds)
    return _source_form(request, form, source)


def _source_form(request: AgentRequest, form: SourceForm, source: Source | None) -> HttpResponse:
    brand = request.agent.brand
    if request.method == "POST" and form.is_valid():
        try:
            source_id = source.id if source else None
            change = _change(form.cleaned_data)
            saved = sources.do_save_source(brand, change, source_id=source_id, actor=request.agent)
        except ActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Saved: %(saved)s. It is polled from now on.") % {"saved": saved}
            )
            return redirect("inbox:admin_sources")
    context = {
        "form": form,
        "source": source,
        "budgets": _preview(brand, form, source),
    }
    return render(request, "inbox/admin_source_form.html", context)


@require_GET
@role_required(ADMINS)
def budget_preview(request: AgentRequest) -> HttpResponse:
    """The budget table with the form's values as typed (htmx, on every change)."""
    brand = request.agent.brand
    source = None
    if (source_id := request.GET.get("source", "")).isdigit():
        source = Source.objects.filter(brand=brand, id=int(source_id)).first()
    kinds = [(source.kind, source.get_kind_display())] if source else SOURCE_KINDS
    form = SourceForm(request.GET, kinds=kinds)
    context = {"budgets": _preview(brand, form, source), "form": form}
    return render(request, "inbox/admin_source_form.html#budget", context)


def _change(data: dict) -> sources.Change:
    return sources.Change(
        data["kind"], data.get("query", ""), data["interval_seconds"], data.get("active", False)
    )


def _preview(brand: Brand, form: SourceForm, source: Source | None) -> list[budget.Budget]:
    change = _change(form.cleaned_data) if form.is_bound and form.is_valid() else None
    if change is None and source is not None:  # unbound, or invalid: as it is now
        change = sources.Change(
            source.kind, source.query, int(source.poll_interval.total_seconds()), source.active
        )
    return sources.budgets_with(brand, change, source and source.id)


@require_http_methods(["GET", "POST"])
@role_required(ADMINS)
def rules_page(request: AgentRequest) -> HttpResponse:
    brand = request.agent.brand
    initial = {
        "sla_first_response_minutes": int(brand.sla_first_response.total_seconds() // 60),
        "sla_resolution_minutes": int(brand.sla_resolution.total_seconds() // 60),
        "urgent_keywords": "\n".join(brand.urgent_keywords or []),
        "credit_format": brand.credit_format,
        "employee_id_pattern": brand.employee_id_pattern,
    }
    form = RulesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        rules.do_save_rules(brand, form.cleaned_data, actor=request.agent)
        messages.success(request, _("Saved the brand's rules."))
        return redirect("inbox:admin_rules")
    return render(request, "inbox/admin_rules.html", {"form": form, "brand": brand})


@require_GET
@role_required(ADMINS)
def quarantine(request: AgentRequest) -> HttpResponse:
    rows = requeue.quarantined(request.agent.brand).order_by("-created_at", "-id")
    context = {"rows": rows[:100], "total": rows.count()}
    return render(request, "inbox/admin_quarantine.html", context)


@require_POST
@role_required(ADMINS)
def quarantine_retry(request: AgentRequest, quarantine_id: int) -> HttpResponse:
    _require_quarantined(request.agent.brand, quarantine_id)
    try:
        outcome = requeue.do_retry(request.agent.brand, quarantine_id, actor=request.agent)
    except ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, outcome)
    return redirect("inbox:admin_quarantine")


@require_POST
@role_required(ADMINS)
def quarantine_discard(request: AgentRequest, quarantine_id: int) -> HttpResponse:
    _require_quarantined(request.agent.brand, quarantine_id)
    try:
        requeue.do_discard(request.agent.brand, quarantine_id, actor=request.agent)
    except ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Discarded."))
    return redirect("inbox:admin_quarantine")


def _require_quarantined(brand: Brand, quarantine_id: int) -> None:
    """Another brand's item, or one already handled: a 404, as everywhere."""
    if not requeue.quarantined(brand).filter(id=quarantine_id).exists():
        raise Http404(_("Not in the quarantine."))
