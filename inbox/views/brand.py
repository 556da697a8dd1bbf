"""The brand's settings page (admins only)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from agents.access import ADMINS, AgentRequest, role_required
from inbox.brand_settings import save
from inbox.forms import DEFAULT_TEXT, BrandSettingsForm
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
    }


@require_http_methods(["GET", "POST"])
@role_required(ADMINS)
def settings_page(request: AgentRequest) -> HttpResponse:
    brand = request.agent.brand
    form = BrandSettingsForm(request.POST or None, initial=_initial(brand))
    if request.method == "POST" and form.is_valid():
        save(brand, form.cleaned_data, actor=request.agent)
        messages.success(request, "Saved the brand's settings.")
        return redirect("inbox:brand_settings")
    context = {"form": form, "brand": brand, "hours": sla.hours_for(brand)}
    return render(request, "inbox/brand_settings.html", context)
