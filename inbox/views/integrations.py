"""Admins' integrations page: API tokens for /api/v1/ (inbox.integrations.tokens) and
webhook endpoints with their deliveries (inbox.integrations.webhooks)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from agents.access import ADMINS, AgentRequest, role_required
from inbox.errors import ActionError
from inbox.forms import ApiTokenForm, WebhookForm
from inbox.integrations import tokens, webhooks
from inbox.models import ApiToken, WebhookEndpoint


@require_http_methods(["GET", "POST"])
@role_required(ADMINS)
def integrations(request: AgentRequest) -> HttpResponse:
    """The brand's API tokens; a new one is shown once, on this answer only."""
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = tokens.create_token(actor=request.agent, **form.cleaned_data)
        except ActionError as error:
            form.add_error(None, str(error))
        else:
            form = ApiTokenForm()
    return _page(request, form=form, created=created)


def _page(
    request: AgentRequest,
    *,
    form: ApiTokenForm | None = None,
    webhook_form: WebhookForm | None = None,
    created: tokens.Created | None = None,
) -> HttpResponse:
    context = {
        "form": form or ApiTokenForm(),
        "webhook_form": webhook_form or WebhookForm(),
        "created": created,
        "tokens": tokens.tokens_of(request.agent.brand_id),
        "endpoints": webhooks.endpoints_of(request.agent.brand_id),
    }
    response = render(request, "inbox/integrations.html", context)
    response["Cache-Control"] = "no-store"  # a new token, the webhooks' secrets
    return response


@require_POST
@role_required(ADMINS)
def add_webhook(request: AgentRequest) -> HttpResponse:
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            endpoint = webhooks.add_endpoint(actor=request.agent, **form.cleaned_data)
        except ActionError as error:
            form.add_error("url", str(error))
        else:
            messages.success(request, _("Added the webhook to %(url)s.") % {"url": endpoint.url})
            return redirect("inbox:integrations")
    return _page(request, webhook_form=form)


def _endpoint(request: AgentRequest, webhook_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(
        id=webhook_id, brand_id=request.agent.brand_id, removed_at__isnull=True
    ).first()
    if endpoint is None:
        raise Http404(_("No such webhook."))
    return endpoint


@require_http_methods(["GET"])
@role_required(ADMINS)
def webhook_deliveries(request: AgentRequest, webhook_id: int) -> HttpResponse:
    """The endpoint's latest deliveries, each with its response."""
    endpoint = _endpoint(request, webhook_id)
    context = {"endpoint": endpoint, "deliveries": webhooks.recent_deliveries(endpoint)}
    response = render(request, "inbox/webhook_deliveries.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@role_required(ADMINS)
def remove_webhook(request: AgentRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    webhooks.remove_endpoint(endpoint.id, actor=request.agent)
    messages.success(request, _("Removed the webhook to %(url)s.") % {"url": endpoint.url})
    return redirect("inbox:integrations")


@require_POST
@role_required(ADMINS)
def resume_webhook(request: AgentRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    if endpoint.paused_at is None:
        messages.info(request, _("That webhook is not paused."))
    else:
        webhooks.resume_endpoint(endpoint.id, actor=request.agent)
        messages.success(request, _("Resumed the webhook to %(url)s.") % {"url": endpoint.url})
    return redirect("inbox:integrations")


@require_POST
@role_required(ADMINS)
def revoke_token(request: AgentRequest, token_id: int) -> HttpResponse:
    try:
        row = tokens.revoke_token(token_id, actor=request.agent)
    except ApiToken.DoesNotExist:
        raise Http404(_("No such token.")) from None
    messages.success(
        request, _("Revoked the token “%(name)s”: it works no more.") % {"name": row.name}
    )
    return redirect("inbox:integrations")
