"""The pages a visitor gets when something is not there, not theirs, or broke, and the
logging of the expected ones.

1. 404 and 403 render in the app's chrome (base.html: the top bar with the employee's
   links), in every mode: Django shows its technical 404 (the URL list) whenever DEBUG is
   on, which the demo runs with, so `debug_not_found` serves our page there too.
2. The 500 and 503 pages (twelp.views.server_error) are rendered without the request, so
   nothing on them may need the database or Redis that just failed: they draw the same
   top bar from static markup.
3. An expected 403 or 404 is one line in the log ("Forbidden (Permission denied): /team/"),
   not a traceback: twelp.logfilters.ExpectedErrors drops the exception Django attaches.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

from agents.access import ANY_EMPLOYEE, employee_of
from twelp import i18n


def _with_agent(request: HttpRequest) -> HttpRequest:
    """The top bar's links are the employee's: role_required sets request.agent on views,
    but a 404 of an unknown URL never reaches one."""
    if not hasattr(request, "agent") and hasattr(request, "user"):
        request.agent = employee_of(request, ANY_EMPLOYEE)  # type: ignore[attr-defined]
        # In the employee's own language (issue 21), as their other pages.
        i18n.activate_for(request, request.agent)  # type: ignore[attr-defined]
    return request


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404, and the DEBUG stand-in for Django's technical 404."""
    return render(_with_agent(request), "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403."""
    return render(_with_agent(request), "403.html", status=403)


def _ours(request: HttpRequest) -> bool:
    """DEBUG, and Twelp's own URLs (the X sandbox, which shares the settings and may be
    mounted per request, keeps its 404)."""
    urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    return settings.DEBUG and urlconf == "twelp.urls"


class debug_not_found:  # noqa: N801 (middleware, named like Django's function ones)
    """With DEBUG on, answer an unknown URL or a raised Http404 with our 404 page.

    Last in MIDDLEWARE, so CommonMiddleware still redirects /queue to /queue/ first
    (it looks at the 404 this returns). Without DEBUG, Django calls handler404 itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _ours(request):
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404:
                return page_not_found(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if _ours(request) and isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
