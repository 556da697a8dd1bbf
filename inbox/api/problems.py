"""RFC 9457 problem details: every error the API answers is one of these."""

from __future__ import annotations

import json

from django.http import HttpResponse

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    422: "Invalid input",
    429: "Too many requests",
}


class Problem(Exception):
    def __init__(self, status: int, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra


def response(status: int, detail: str, **extra: object) -> HttpResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status}
    body |= {"detail": detail, **extra}
    answer = HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")
    if status == 401:
        answer["WWW-Authenticate"] = 'Bearer realm="twelp"'
    return answer
