"""The admins' integrations page: API tokens created once-shown, listed, revoked."""

from __future__ import annotations

from inbox.integrations import tokens
from inbox.models import ApiToken


def test_it_creates_a_token_and_shows_it_once(client, admin_agent):
    client.force_login(admin_agent.user)
    response = client.post("/integrations/", {"name": "CRM", "scope": "write"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    row = ApiToken.objects.get(name="CRM")
    page = response.content.decode()
    shown = page.split("<code>twl_", 1)[1].split("</code>", 1)[0]
    assert tokens.digest("twl_" + shown) == row.digest
    assert row.scope == "write" and row.created_by == admin_agent and not row.dms
    again = client.get("/integrations/").content.decode()
    assert "twl_" + shown not in again and row.hint in again


def test_a_token_reads_dms_only_when_ticked(client, admin_agent):
    client.force_login(admin_agent.user)
    client.post("/integrations/", {"name": "Care BI", "scope": "read", "dms": "on"})
    row = ApiToken.objects.get(name="Care BI")
    assert row.dms and row.scope == "read"
    assert ", with DMs" in client.get("/integrations/").content.decode()


def test_bad_input_says_why_and_creates_nothing(client, admin_agent):
    client.force_login(admin_agent.user)
    response = client.post("/integrations/", {"name": "", "scope": "admin"})
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert not ApiToken.objects.exists()


def test_it_revokes_a_token(client, admin_agent):
    created = tokens.create_token(actor=admin_agent, name="CRM", scope="read")
    client.force_login(admin_agent.user)
    response = client.post(f"/integrations/tokens/{created.row.id}/revoke/")
    assert response.status_code == 302
    created.row.refresh_from_db()
    assert created.row.revoked_at is not None and created.row.revoked_by == admin_agent
    api = client.get("/api/v1/threads", HTTP_AUTHORIZATION=f"Bearer {created.token}")
    assert api.status_code == 401


def test_the_token_name_is_escaped(client, admin_agent):
    tokens.create_token(actor=admin_agent, name="<script>x</script>", scope="read")
    client.force_login(admin_agent.user)
    page = client.get("/integrations/").content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page


# --- webhooks ------------------------------------------------------------------------------


def test_it_adds_a_webhook_and_lists_its_deliveries(client, admin_agent, thread, agent):
    from inbox import actions
    from inbox.models import WebhookEndpoint

    client.force_login(admin_agent.user)
    response = client.post(
        "/integrations/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "event_types": ["noted", "closed"]},
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["closed", "noted"]
    page = client.get("/integrations/").content.decode()
    assert endpoint.secret in page and "http://127.0.0.1:9/hook" in page
    actions.do_add_note(thread.id, agent=agent, text="<i>hi</i>")
    deliveries = client.get(f"/integrations/webhooks/{endpoint.id}/").content.decode()
    assert "noted" in deliveries and "Waiting" in deliveries


def test_a_refused_url_says_why_and_adds_nothing(client, admin_agent, settings):
    from inbox.models import WebhookEndpoint

    settings.WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(admin_agent.user)
    response = client.post(
        "/integrations/webhooks/", {"url": "https://127.0.0.1/hook", "event_types": ["noted"]}
    )
    assert response.status_code == 200
    assert "private, loopback or reserved" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_it_removes_and_resumes_a_webhook(client, admin_agent):
    from django.utils import timezone

    from inbox.integrations import webhooks
    from inbox.models import WebhookEndpoint

    endpoint = webhooks.add_endpoint(
        actor=admin_agent, url="http://127.0.0.1:9/hook", event_types=["noted"]
    )
    WebhookEndpoint.objects.filter(id=endpoint.id).update(
        paused_at=timezone.now(), failing_since=timezone.now()
    )
    client.force_login(admin_agent.user)
    assert "Paused" in client.get("/integrations/").content.decode()
    assert client.post(f"/integrations/webhooks/{endpoint.id}/resume/").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.paused_at is None and endpoint.failing_since is None
    assert client.post(f"/integrations/webhooks/{endpoint.id}/remove/").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.removed_at is not None
    assert client.get(f"/integrations/webhooks/{endpoint.id}/").status_code == 404
