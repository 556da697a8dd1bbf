"""The personal-data guard: a table of what is and is not personal data, the server's
refusal with the text kept, the exact confirmation, and the live warning."""

from __future__ import annotations

import re

import pytest

from inbox import actions
from inbox.models import Reply
from inbox.rules import pii

# (text, [(kind, the text found)])
EXAMPLES = [
    # positives
    ("call us at 212-555-0199", [("phone", "212-555-0199")]),
    ("call (415) 555-2671 today", [("phone", "(415) 555-2671")]),
    ("ring +44 20 7946 0958", [("phone", "+44 20 7946 0958")]),
    ("toll free 1-800-555-0199", [("phone", "1-800-555-0199")]),
    ("or 4155552671", [("phone", "4155552671")]),
    ("mail kim.lee+care@example.co.uk", [("email", "kim.lee+care@example.co.uk")]),
    ("card 4111 1111 1111 1111 expired?", [("card", "4111 1111 1111 1111")]),
    ("card 5500-0000-0000-0004", [("card", "5500-0000-0000-0004")]),
    ("account number 12345678", [("account", "12345678")]),
    ("acct: 9876-5432-10", [("account", "9876-5432-10")]),
    ("IBAN GB82 WEST 1234 5698 7654 32", [("account", "GB82 WEST 1234 5698 7654 32")]),
    ("ssn 123-45-6789", [("account", "123-45-6789")]),
    (
        "kim@example.com or 212-555-0199",
        [("email", "kim@example.com"), ("phone", "212-555-0199")],
    ),
    # negatives: numbers that are not phones, dates, order numbers, handles, links
    ("@kim_lee thanks for waiting", []),
    ("we open 9-5 on 12/25/2024 at 10:30", []),
    ("delivery on 2024-11-23, 10:30-11:45", []),
    ("update to version 10.2.3 please", []),
    ("the store at ZIP 10001", []),
    ("your order #2125550199 shipped", []),
    ("order 2125550199 is on its way", []),
    ("ticket 212-555-0199 is closed", []),
    ("tracking 1Z999AA10123456784", []),
    ("track it: https://acme.example/track/2125550199?card=4111111111111111", []),
    ("card 4111 1111 1111 1112 (fails Luhn)", []),
    ("call 555-0100", []),  # not a real number
    ("we have 1234567 happy customers", []),
    ("IBAN GB00 WEST 1234 5698 7654 32", []),  # fails mod-97
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES)
def test_it_finds_personal_data_and_nothing_else(text, expected):
    assert [(f.kind, f.text) for f in pii.find(text)] == expected


def test_it_fingerprints_the_findings_not_the_rest_of_the_text():
    a = pii.find("call 212-555-0199 now")
    b = pii.find("Sorry! Call 212-555-0199 please")
    c = pii.find("call 212-555-0198 now")
    assert pii.digest(a) == pii.digest(b) != pii.digest(c)


@pytest.fixture
def message_text() -> str:
    return "@acmecares my card was charged twice"


@pytest.fixture
def claimed(thread, agent):
    actions.do_claim(thread.id, agent=agent)
    return thread


def test_it_refuses_a_public_reply_with_personal_data_and_keeps_the_text(client, agent, claimed):
    client.force_login(agent.user)
    text = "@kim call us on 212-555-0199 and we'll fix it"
    response = client.post(
        f"/t/{claimed.id}/reply/",
        {"text": text, "client_token": "6b0e0e0e-0000-4000-8000-000000000001"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "a phone number (212-555-0199)" in body
    assert text.replace("'", "&#x27;") in body
    digest = pii.digest(pii.find(text))
    assert re.search(rf'name="confirm_personal_data" value="{digest}"(?! checked)', body)
    assert Reply.objects.count() == 0
    claimed.refresh_from_db()
    assert claimed.status == "claimed"


def test_it_sends_once_the_agent_confirms_exactly_what_was_shown(client, agent, claimed):
    client.force_login(agent.user)
    text = "@kim call us on 212-555-0199"
    digest = pii.digest(pii.find(text))
    token = "6b0e0e0e-0000-4000-8000-000000000002"
    edited = text + " or mail help@acme.example"  # changed after the warning
    client.post(
        f"/t/{claimed.id}/reply/",
        {"text": edited, "client_token": token, "confirm_personal_data": digest},
    )
    assert Reply.objects.count() == 0  # the new e-mail address was never confirmed
    response = client.post(
        f"/t/{claimed.id}/reply/",
        {"text": text, "client_token": token, "confirm_personal_data": digest},
    )
    assert response.status_code == 302
    assert Reply.objects.get().text == text


def test_it_applies_the_same_rule_in_the_action(agent, claimed):
    with pytest.raises(pii.PersonalData) as refused:
        actions.do_send_reply(claimed.id, agent=agent, text="@kim mail me: kim@example.com")
    assert [f.kind for f in refused.value.findings] == ["email"]
    reply = actions.do_send_reply(
        claimed.id,
        agent=agent,
        text="@kim mail me: kim@example.com",
        confirmed_personal_data=refused.value.digest,
    )
    assert reply.status == "queued"


def test_it_sends_a_clean_reply_without_any_confirmation(agent, claimed):
    reply = actions.do_send_reply(claimed.id, agent=agent, text="@kim order #2125550199 ships")
    assert reply.status == "queued"


def test_it_warns_live_while_typing(client, agent, claimed):
    client.force_login(agent.user)
    response = client.post(
        f"/t/{claimed.id}/reply/check/",
        {"text": "@kim card 4111 1111 1111 1111?"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert "<html" not in body
    assert "a card number (<code>4111 1111 1111 1111</code>)" in body
    calm = client.post(f"/t/{claimed.id}/reply/check/", {"text": "@kim on 12/25"}).content.decode()
    assert "pii-warning" not in calm  # only what X charges for it is said
    assert "X charges $0.01 for this answer (summoned reply)." in calm
