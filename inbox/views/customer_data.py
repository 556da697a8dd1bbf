"""Admins: export or erase one customer's data (inbox.data.erasure)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from agents.access import ADMINS, AgentRequest, role_required
from inbox.data import erasure
from inbox.errors import ActionError
from inbox.forms import CustomerDataForm
from inbox.views import throttle


@require_http_methods(["GET", "POST"])
@role_required(ADMINS)
def customer_data(request: AgentRequest) -> HttpResponse:
    brand = request.agent.brand
    form = CustomerDataForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        who, action = form.cleaned_data["who"], form.cleaned_data["action"]
        try:
            if action == "export":
                # Reads everything of one customer: limited per admin (issue 22).
                refused = throttle.check("customer_export", request.agent.id)
                if refused is not None:
                    return throttle.answer(request, refused)
                return _download(erasure.export(brand, who, actor=request.agent))
            counts = erasure.erase(brand, who, actor=request.agent)
        except ActionError as exc:
            form.add_error("who", str(exc))
        else:
            messages.success(
                request,
                _(
                    "Erased: %(messages)s messages and %(notes)s notes removed, %(threads)s "
                    "threads and %(events)s events now name an erased customer."
                )
                % {
                    "messages": counts["messages"],
                    "notes": counts["notes"],
                    "threads": counts["threads"],
                    "events": counts["events"],
                },
            )
            return redirect("inbox:customer_data")
    return render(request, "inbox/customer_data.html", {"form": form, "brand": brand})


def _download(data: dict[str, object]) -> HttpResponse:
    handle = str(data["customer"]["handle"])  # type: ignore[index]
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2), content_type="application/json"
    )
    # The handle is [A-Za-z0-9_] on X; anything else is dropped from the file name.
    safe = "".join(c for c in handle if c.isalnum() or c == "_") or "customer"
    response["Content-Disposition"] = f'attachment; filename="twelp-customer-{safe}.json"'
    response["Cache-Control"] = "no-store"
    return response
