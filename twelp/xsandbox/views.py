"""The persona page: pick or create a customer, tweet at the brand, reply in a thread,
send a DM, and read the brand's public replies. The persona is kept in the session."""

from __future__ import annotations

import hashlib
import struct
import time
import zlib
from itertools import groupby
from urllib.parse import urlsplit

from csp.decorators import csp
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from twelp.xsandbox import actions, compliance, conf, faults, oauth2, seed, wire
from twelp.xsandbox.forms import (
    DirectMessageForm,
    DirectMessageSettingsForm,
    NewPersonaForm,
    PickPersonaForm,
    TweetForm,
)
from twelp.xsandbox.models import Account, DirectMessage, Fault, Tweet

# Its own policy, whatever the process's settings (tests serve it beside Twelp).
sandbox_policy = csp(conf.POLICY)
SESSION_KEY = "xsandbox_persona"
CONVERSATIONS_SHOWN = 10


@sandbox_policy
def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: an unknown path answers as X's API does (a JSON problem, whatever the
    method), never with Twelp's own 404 page (whose links are Twelp's URLs)."""
    problem = {
        "title": "Not Found Error",
        "detail": f"Sorry, that page does not exist: {request.path}",
        "type": "https://api.twitter.com/2/problems/resource-not-found",
        "status": 404,
    }
    return JsonResponse(problem, status=404, content_type="application/problem+json")


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
        photo = (
            [actions.photo("A photo the customer attached")] if form.cleaned_data["photo"] else []
        )
        actions.post_tweet(persona, body, in_reply_to_tweet_id=parent, media=photo)
    except actions.Rejected as rejected:
        messages.error(request, f"X refused it: {rejected}")
    else:
        messages.success(request, "Tweeted.")
    return redirect("xsandbox:home")


@require_GET
def media(request: HttpRequest, key: str) -> HttpResponse:
    """An attached photo's image, as X's media host serves one: a public PNG, the same for
    a key every time (a colour of its own), cacheable, loadable from another origin's page
    (Twelp's thumbnails). Made here, a few hundred bytes: the sandbox keeps no files."""
    response = HttpResponse(_png(key), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _png(key: str, width: int = 160, height: int = 120) -> bytes:
    digest = hashlib.sha256(key.encode()).digest()
    pixel = bytes(digest[:3])
    row = b"\x00" + pixel * width
    data = zlib.compress(row * height)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


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
        photo = (
            [actions.photo("A photo the customer attached")] if form.cleaned_data["photo"] else []
        )
        actions.send_dm(persona, brand, form.cleaned_data["text"], media=photo)
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


@sandbox_policy
@require_POST
def delete_tweet(request: HttpRequest, tweet_id: int) -> HttpResponse:
    """The persona deletes one of their tweets: X's tweet compliance jobs report it."""
    persona = _persona(request)
    if persona is None:
        return redirect("xsandbox:home")
    if compliance.delete_tweet(persona, tweet_id):
        messages.success(request, "Tweet deleted.")
    else:
        messages.error(request, "That is not one of your tweets.")
    return redirect("xsandbox:home")


@sandbox_policy
@require_POST
def protect(request: HttpRequest) -> HttpResponse:
    """Protect (or unprotect) the persona's posts: X's compliance jobs report it."""
    persona = _persona(request)
    if persona is None:
        return redirect("xsandbox:home")
    protected = request.POST.get("protected") == "on"
    compliance.set_protected(persona, protected)
    messages.success(
        request, "Your posts are protected." if protected else "Your posts are public."
    )
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


# --- OAuth 2.0 (twelp.xsandbox.oauth2): the authorize page and the token endpoint ---------


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    return callback_policy(request, _authorize(request))


def callback_policy(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The sandbox's policy on a consent page, whose form's answer redirects to the app's
    callback (redirect_uri): that origin joins form-action."""
    policy = {k: list(v) for k, v in conf.POLICY.items()}
    callback = urlsplit(request.POST.get("redirect_uri") or request.GET.get("redirect_uri", ""))
    if callback.scheme in ("http", "https") and callback.netloc:
        policy["form-action"].append(f"{callback.scheme}://{callback.netloc}")
    response._csp_config = policy  # type: ignore[attr-defined]
    return response


def _authorize(request: HttpRequest) -> HttpResponse:
    """X's consent page: which account approves (the sandbox's "logged-in user"), then
    Authorize app or Cancel, back to the app's redirect_uri."""
    params = request.POST if request.method == "POST" else request.GET
    try:
        auth, error = oauth2.parse_authorization(params)
    except oauth2.BadAuthorization as bad:
        return render(request, "xsandbox/authorize.html", {"problem": str(bad)}, status=400)
    if auth is None:
        target = oauth2.redirect_with(
            params["redirect_uri"], error=error, state=params.get("state", "")
        )
        return redirect(target)
    if request.method == "POST":
        if request.POST.get("decision") != "authorize":
            return redirect(
                oauth2.redirect_with(auth.redirect_uri, error="access_denied", state=auth.state)
            )
        account = Account.objects.filter(pk=request.POST.get("account") or 0).first()
        if account is not None:
            request.session[SESSION_KEY] = account.pk  # signed in as them from now on
            code = oauth2.issue_code(auth, account.pk)
            return redirect(oauth2.redirect_with(auth.redirect_uri, state=auth.state, code=code))
    context = {
        "auth": auth,
        "params": [
            (k, v)
            for k, v in params.items()
            if k not in ("csrfmiddlewaretoken", "account", "decision")
        ],
        "accounts": Account.objects.order_by("kind", "username"),
        "current": _persona(request),
    }
    return render(request, "xsandbox/authorize.html", context)


@csrf_exempt  # a server-to-server endpoint, authenticated by the client's credentials
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    try:
        client = oauth2.authenticate_client(request.headers.get("Authorization", ""), request.POST)
        answer = oauth2.exchange(client, request.POST)
    except oauth2.OAuthError as error:
        return JsonResponse(error.body(), status=error.status)
    return JsonResponse(answer)


@csrf_exempt  # server to server, as the token endpoint
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    """X's POST /2/oauth2/revoke: token (an access or refresh token), the client as for
    /2/oauth2/token; {"revoked": true}. The token answers 401 (or invalid_request) after."""
    fault = faults.pick("oauth2_revoke")  # X down or slow: the app must say so, not hang
    if fault is not None and fault.kind == Fault.Kind.UNAVAILABLE:
        return JsonResponse(wire.problem(503, "Service Unavailable"), status=503)
    if fault is not None and fault.kind == Fault.Kind.SLOW:
        time.sleep(fault.delay)  # long enough for the client's timeout to give up first
    try:
        client = oauth2.authenticate_client(request.headers.get("Authorization", ""), request.POST)
        oauth2.revoke(client, request.POST.get("token", ""))
    except oauth2.OAuthError as error:
        return JsonResponse(error.body(), status=error.status)
    return JsonResponse({"revoked": True})
