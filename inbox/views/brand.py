"""The brand's settings page (admins only)."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from agents.access import ADMINS, AgentRequest, role_required
from inbox.brand_settings import save
from inbox.forms import DEFAULT_TEXT, BrandSettingsForm
from inbox.ingest import autoreply
from inbox.models import Brand
from inbox.rules import sla
from inbox.rules.text import relay_hashtag


def _initial(brand: Brand) -> dict[str, object]:
    return {
        "timezone": brand.timezone,
        "business_hours": json.dumps(brand.business_hours) if brand.business_hours else "",
        "auto_reply_enabled": brand.auto_reply_enabled,
        "auto_reply_text": brand.auto_reply_text or DEFAULT_TEXT,
        "relay_hashtag": relay_hashtag(brand),
        "x_access": brand.x_access,
        "survey_enabled": brand.survey_enabled,
        **{name: _days(getattr(brand, name)) for name in RETENTION_FIELDS},
    }


RETENTION_FIELDS = ("retain_closed_threads", "retain_raw_payloads", "retain_quarantine")


def _days(period: timedelta | None) -> int | None:
    return period.days if period else None


@require_http_methods(["GET", "POST"])
@role_required(ADMINS)
def settings_page(request: AgentRequest) -> HttpResponse:
    brand = request.agent.brand
    form = BrandSettingsForm(request.POST or None, initial=_initial(brand))
    if request.method == "POST" and request.POST.get("preview"):
        # The auto-reply preview as the admin types (htmx): nothing is saved.
        return render(request, PAGE + "#preview", {"preview": _preview(brand, form)})
    if request.method == "POST" and form.is_valid():
        save(brand, form.cleaned_data, actor=request.agent)
        messages.success(request, _("Saved the brand's settings."))
        return redirect("inbox:brand_settings")
    context = {
        "form": form,
        "brand": brand,
        "hours": sla.hours_for(brand),
        "preview": _preview(brand, form),
    }
    return render(request, PAGE, context)


PAGE = "inbox/brand_settings.html"


def _preview(brand: Brand, form: BrandSettingsForm) -> dict[str, str]:
    """The auto-reply as a customer would get it if they wrote now while the team is away:
    {next_open} filled from the hours and zone on the page (posted, when valid), else the
    saved ones."""
    text = form.data.get("auto_reply_text") if form.is_bound else None
    text = (text if text is not None else brand.auto_reply_text or DEFAULT_TEXT).strip()
    timezone_name, hours = brand.timezone, brand.business_hours
    if form.is_bound:
        form.is_valid()  # fills cleaned_data for the fields that are fine
        timezone_name = form.cleaned_data.get("timezone", timezone_name)
        hours = form.cleaned_data.get("business_hours", hours)
    opening = sla.Hours(hours or None, timezone_name)
    now = timezone.now()
    if opening.always_open or opening.open_span(now):
        when = autoreply.SOON
    else:
        opens = opening.next_open(now)
        when = autoreply.describe(opens, now, opening) if opens else autoreply.NEVER
    return {"text": autoreply.render(text, "customer", when), "when": when}
