"""Operator endpoints under /_sandbox/: faults, posted tweets and rate-limit windows for
tests and benchmarks, and practice customers for Twelp's training mode (inbox.training
calls it over HTTP: the product never imports the sandbox). Keyed like healthchecks'
metrics(): off (404) while XSANDBOX_ADMIN_TOKEN is unset, 403 for a wrong
`X-Sandbox-Token` header."""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from twelp.xsandbox import faults, ratelimit, wire
from twelp.xsandbox.models import Fault, RateWindow, Tweet
from twelp.xsandbox.seed import ensure_training_brand
from twelp.xsandbox.simulate import simulate

View = Callable[..., HttpResponse]
MAX_PRACTICE_TWEETS = 100  # one request writes in one go: a handful, never a flood


def keyed(view: View) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        expected = settings.XSANDBOX_ADMIN_TOKEN
        if not expected:
            return JsonResponse({"error": "The sandbox's control API is off."}, status=404)
        given = request.headers.get("X-Sandbox-Token", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return JsonResponse({"error": "Wrong or missing X-Sandbox-Token."}, status=403)
        return view(request)

    return csrf_exempt(wrapper)  # a token-keyed API, not a form


@keyed
@require_http_methods(["GET", "POST", "DELETE"])
def fault_list(request: HttpRequest) -> HttpResponse:
    """GET lists the run-time faults, POST adds one (a FaultSpec as JSON), DELETE clears all."""
    if request.method == "POST":
        try:
            spec = faults.FaultSpec.parse(json.loads(request.body or b"{}")).save()
        except (ValueError, TypeError, AttributeError) as error:
            return JsonResponse({"error": str(error)}, status=400)
        return JsonResponse(spec.as_json(), status=201)
    if request.method == "DELETE":
        Fault.objects.all().delete()
        return HttpResponse(status=204)
    return JsonResponse({"data": [spec.as_json() for spec in faults.listing()]})


@keyed
@require_GET
def tweet_list(request: HttpRequest) -> HttpResponse:
    """What was posted, newest first: ?in_reply_to=ID, ?author=username, ?conversation_id=ID."""
    tweets = Tweet.objects.select_related("author").order_by("-id")
    filters = {
        "in_reply_to": "in_reply_to_tweet_id",
        "conversation_id": "conversation_id",
        "since_id": "id__gt",
    }
    for param, lookup in filters.items():
        value = request.GET.get(param)
        if value is not None:
            if not value.isdigit():
                return JsonResponse({"error": f"{param} must be a tweet id."}, status=400)
            tweets = tweets.filter(**{lookup: int(value)})
    if author := request.GET.get("author"):
        tweets = tweets.filter(author__username__iexact=author)
    limit = request.GET.get("limit", "100")
    if not limit.isdigit():
        return JsonResponse({"error": "limit must be a number."}, status=400)
    data = [
        wire.tweet(tweet, wire.TWEET_FIELDS) | {"author_username": tweet.author.username}
        for tweet in tweets[: min(int(limit), 1000)]
    ]
    return JsonResponse({"data": data}, json_dumps_params={"ensure_ascii": False})


@keyed
@require_http_methods(["GET", "DELETE"])
def rate_limit_windows(request: HttpRequest) -> HttpResponse:
    """GET: the 429s answered for spent windows so far, per endpoint and owner
    ({"refused": {"create_tweet:user:123": 2}}); a client that paces to X's headers keeps
    this empty. DELETE closes every rate-limit window (and forgets those counts): the next
    call starts a fresh one."""
    if request.method == "GET":
        return JsonResponse({"refused": ratelimit.refused_counts()})
    RateWindow.objects.all().delete()
    return HttpResponse(status=204)


@keyed
@require_POST
def training_practice(request: HttpRequest) -> HttpResponse:
    """POST {"count": N, "seed": S}: the training account (made on first use) gets N
    simulated customer tweets, the same mix for the same seed (twelp.xsandbox.simulate)."""
    try:
        body = json.loads(request.body or b"{}")
        count, seed = int(body.get("count", 5)), int(body["seed"])
    except (ValueError, TypeError, KeyError, AttributeError):
        return JsonResponse({"error": 'Send {"count": N, "seed": S} as JSON.'}, status=400)
    if not 1 <= count <= MAX_PRACTICE_TWEETS:
        return JsonResponse({"error": f"count must be 1..{MAX_PRACTICE_TWEETS}."}, status=400)
    try:
        account = ensure_training_brand()
    except ImproperlyConfigured as error:  # X_TRAINING_ACCESS_TOKEN unset in this process
        return JsonResponse({"error": str(error)}, status=503)
    run = simulate(count, seed=seed, brand=account)
    return JsonResponse(
        {
            "account": {"id": str(account.pk), "username": account.username},
            "tweets": [str(tweet.id) for tweet in run.tweets],
            "kinds": dict(run.kinds),
        },
        status=201,
    )
