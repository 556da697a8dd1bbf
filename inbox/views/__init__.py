"""Twelp's pages, one module per page family; each view says who may use it
(agents.access.role_required), and tests/test_access_matrix.py checks every URL."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect


def go(request: HttpRequest, url: str) -> HttpResponse:
    """After a form: htmx follows a client redirect, a plain form a 302."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
