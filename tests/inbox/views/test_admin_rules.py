"""Admins set the SLA targets, urgent keywords, credit format and employee-id pattern."""

from __future__ import annotations

from datetime import timedelta

from inbox.models import Brand, Event

RULES = {
    "sla_first_response_minutes": "10",
    "sla_resolution_minutes": "120",
    "urgent_keywords": "Outage\ncancel, outage",
    "credit_format": "handle",
    "employee_id_pattern": r"^E-\d{4}$",
}


def test_it_saves_the_rules_with_an_event(client, admin_agent, brand):
    client.force_login(admin_agent.user)
    assert client.post("/admin/rules/", RULES).status_code == 302
    brand.refresh_from_db()
    assert brand.sla_first_response == timedelta(minutes=10)
    assert brand.sla_resolution == timedelta(hours=2)
    assert brand.urgent_keywords == ["outage", "cancel"]
    assert (brand.credit_format, brand.employee_id_pattern) == ("handle", r"^E-\d{4}$")
    event = Event.objects.get(verb="brand_settings_changed")
    assert event.actor == admin_agent
    assert event.detail["urgent_keywords"] == [[], ["outage", "cancel"]]
    assert event.detail["sla_first_response"] == ["0:15:00", "0:10:00"]
    assert "cancel" in client.get("/admin/rules/").content.decode()


def test_a_broken_pattern_or_backwards_targets_change_nothing(client, admin_agent, brand):
    client.force_login(admin_agent.user)
    bad = RULES | {"employee_id_pattern": "^E-(", "sla_resolution_minutes": "5"}
    page = client.post("/admin/rules/", bad).content.decode()
    assert "Not a regular expression" in page
    assert "cannot be before the first response" in page
    assert Brand.objects.get(id=brand.id).employee_id_pattern == r"^[A-Za-z0-9-]{3,32}$"
    assert not Event.objects.exists()


def test_the_csrf_token_is_required(csrf_client, admin_agent, brand):
    csrf_client.force_login(admin_agent.user)
    assert csrf_client.post("/admin/rules/", RULES).status_code == 403
    assert Brand.objects.get(id=brand.id).credit_format == "caret"
