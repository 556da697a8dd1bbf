"""The admins' brand settings page: the relay hashtag and the relay Source it leaves,
the weekly hours, the auto-reply preview, and how long the brand keeps its data."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest

from inbox.data import retention as retention_module
from inbox.ingest import relay
from inbox.models import Brand, Event, Source

SETTINGS = {
    "timezone": "UTC",
    "business_hours": "",
    "auto_reply_text": "",
    "x_access": "self_serve",
}


def relay_sources(brand_id: int) -> list[tuple[str, bool]]:
    return list(
        Source.objects.filter(brand_id=brand_id, kind=Source.Kind.RELAY).values_list(
            "query", "active"
        )
    )


def test_setting_the_hashtag_turns_the_relay_on_and_emptying_it_turns_it_off(client, admin_agent):
    client.force_login(admin_agent.user)
    assert "Relay hashtag" in client.get("/brand/").content.decode()

    response = client.post("/brand/", SETTINGS | {"relay_hashtag": " #AcmeHelp_2 "})
    assert response.status_code == 302
    brand = Brand.objects.get(id=admin_agent.brand_id)
    assert brand.relay_hashtag == "AcmeHelp_2"  # stored without its '#'
    assert relay_sources(brand.id) == [("", True)]
    assert relay.query_for(brand) == "#AcmeHelp_2 -is:retweet"
    event = Event.objects.get(verb="brand_settings_changed")
    assert event.detail["relay_hashtag"] == ["", "AcmeHelp_2"]
    assert 'value="AcmeHelp_2"' in client.get("/brand/").content.decode()

    # A parked source (say its old hashtag was refused) is polled at once after a change.
    Source.objects.filter(brand=brand).update(last_error="Permanent: old tag")
    client.post("/brand/", SETTINGS | {"relay_hashtag": "AcmeCares"})
    source = Source.objects.get(brand=brand, kind=Source.Kind.RELAY)
    assert (source.active, source.last_error, source.next_poll_after) == (True, "", None)

    client.post("/brand/", SETTINGS | {"relay_hashtag": ""})
    assert Brand.objects.get(id=brand.id).relay_hashtag == ""
    assert relay_sources(brand.id) == [("", False)]  # kept (its cursor too), not polled

    client.post("/brand/", SETTINGS | {"relay_hashtag": "AcmeHelp"})
    assert relay_sources(brand.id) == [("", True)]  # the same row, back on


def test_saving_other_settings_leaves_no_relay_source(client, admin_agent):
    client.force_login(admin_agent.user)
    assert client.post("/brand/", SETTINGS | {"relay_hashtag": ""}).status_code == 302
    assert relay_sources(admin_agent.brand_id) == []


@pytest.mark.parametrize(
    "value",
    ["Acme Help", "2026", "#2026", "acme-help", "acme.help", "#", "##acme", "a" * 50, "café!"],
)
def test_a_hashtag_x_would_not_take_gets_a_clear_message_and_changes_nothing(
    client, admin_agent, value
):
    client.force_login(admin_agent.user)
    response = client.post("/brand/", SETTINGS | {"relay_hashtag": value})
    assert response.status_code == 200
    assert "Not a hashtag X knows" in response.content.decode()
    assert response.context["form"].data["relay_hashtag"] == value  # what they typed is kept
    assert Brand.objects.get(id=admin_agent.brand_id).relay_hashtag == ""
    assert relay_sources(admin_agent.brand_id) == []
    assert not Event.objects.filter(verb="brand_settings_changed").exists()


def test_letters_of_any_script_make_a_hashtag(client, admin_agent):
    client.force_login(admin_agent.user)
    assert client.post("/brand/", SETTINGS | {"relay_hashtag": "#AideCafé1"}).status_code == 302
    assert Brand.objects.get(id=admin_agent.brand_id).relay_hashtag == "AideCafé1"


EDITOR = {"timezone": "Europe/Paris", "auto_reply_text": "", "hours_editor": "1"}


def test_the_weekly_editor_saves_the_hours_of_the_ticked_days(client, admin_agent):
    client.force_login(admin_agent.user)
    page = client.get("/brand/").content.decode()
    assert 'type="time"' in page and '<option value="Europe/Paris">' in page
    week = {"hours-mon-open": "1", "hours-mon-start": "09:00", "hours-mon-end": "17:30"}
    week |= {"hours-sat-start": "10:00", "hours-sat-end": "12:00"}  # not ticked: closed
    assert client.post("/brand/", EDITOR | week).status_code == 302
    brand = Brand.objects.get(id=admin_agent.brand_id)
    assert (brand.timezone, brand.business_hours) == ("Europe/Paris", {"mon": [["09:00", "17:30"]]})
    assert client.post("/brand/", EDITOR | {"hours-always": "1"}).status_code == 302
    assert Brand.objects.get(id=brand.id).business_hours == {}


def test_the_weekly_editor_explains_a_day_that_ends_before_it_starts(client, admin_agent):
    client.force_login(admin_agent.user)
    bad = {"hours-tue-open": "1", "hours-tue-start": "18:00", "hours-tue-end": "09:00"}
    response = client.post("/brand/", EDITOR | bad)
    assert response.status_code == 200
    assert "tue: 18:00–09:00 must end after it starts." in response.content.decode()
    assert 'value="18:00"' in response.content.decode()  # what was typed is kept
    none = client.post("/brand/", EDITOR)
    assert "Tick the days you are open" in none.content.decode()


def test_the_auto_reply_preview_fills_in_next_open(client, admin_agent):
    client.force_login(admin_agent.user)
    closed_all_week_but_sunday_night = {
        "hours-sun-open": "1",
        "hours-sun-start": "23:58",
        "hours-sun-end": "23:59",
    }
    text = "Away now; a person answers {next_open}."
    response = client.post(
        "/brand/",
        EDITOR | closed_all_week_but_sunday_night | {"auto_reply_text": text, "preview": "1"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'id="autoreply-preview"' in body
    assert "@customer Away now; a person answers " in body and "{next_open}." not in body
    assert "at 23:58" in body
    assert Brand.objects.get(id=admin_agent.brand_id).auto_reply_text == ""  # nothing saved


def test_an_admin_sets_how_long_the_brand_keeps_its_data(client, admin_agent):
    """Days on the page, a period on the brand (inbox.data.retention reads it); empty is
    the deployment's default; the change is in the audit."""
    client.force_login(admin_agent.user)
    page = client.get("/brand/").content.decode()
    assert "Data retention" in page and 'placeholder="365"' in page
    retention = {"retain_closed_threads": "90", "retain_raw_payloads": "7"}
    answer = client.post("/brand/", SETTINGS | retention | {"retain_quarantine": ""})
    assert answer.status_code == 302
    brand = Brand.objects.get(id=admin_agent.brand_id)
    assert brand.retain_closed_threads == timedelta(days=90)
    assert brand.retain_raw_payloads == timedelta(days=7)
    assert brand.retain_quarantine is None
    assert retention_module.keep_for(brand)["quarantine"] == timedelta(days=30)
    event = Event.objects.get(verb="brand_settings_changed")
    assert event.detail["retain_closed_threads"] == [None, 90]
    assert 'value="90"' in client.get("/brand/").content.decode()


@pytest.mark.parametrize("days", ["0", "-3", "3651", "a week"])
def test_a_retention_that_is_not_a_number_of_days_changes_nothing(client, admin_agent, days):
    client.force_login(admin_agent.user)
    answer = client.post("/brand/", SETTINGS | {"retain_closed_threads": days})
    assert answer.status_code == 200 and 'class="errorlist' in answer.content.decode()
    assert Brand.objects.get(id=admin_agent.brand_id).retain_closed_threads is None
    assert not Event.objects.filter(verb="brand_settings_changed").exists()


class _FormFields(HTMLParser):
    """What a browser submits for the page's brand form: named inputs (checkboxes only when
    ticked), the selected option of each select, and textareas."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "brand-form":
            self._in_form = True
        if not self._in_form or "name" not in a:
            if tag == "option" and self._select and "selected" in a:
                self.data[self._select] = a.get("value", "")
            return
        if tag == "input" and (a.get("type") not in ("checkbox", "radio") or "checked" in a):
            checkbox = a.get("type") in ("checkbox", "radio")
            self.data[a["name"]] = a.get("value", "on" if checkbox else "")
        elif tag == "select":
            self._select = a["name"]
        elif tag == "textarea":
            self._textarea = a["name"]
            self.data[a["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data


def test_saving_the_page_as_shown_keeps_x_access_and_the_survey(client, admin_agent):
    """The page shows (and so submits) every setting it saves: saving it unchanged once
    turned the satisfaction survey off and X access back to self-serve."""
    Brand.objects.filter(id=admin_agent.brand_id).update(
        x_access=Brand.XAccess.ENTERPRISE, survey_enabled=True
    )
    client.force_login(admin_agent.user)
    page = client.get("/brand/").content.decode()
    assert "X access level" in page and "Satisfaction survey" in page
    fields = _FormFields()
    fields.feed(page)
    assert fields.data["x_access"] == "enterprise"
    assert fields.data["survey_enabled"] == "on"

    assert client.post("/brand/", fields.data).status_code == 302
    brand = Brand.objects.get(id=admin_agent.brand_id)
    assert (brand.x_access, brand.survey_enabled) == ("enterprise", True)
    changed = Event.objects.get(verb="brand_settings_changed").detail
    assert "x_access" not in changed and "survey_enabled" not in changed

    # Unticking the survey on the page turns it off, and only that changes.
    fields.data.pop("survey_enabled")
    client.post("/brand/", fields.data)
    brand = Brand.objects.get(id=admin_agent.brand_id)
    assert (brand.x_access, brand.survey_enabled) == ("enterprise", False)
