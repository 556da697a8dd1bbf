"""Issue 21's last visible leftovers, checked where they showed: in real Chromium at
1440x900 and 390x844, in English and in Spanish (the longer language), as a supervisor.

- a desk: the top bar is one row, whatever the language;
- a phone: the queue's header is compact, its first row starts in the screen's upper part;
- the audit trail names the team a thread was routed to (it showed the team's number);
- a bad relay hashtag is said in our words, never as if X had said them;
- the queue, a thread page and the dashboard scroll no page sideways and keep their
  figures on one line (the previous session's last CSS fixes).

With TWELP_SCREENSHOTS=<folder> each check also saves what it looked at, as
<folder>/<page>-<language>-<width>x<height>.png, for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.models import Agent
from inbox import actions
from inbox.models import Brand, Customer, Event, Source, Team
from tests.browser.conftest import log_in
from tests.helpers import PASSWORD, make_agent, make_thread_with_message

pytestmark = pytest.mark.django_db(transaction=True)

DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
LANGUAGES = ("en", "es")
# A phone's queue: the first thread starts within this many pixels of the top (the
# screen is 844 high; the header took about half of it).
PHONE_ROWS_FROM = 400
SHOTS = os.environ.get("TWELP_SCREENSHOTS", "")


def shot(page, name: str, language: str, size: dict[str, int]) -> None:
    if SHOTS:
        folder = Path(SHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(folder / f"{name}-{language}-{size['width']}x{size['height']}.png")
        )


@pytest.fixture
def sam(brand: Brand) -> Agent:
    """A supervisor with a demo-length name (the top bar shows it)."""
    sam = make_agent(brand, "sam", role="supervisor")
    sam.name = "Sam Supervisor"
    sam.save(update_fields=["name"])
    sam.user.last_name = "Supervisor"
    sam.user.save(update_fields=["last_name"])
    return sam


@pytest.fixture
def desk(brand: Brand, sam: Agent) -> dict[str, object]:
    """A busy queue (two sources, teams, 24 threads from 8 customers), one thread Sam
    holds with a note and a reply, and a thread routed to the Billing desk."""
    Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
    Source.objects.create(brand=brand, kind=Source.Kind.SEARCH, query='"acme" -is:retweet')
    billing = Team.objects.create(brand=brand, name="Billing desk")
    threads = []
    for n in range(24):
        customer, _ = Customer.objects.get_or_create(
            brand=brand,
            x_user_id=8_000 + n % 8,
            defaults={"handle": f"customer_{n % 8}", "name": f"Customer {n % 8}"},
        )
        text = f"@acmecares my order #{1000 + n} has not arrived, can you check it please?"
        threads.append(
            make_thread_with_message(
                brand, customer, text, conversation_id=60_000 + n, preview=text
            )
        )
    held = threads[0]
    actions.do_claim(held.id, agent=sam)
    actions.do_add_note(held.id, agent=sam, text="Checked the carrier: it left the depot.")
    Event.objects.create(
        brand=brand,
        thread=threads[1],
        verb="routed",
        detail={"team": billing.id, "rule": None, "matched": "keyword: refund"},
    )
    return {"held": held, "billing": billing}


@pytest.fixture
def browse(browser, live_server, sam) -> Iterator[object]:
    """open(size, language) -> a page logged in as Sam, who picked `language`."""
    english = browser.new_context(base_url=live_server.url)  # log_in reads English labels
    login_page = english.new_page()
    log_in(login_page, sam.user.username, PASSWORD)
    login_page.wait_for_load_state()
    session = english.storage_state()
    english.close()
    contexts = []

    def open_page(size: dict[str, int], language: str):
        Agent.objects.filter(id=sam.id).update(language=language)
        context = browser.new_context(
            base_url=live_server.url,
            viewport=size,
            locale="es-ES" if language == "es" else "en-US",
            storage_state=session,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def sideways(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_supervisors_top_bar_is_one_row_at_a_desk(browse, desk, language):
    page = browse(DESK, language)
    page.goto("/")
    page.locator("#rows tr[data-thread-id]").first.wait_for()
    assert page.evaluate("document.documentElement.lang") == language
    shot(page, "queue-supervisor", language, DESK)
    bar = page.locator("#topbar").bounding_box()
    assert bar["height"] <= 60, f"the top bar is {bar['height']} px high: more than one row"
    # Every link, the search box, the bell and the log-out button on one line.
    tops = page.evaluate(
        "[...document.querySelectorAll('#topbar nav a, #topbar .notices-link,"
        " #topbar-search, #topbar .logout button')]"
        ".map(e => Math.round(e.getBoundingClientRect().top + e.offsetHeight / 2))"
    )
    assert len(tops) >= 11 and max(tops) - min(tops) <= 4, tops
    # Each link still says its name in full (no label hidden to make room).
    names = page.locator("#topbar nav a").all_inner_texts()
    assert ("Panel" if language == "es" else "Dashboard") in names


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_phones_queue_starts_its_rows_in_the_upper_part_of_the_screen(browse, desk, language):
    page = browse(PHONE, language)
    page.goto("/")
    rows = page.locator("#rows tr[data-thread-id]")
    rows.first.wait_for()
    shot(page, "queue-supervisor", language, PHONE)
    first = rows.first.bounding_box()
    assert first["y"] <= PHONE_ROWS_FROM, f"the first row starts at {first['y']} px"
    assert sideways(page) == 0
    # What the header holds is all still there, and usable.
    claim = page.locator("form[action$='/claim-next/'] button")
    assert claim.is_visible() and claim.bounding_box()["height"] >= 28
    for select in ("#queue-team", "#queue-lang"):
        assert page.locator(select).is_visible()
    # Cards keep one thread's customer, preview and age (the rows start higher, not smaller).
    assert first["height"] >= 60
    assert rows.count() >= 20


@pytest.mark.parametrize("size", [DESK, PHONE], ids=["desk", "phone"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_audit_trail_names_the_team_a_thread_was_routed_to(browse, desk, language, size):
    page = browse(size, language)
    page.goto("/sup/audit/")
    routed = page.locator("td.event-words[data-verb=routed]")
    routed.wait_for()
    shot(page, "audit", language, size)
    said = {"en": "Routed to the team Billing desk", "es": "Dirigida al equipo Billing desk"}
    assert " ".join(routed.inner_text().split()) == said[language]
    also = page.locator("tr", has=routed).locator("td.meta").inner_text()
    assert str(desk["billing"].id) not in also.replace("#", "")
    assert sideways(page) == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_bad_relay_hashtag_is_said_in_our_words(browser, live_server, brand, language):
    from inbox.rules import reasons

    admin = make_agent(brand, "ada", role="admin")
    why = reasons.make("relay_bad_hashtag", hashtag="2024")
    Source.objects.create(
        brand=brand, kind=Source.Kind.RELAY, last_error=reasons.english(why), last_reason=why
    )
    admin.language = language
    admin.save(update_fields=["language"])
    context = browser.new_context(base_url=live_server.url, viewport=DESK)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        log_in(page, admin.user.username, PASSWORD)
        page.goto("/admin/sources/")
        text = page.locator("main").inner_text()
        shot(page, "sources", language, DESK)
        said = {
            "en": "The relay hashtag “2024” cannot be searched on X",
            "es": "El hashtag de reenvío «2024» no se puede buscar en X",
        }
        assert said[language] in text
        assert "X refused" not in text and "X rechazó" not in text
    finally:
        context.close()


@pytest.mark.parametrize("size", [DESK, PHONE], ids=["desk", "phone"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_thread_page_and_the_dashboard_look_finished(browse, desk, language, size):
    """The previous session's last CSS fixes, re-shot: no sideways scroll; on the thread
    page no empty band under the header and a wide reply box; on the dashboard each
    figure on one line."""
    page = browse(size, language)
    page.goto(f"/t/{desk['held'].id}/")
    box = page.locator("#reply-form textarea[name=text]")
    box.wait_for()
    shot(page, "thread", language, size)
    assert sideways(page) == 0
    assert box.bounding_box()["width"] >= 300
    head = page.locator(".thread-head").bounding_box()
    below = page.evaluate(
        "(() => { const h = document.querySelector('.thread-head');"
        " let e = h.nextElementSibling;"
        " while (e && !(e.offsetHeight > 0)) e = e.nextElementSibling;"
        " return e ? e.getBoundingClientRect().top : null; })()"
    )
    assert below is not None and below - (head["y"] + head["height"]) <= 24, "an empty band"
    page.goto("/sup/")
    page.locator("#dash").wait_for()
    shot(page, "dashboard", language, size)
    assert sideways(page) == 0
    heights = page.evaluate(
        "[...document.querySelectorAll('.tile strong')].map(e =>"
        " [e.textContent.trim(), e.getBoundingClientRect().height,"
        " parseFloat(getComputedStyle(e).lineHeight) || parseFloat(getComputedStyle(e).fontSize)])"
    )
    assert heights, "no figures"
    for text, height, line in heights:
        assert height < 1.6 * line, f"{text!r} takes more than one line"
