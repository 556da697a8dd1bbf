"""The Content-Security-Policy and the other browser policies on Twelp's responses, the
violation reports (twelp.security), and the sandbox's own policy. Every URL x persona
carries the policy: tests/test_access_matrix.py; what Chromium does with it:
tests/browser/test_csp.py and tests/faults/test_xss.py."""

from __future__ import annotations

import json
import logging

import pytest
from django.conf import settings
from django.test import Client

from tests.test_settings import PRODUCTION, run_python
from twelp import security

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";")}


def report(**fields: object) -> bytes:
    return json.dumps({"csp-report": fields}).encode()


def test_it_sends_a_strict_policy_and_the_browser_policies(client: Client):
    response = client.get("/login/")
    policy = directives(response)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    # X's media host; with DEBUG (tests, the demo) also the sandbox's, which serves its
    # customers' images as X does (test_it_allows_only_xs_media_host_in_production).
    assert policy["img-src"][:3] == ["'self'", "data:", "https://pbs.twimg.com"]
    assert policy["img-src"][3:] == [settings.XSANDBOX_URL]
    assert policy["connect-src"] == ["'self'"]  # PUSH_URL is a path here
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert policy["report-uri"] == ["/csp-report/"]
    assert "unsafe" not in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


def test_it_allows_only_xs_media_host_in_production():
    code = "import twelp.settings as s; print(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src'])"
    result = run_python(code, **PRODUCTION, XSANDBOX_URL="http://127.0.0.1:8001")
    assert result.stdout.strip() == "[\"'self'\", 'data:', 'https://pbs.twimg.com']", result.stderr


def test_it_lets_pages_connect_to_an_absolute_push_url():
    code = "import twelp.settings as s; print(s.CONTENT_SECURITY_POLICY['DIRECTIVES'])"
    result = run_python(code, **PRODUCTION, PUSH_URL="http://127.0.0.1:8002/push/")
    assert "'connect-src': [\"'self'\", 'http://127.0.0.1:8002']" in result.stdout, result.stderr


def test_it_logs_and_counts_a_violation_without_the_sample(client: Client, caplog):
    before = security.violation_counts()["script-src-elem"]
    body = report(
        **{
            "document-uri": "http://testserver/t/1/?q=kim@example.com",
            "effective-directive": "script-src-elem",
            "violated-directive": "script-src-elem",
            "blocked-uri": "inline",
            "script-sample": "alert('Kim Doe, 555-0100')",
            "line-number": 12,
        }
    )
    with caplog.at_level(logging.WARNING, logger="twelp.security"):
        response = client.post("/csp-report/", body, content_type="application/csp-report")
    assert response.status_code == 204
    assert security.violation_counts()["script-src-elem"] == before + 1
    logged = caplog.text
    assert "script-src-elem" in logged and "'inline'" in logged and "/t/1/" in logged
    assert "Kim" not in logged and "kim@" not in logged  # no sample, no query string


def test_it_counts_an_unknown_directive_as_other_and_refuses_what_is_no_report(client: Client):
    before = security.violation_counts()["other"]
    forged = report(**{"effective-directive": "x" * 500, "blocked-uri": "y" * 5000})
    assert client.post("/csp-report/", forged, content_type="application/csp-report").status_code
    assert security.violation_counts()["other"] == before + 1
    assert set(security.violation_counts()) == set(security.DIRECTIVES)  # no new series
    for body in (b"", b"[1]", b"not json", b'{"csp-report": 3}', b" " * 20_000):
        answer = client.post("/csp-report/", body, content_type="application/csp-report")
        assert answer.status_code == 400, body[:20]
    assert client.get("/csp-report/").status_code == 405


def test_metrics_show_the_violations(client: Client, settings):
    settings.METRICS_TOKEN = "t0ken"
    client.post(
        "/csp-report/",
        report(**{"effective-directive": "style-src-attr", "blocked-uri": "inline"}),
        content_type="application/csp-report",
    )
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken").content.decode()
    assert 'twelp_csp_violations_total{directive="style-src-attr"} 1.0' in text


def test_the_sandbox_page_has_its_own_policy_with_a_nonce(db):
    from django.test import override_settings

    with override_settings(ROOT_URLCONF="twelp.xsandbox.urls"):
        response = Client().get("/")
    policy = directives(response)
    nonce = policy["script-src"][1]
    assert nonce.startswith("'nonce-") and policy["style-src"] == ["'self'", nonce]
    assert "report-uri" not in policy
    value = nonce.removeprefix("'nonce-").removesuffix("'")
    html = response.content.decode()
    assert f'<style nonce="{value}">' in html and f'<script nonce="{value}">' in html


def test_the_policy_built_once_is_django_csps_and_follows_the_settings(client: Client, settings):
    """twelp.security.CSPMiddleware keeps the settings' header (docstring, 4): the same
    string django-csp builds, rebuilt when the settings change, never for a response
    that set its own policy (the sandbox's above; agents.sso's form-action)."""
    from csp.utils import build_policy

    first = client.get("/login/")["Content-Security-Policy"]
    first_response = client.get("/login/")
    assert sorted(first.split("; ")) == sorted(build_policy().split("; "))
    assert first_response["Content-Security-Policy"] == first  # kept: the same string
    policy = {**settings.CONTENT_SECURITY_POLICY}
    policy["DIRECTIVES"] = {**policy["DIRECTIVES"], "img-src": ["'self'"]}
    settings.CONTENT_SECURITY_POLICY = policy
    assert directives(client.get("/login/"))["img-src"] == ["'self'"]
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    response = client.get("/login/")
    assert response["Content-Security-Policy-Report-Only"] == "default-src 'none'"
    assert directives(response)["img-src"] == ["'self'"]
