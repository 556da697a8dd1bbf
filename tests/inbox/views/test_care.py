"""Canned answers: placeholders checked when saved, rendered for the thread and agent,
managed by supervisors and admins, searched from the reply box."""

from __future__ import annotations

import pytest

from inbox import actions
from inbox.models import CannedAnswer
from inbox.rules import canned
from tests.helpers import make_agent, make_thread


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "A canned answer needs some text."),
        ("   \n ", "A canned answer needs some text."),
        ("Hi {name}!", "Unknown placeholder {name}: use {customer}, {agent}."),
        ("Hi {}!", "Unknown placeholder {}: use {customer}, {agent}."),
        ("Hi {customer.__class__}", "Unknown placeholder {customer.__class__}"),
        ("Hi {customer!r}", "Write {customer} plainly"),
        ("Hi {customer", "Unbalanced { or }"),
        ("Hi customer}", "Unbalanced { or }"),
    ],
)
def test_it_refuses_a_bad_template_with_a_clear_message(text, error):
    with pytest.raises(canned.TemplateError, match=error.replace("{", r"\{").replace("}", r"\}")):
        canned.check_template(text)


def test_it_renders_placeholders_for_the_thread_and_agent(brand, customer, agent):
    customer.name = "Kim Lee"
    thread = make_thread(brand, customer, 1)
    text = canned.check_template("  Hi {customer}, {agent} here {{not a placeholder}}  ")
    assert canned.render(text, thread=thread, agent=agent) == (
        "Hi Kim, Alice here {not a placeholder}"
    )
    customer.name = ""
    assert canned.render("Hi {customer}", thread=thread, agent=agent) == "Hi @kim"


def test_it_lets_a_supervisor_create_edit_and_delete(client, brand, supervisor):
    client.force_login(supervisor.user)
    response = client.post("/canned/new/", {"title": "Refund", "text": "Hi {customer}!"})
    assert response.status_code == 302
    answer = CannedAnswer.objects.get()
    assert (answer.brand, answer.created_by, answer.text) == (brand, supervisor, "Hi {customer}!")
    assert "Refund" in client.get("/canned/").content.decode()

    client.post(f"/canned/{answer.id}/", {"title": "Refunds", "text": "Sorry {customer}."})
    answer.refresh_from_db()
    assert (answer.title, answer.text) == ("Refunds", "Sorry {customer}.")

    client.post(f"/canned/{answer.id}/delete/")
    assert not CannedAnswer.objects.exists()


def test_it_keeps_the_input_and_explains_a_refusal(client, brand, admin_agent):
    client.force_login(admin_agent.user)
    response = client.post("/canned/new/", {"title": "Oops", "text": "Hi {nmae}"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Unknown placeholder {nmae}: use {customer}, {agent}." in body
    assert "Hi {nmae}</textarea>" in body
    response = client.post("/canned/new/", {"title": "Empty", "text": "  "})
    assert "A canned answer needs some text." in response.content.decode()
    assert not CannedAnswer.objects.exists()


def test_it_refuses_a_second_answer_with_the_same_title(client, brand, supervisor):
    CannedAnswer.objects.create(brand=brand, title="Refund", text="a")
    client.force_login(supervisor.user)
    response = client.post("/canned/new/", {"title": "REFUND", "text": "b"})
    assert "already a canned answer with this title" in response.content.decode()
    assert CannedAnswer.objects.count() == 1


def test_it_hides_another_brands_answers(client, brand, supervisor):
    from inbox.models import Brand

    other = Brand.objects.create(name="Other", handle="othercares", x_user_id=9_000_002)
    theirs = CannedAnswer.objects.create(brand=other, title="Secret", text="theirs")
    client.force_login(supervisor.user)
    assert "Secret" not in client.get("/canned/").content.decode()
    assert client.get(f"/canned/{theirs.id}/").status_code == 404
    assert client.post(f"/canned/{theirs.id}/delete/").status_code == 404
    assert CannedAnswer.objects.filter(id=theirs.id).exists()


def test_it_searches_from_the_reply_box_with_placeholders_filled(client, brand, customer, agent):
    CannedAnswer.objects.create(brand=brand, title="Refund", text="Hi {customer}, {agent} here.")
    CannedAnswer.objects.create(brand=brand, title="Outage", text="We know <b>it</b> is down.")
    thread = make_thread(brand, customer, 1)
    actions.do_claim(thread.id, agent=agent)
    client.force_login(agent.user)
    response = client.get(f"/t/{thread.id}/canned/?q=ref", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body
    assert 'data-text="Hi Kim, Alice here."' in body
    assert "Outage" not in body
    everything = client.get(f"/t/{thread.id}/canned/", HTTP_HX_REQUEST="true").content.decode()
    assert "We know &lt;b&gt;it&lt;/b&gt; is down." in everything  # escaped
    page = client.get(f"/t/{thread.id}/canned/?q=down").content.decode()
    assert "<html" in page and "Outage" in page  # the page works without JavaScript


def test_it_renders_with_the_agent_who_asks(client, brand, customer, agent):
    bob = make_agent(brand, "bob")
    CannedAnswer.objects.create(brand=brand, title="Sign", text="{agent} here")
    thread = make_thread(brand, customer, 1)
    client.force_login(bob.user)
    body = client.get(f"/t/{thread.id}/canned/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-text="Bob here"' in body


def test_it_searches_in_few_queries(client, brand, customer, agent, django_assert_num_queries):
    for i in range(30):
        CannedAnswer.objects.create(brand=brand, title=f"Answer {i}", text=f"Hi {{customer}} {i}")
    thread = make_thread(brand, customer, 1)
    client.force_login(agent.user)
    # user with its agent (agents.backends), thread, answers (sessions in Redis)
    with django_assert_num_queries(3):
        response = client.get(f"/t/{thread.id}/canned/", HTTP_HX_REQUEST="true")
    assert response.content.decode().count("canned-pick") == canned.MAX_RESULTS
