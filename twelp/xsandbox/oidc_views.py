"""The company sign-in's HTTP side (twelp.xsandbox.oidc): discovery, the sign-in page,
token, userinfo, JWKS, and the operator's switch that disables an employee."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from twelp.xsandbox import oidc, views
from twelp.xsandbox.control import keyed


@require_GET
def configuration(request: HttpRequest) -> HttpResponse:
    return JsonResponse(oidc.discovery(request))


@require_GET
def jwks(request: HttpRequest) -> HttpResponse:
    return JsonResponse(oidc.jwks())


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    return views.callback_policy(request, _authorize(request))


def _authorize(request: HttpRequest) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    try:
        auth, error = oidc.parse_authorization(params)
    except oidc.BadRequest as bad:
        return render(request, "xsandbox/oidc_authorize.html", {"problem": str(bad)}, status=400)
    if auth is None:
        return redirect(
            oidc.redirect_with(params["redirect_uri"], error=error, state=params.get("state", ""))
        )
    problem = ""
    if request.method == "POST":
        if request.POST.get("decision") != "sign_in":
            return redirect(
                oidc.redirect_with(auth.redirect_uri, error="access_denied", state=auth.state)
            )
        sub = request.POST.get("employee", "")
        if oidc.active_user(sub) is not None:
            code = oidc.issue_code(auth, sub, mfa=request.POST.get("mfa") == "on")
            request.session[oidc.SESSION_SUB] = sub  # (4): the provider's own session
            return redirect(oidc.redirect_with(auth.redirect_uri, code=code, state=auth.state))
        problem = "That account is disabled: ask IT."
    context = {
        "problem_inline": problem,
        "params": [
            (k, v)
            for k, v in params.items()
            if k not in ("csrfmiddlewaretoken", "employee", "mfa", "decision")
        ],
        "people": [(u, oidc.active_user(u["sub"]) is None) for u in oidc.users().values()],
        "signed_in": oidc.users().get(request.session.get(oidc.SESSION_SUB, "")),
    }
    return render(request, "xsandbox/oidc_authorize.html", context)


@require_GET
def end_session(request: HttpRequest) -> HttpResponse:
    """RP-initiated logout (twelp.xsandbox.oidc.end_session)."""
    try:
        target = oidc.end_session(request, request.GET)
    except oidc.BadRequest as bad:
        return render(request, "xsandbox/oidc_signed_out.html", {"problem": str(bad)}, status=400)
    if target:
        return redirect(target)
    return render(request, "xsandbox/oidc_signed_out.html", {})


@csrf_exempt  # server to server, authenticated by the client's credentials
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    try:
        client = oidc.authenticate_client(request.headers.get("Authorization", ""), request.POST)
        answer = oidc.exchange(request, client, request.POST)
    except oidc.OIDCError as error:
        return JsonResponse(error.body(), status=error.status)
    return JsonResponse(answer, headers={"Cache-Control": "no-store"})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def userinfo(request: HttpRequest) -> HttpResponse:
    header = request.headers.get("Authorization", "")
    claims = oidc.userinfo(header[7:]) if header.startswith("Bearer ") else None
    if claims is None:
        response = JsonResponse({"error": "invalid_token"}, status=401)
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    return JsonResponse(claims)


@keyed
@require_POST
def disable(request: HttpRequest) -> HttpResponse:
    """{"sub": ..., "disabled": true|false}: the company disables (or restores) an account."""
    try:
        body = json.loads(request.body or b"{}")
        sub, disabled = str(body["sub"]), bool(body.get("disabled", True))
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": 'Send {"sub": "...", "disabled": true}.'}, status=400)
    if sub not in oidc.users():
        return JsonResponse({"error": f"No employee {sub} in the directory."}, status=404)
    oidc.set_disabled(sub, disabled)
    return JsonResponse({"sub": sub, "disabled": disabled})
