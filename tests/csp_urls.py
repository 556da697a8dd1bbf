"""Twelp's URLs plus one test-only page carrying an injected inline script and handler
(tests/browser/test_csp.py): the policy must block both and report them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from twelp.urls import handler500
from twelp.urls import urlpatterns as twelp_urlpatterns

INJECTED = (
    "<!doctype html><html><head><title>untouched</title></head><body>"
    "<script>document.title = 'ran';</script>"
    "<img src='data:,' onerror=\"document.title = 'ran too'\">"
    "</body></html>"
)


def injected(request: HttpRequest) -> HttpResponse:
    return HttpResponse(INJECTED)


urlpatterns = [path("_test/injected/", injected), *twelp_urlpatterns]
__all__ = ["handler500", "urlpatterns"]
