"""Admin -> X account (admins only): the brand's own X credentials, connected through X's
OAuth 2.0 consent page (PKCE) or by pasting OAuth 1.0a keys (inbox.configure.credentials)."""

from __future__ import annotations

import hmac
import time

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agents.access import ADMINS, AgentRequest, role_required
from agents.xlink import allow_consent_page
from inbox.configure import credentials
from inbox.errors import ActionError
from inbox.models import BrandCredentials
from twelp import xgateway

FLOW_KEY = "inbox:x_account:flow"
FLOW_SECONDS = 600


class PastedKeysForm(forms.Form):
    access_token = forms.CharField(max_length=200, strip=True)
    access_token_secret = forms.CharField(
        max_length=200, strip=True, widget=forms.PasswordInput(render_value=False)
    )
    consumer_key = forms.CharField(
        max_length=200,
        required=False,
        strip=True,
        help_text=gettext_lazy("Empty: the deployment's X app."),
    )
    consumer_secret = forms.CharField(
        max_length=200, required=False, strip=True, widget=forms.PasswordInput()
    )

    def clean(self):
        data = super().clean()
        if bool(data.get("consumer_key")) != bool(data.get("consumer_secret")):
            raise forms.ValidationError(_("Give both the consumer key and its secret, or neither."))
        return data


def _page(request: AgentRequest, form: PastedKeysForm, status: int = 200) -> HttpResponse:
    brand = request.agent.brand
    context = {
        "brand": brand,
        "row": BrandCredentials.objects.filter(brand=brand).first(),
        "problem": credentials.problem(brand),
        "env_brand": credentials.is_env_brand(brand),
        "form": form,
    }
    return allow_consent_page(render(request, "inbox/admin_x_account.html", context, status=status))


@require_GET
@role_required(ADMINS)
def x_account(request: AgentRequest) -> HttpResponse:
    return _page(request, PastedKeysForm())


@require_POST
@role_required(ADMINS)
def paste_keys(request: AgentRequest) -> HttpResponse:
    form = PastedKeysForm(request.POST)
    if form.is_valid():
        try:
            row = credentials.connect_oauth1(
                request.agent.brand, actor=request.agent, **form.cleaned_data
            )
        except ActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Connected: @%(handle)s posts as @%(x_username)s.")
                % {"handle": request.agent.brand.handle, "x_username": row.x_username},
            )
            return redirect("inbox:admin_x_account")
    return _page(request, form)


@require_POST
@role_required(ADMINS)
def connect(request: AgentRequest) -> HttpResponse:
    """To X's consent page; the flow (state, PKCE verifier) waits in the session."""
    redirect_uri = request.build_absolute_uri(reverse("inbox:admin_x_account_callback"))
    begun = xgateway.oauth2_start(redirect_uri, tuple(credentials.settings.X_BRAND_OAUTH2_SCOPES))
    request.session[FLOW_KEY] = {
        "state": begun.state,
        "verifier": begun.code_verifier,
        "redirect_uri": redirect_uri,
        "brand": request.agent.brand_id,
        "at": time.time(),
    }
    return redirect(begun.url)


@require_GET
@role_required(ADMINS)
def callback(request: AgentRequest) -> HttpResponse:
    flow = request.session.pop(FLOW_KEY, None)
    given = request.GET.get("state", "")
    fresh = flow is not None and time.time() - flow["at"] < FLOW_SECONDS
    if (
        not fresh
        or flow["brand"] != request.agent.brand_id
        or not hmac.compare_digest(given.encode(), flow["state"].encode())
    ):
        messages.error(
            request, _("This connection was not started here, or it expired: start again.")
        )
        return redirect("inbox:admin_x_account")
    if request.GET.get("error") or not request.GET.get("code"):
        messages.error(request, _("The account was not authorized on X; nothing changed."))
        return redirect("inbox:admin_x_account")
    try:
        row = credentials.connect_oauth2(
            request.agent.brand,
            actor=request.agent,
            redirect_uri=flow["redirect_uri"],
            code=request.GET["code"],
            verifier=flow["verifier"],
        )
    except ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Connected with X: @%(x_username)s.") % {"x_username": row.x_username}
        )
    return redirect("inbox:admin_x_account")


@require_POST
@role_required(ADMINS)
def disconnect(request: AgentRequest) -> HttpResponse:
    brand = request.agent.brand
    done = credentials.disconnect(brand, actor=request.agent)
    if not done.had_credentials:
        messages.info(request, gettext("No X account was connected here: nothing changed."))
    elif done.told_x:
        messages.success(
            request,
            gettext(
                "Disconnected: X revoked Twelp's access to @%(handle)s, and the stored "
                "credentials are deleted."
            )
            % {"handle": brand.handle},
        )
    else:  # deleted here, but X still honours the keys: the admin must act on X
        messages.warning(
            request,
            gettext(
                "Disconnected here: the stored credentials are deleted. But X was not told: "
                "%(why)s. Until you revoke Twelp's access on X (@%(handle)s's settings: "
                "Security and account access → Apps and sessions), those keys still work there."
            )
            % {"why": done.why, "handle": brand.handle},
        )
    return redirect("inbox:admin_x_account")
