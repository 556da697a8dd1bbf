"""The persona page: pick or create a customer, tweet at the brand, reply in a thread,
send a DM, and read the brand's public replies. The persona is kept in the session."""

from __future__ import annotations

from itertools import groupby

from csp.decorators import csp
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from twelp.xsandbox import actions, conf, seed
from twelp.xsandbox.forms import (
    DirectMessageForm,
    DirectMessageSettingsForm,
    NewPersonaForm,
    PickPersonaForm,
    TweetForm,
)
from twelp.xsandbox.models import Account, DirectMessage, Tweet

# Its own policy, whatever the process's settings (tests serve it beside Twelp).
sandbox_policy = csp(conf.POLICY)
SESSION_KEY = "xsandbox_persona"
CONVERSATIONS_SHOWN = 10


@sandbox_policy
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return _render_home(request)


@sandbox_policy
@require_POST
def choose_persona(request: HttpRequest) -> HttpResponse:
    creating = request.POST.get("action") == "create"
    form = NewPersonaForm(request.POST) if creating else PickPersonaForm(request.POST)
    if not form.is_valid():
        forms = {"new_form": form} if creating else {"pick_form": form}
        return _render_home(request, **forms)
    if creating:
        account = actions.create_account(form.cleaned_data["username"], form.cleaned_data["name"])
    else:
        account = form.cleaned_data["account"]
    request.session[SESSION_KEY] = account.pk
    return redirect("xsandbox:home")


@sandbox_policy
@require_POST
def forget_persona(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    return redirect("xsandbox:home")


@sandbox_policy
@require_POST
def tweet(request: HttpRequest) -> HttpResponse:
    persona, brand = _persona(request), seed.brand_account()
    if persona is None or brand is None:
        return redirect("xsandbox:home")
    form = TweetForm(request.POST)
    if not form.is_valid():
        return _render_home(request, tweet_form=form)
    body, parent = form.cleaned_data["text"], form.cleaned_data["in_reply_to"]
    if parent is None and f"@{brand.username.lower()}" not in body.lower():
        body = f"@{brand.username} {body}"  # a new tweet here is a tweet at the brand
    try:
        actions.post_tweet(persona, body, in_reply_to_tweet_id=parent)
    except actions.Rejected as rejected:
        messages.error(request, f"X refused it: {rejected}")
    else:
        messages.success(request, "Tweeted.")
    return redirect("xsandbox:home")


@sandbox_policy
@require_POST
def direct_message(request: HttpRequest) -> HttpResponse:
    persona, brand = _persona(request), seed.brand_account()
    if persona is None or brand is None:
        return redirect("xsandbox:home")
    form = DirectMessageForm(request.POST)
    if not form.is_valid():
        return _render_home(request, dm_form=form)
    try:
        actions.send_dm(persona, brand, form.cleaned_data["text"])
    except actions.Rejected as rejected:
        messages.error(request, f"X refused it: {rejected}")
    else:
        messages.success(request, f"Message sent to @{brand.username}.")
    return redirect("xsandbox:home")


@sandbox_policy
@require_POST
def dm_settings(request: HttpRequest) -> HttpResponse:
    """Follow the brand, and accept DMs from anyone: what lets the brand DM first."""
    persona, brand = _persona(request), seed.brand_account()
    if persona is None or brand is None:
        return redirect("xsandbox:home")
    form = DirectMessageSettingsForm(request.POST)
    form.is_valid()  # two checkboxes: always valid
    if form.cleaned_data["follows_brand"]:
        persona.following.add(brand)
    else:
        persona.following.remove(brand)
    persona.dms_open = form.cleaned_data["dms_open"]
    persona.save(update_fields=["dms_open"])
    messages.success(request, "DM settings saved.")
    return redirect("xsandbox:home")


def _render_home(request: HttpRequest, **forms: object) -> HttpResponse:
    persona, brand = _persona(request), seed.brand_account()
    context: dict[str, object] = {
        "persona": persona,
        "brand": brand,
        "pick_form": forms.get("pick_form") or PickPersonaForm(),
        "new_form": forms.get("new_form") or NewPersonaForm(),
        "tweet_form": forms.get("tweet_form") or TweetForm(),
        "dm_form": forms.get("dm_form") or DirectMessageForm(),
        "brand_replies": _brand_replies(brand),
    }
    if persona is not None and brand is not None:
        context["conversations"] = _conversations(persona)
        context["others_at_brand"] = _others_at_brand(persona, brand)
        context["direct_messages"] = _direct_messages(persona, brand)
        context["dm_settings_form"] = DirectMessageSettingsForm(
            initial={
                "follows_brand": persona.following.filter(pk=brand.pk).exists(),
                "dms_open": persona.dms_open,
            }
        )
    # A form with errors re-renders the page with 200, like every form in Twelp.
    return render(request, "xsandbox/home.html", context)


def _persona(request: HttpRequest) -> Account | None:
    persona_id = request.session.get(SESSION_KEY)
    if persona_id is None:
        return None
    return Account.objects.filter(pk=persona_id, kind=Account.Kind.CUSTOMER).first()


def _conversations(persona: Account) -> list[list[Tweet]]:
    """The persona's latest conversations, each oldest tweet first, newest conversation first."""
    ids = list(
        Tweet.objects.filter(author=persona)
        .order_by("-conversation_id")
        .values_list("conversation_id", flat=True)
        .distinct()[:CONVERSATIONS_SHOWN]
    )
    tweets = (
        Tweet.objects.filter(conversation_id__in=ids)
        .select_related("author")
        .order_by("-conversation_id", "id")
    )
    return [list(group) for _, group in groupby(tweets, key=lambda item: item.conversation_id)]


def _others_at_brand(persona: Account, brand: Account) -> list[Tweet]:
    """Others' latest tweets at the brand: an employee's own account answers them (relay)."""
    return list(
        Tweet.objects.filter(
            in_reply_to_tweet_id__isnull=True, text__icontains=f"@{brand.username}"
        )
        .exclude(author__in=[persona, brand])
        .select_related("author")
        .order_by("-id")[:CONVERSATIONS_SHOWN]
    )


def _direct_messages(persona: Account, brand: Account) -> list[DirectMessage]:
    low, high = sorted((persona.pk, brand.pk))
    latest = DirectMessage.objects.filter(conversation_id=f"{low}-{high}").order_by("-id")[:50]
    return list(reversed(latest.select_related("sender")))


def _brand_replies(brand: Account | None) -> list[Tweet]:
    if brand is None:
        return []
    return list(
        Tweet.objects.filter(author=brand, in_reply_to_tweet_id__isnull=False)
        .select_related("in_reply_to_user")
        .order_by("-id")[:20]
    )
