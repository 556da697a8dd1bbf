"""63 script-injection payloads as tweet text, customer names and bios (and an agent's name
and replies), entered through the X sandbox and the poller, then every page that shows
them opened in real Chromium with the Content-Security-Policy on: no dialog fires,
nothing they carry becomes an element, an event handler or a javascript: URL, and no
page (ours, or the sandbox's under its own policy) reports a CSP violation."""

from __future__ import annotations

import contextlib

import pytest

from inbox import actions, customers, noise
from inbox.errors import ActionError
from inbox.ingest import poll
from inbox.models import Brand, Reply, Source, Thread
from inbox.outbox import replies
from tests.browser.test_csp import WATCH, violations
from tests.chromium import log_in
from tests.faults.xss_payloads import payloads
from tests.helpers import PASSWORD, make_agent
from tests.sandbox import BRAND_ID
from twelp import security
from twelp.xsandbox import actions as x

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

# Anything a payload could have made real, in the page as the browser built it.
INJECTED = """() => {
  const found = [];
  const url = /^\\s*(javascript|data|vbscript):/i;
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on") || name.startsWith("hx-on") || name === "data-xss"
          || (["href", "src", "action", "formaction", "data"].includes(name)
              && url.test(attr.value))) {
        found.push(el.outerHTML.slice(0, 160));
      }
    }
  }
  for (const el of document.querySelectorAll(
      "script:not([src]), iframe, object, embed, base, marquee, math, template, x-xss,"
      + " img[src='x'], img[src^='x:'], meta[http-equiv='refresh' i],"
      + " link[href^='javascript' i]")) {
    if (el.tagName !== "SCRIPT" || /alert|xss/i.test(el.textContent)) {
      found.push(el.outerHTML.slice(0, 160));
    }
  }
  return found;
}"""


@pytest.fixture
def hostile(sandbox, twelp_pages):
    """Each payload is a customer's name, bio and tweet; Alice (a payload for a name too)
    answers ten of them with the payload; everything polled in and posted through X."""
    brand = Brand.objects.create(name="Acme", handle=sandbox.brand.username, x_user_id=BRAND_ID)
    source = Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
    texts = payloads()
    for n, text in enumerate(texts):
        # The sandbox keeps X's limits: names of 50 characters, bios of 160.
        customer = x.create_account(f"xss{n}", text[:50], description=text[:160])
        sandbox.tweet_at_brand(customer, text)
    poll.poll(source.id)
    alice = make_agent(brand, "alice")
    alice.name = "<img src=x onerror=alert(99) data-xss>"
    alice.save(update_fields=["name"])
    sue = make_agent(brand, "sue", role="supervisor")
    threads = list(Thread.objects.order_by("id").select_related("customer"))
    for thread, text in zip(threads[:10], texts, strict=False):
        actions.do_claim(thread.id, agent=alice)
        try:
            reply = actions.do_send_reply(
                thread.id, agent=alice, text=f"@{thread.customer.handle} {text[:200]}"
            )
        except ActionError:
            continue  # a reply the checks refuse is not shown anywhere
        replies.attempt(reply.id)
    # The noise page lists muted customers and words; the customer panel shows tags.
    for thread, text in zip(threads[-3:], texts[-3:], strict=True):
        noise.mute_customer(thread.customer, agent=sue)
        with contextlib.suppress(ActionError):  # a word or tag the checks refuse is not shown
            noise.mute_word(text[:40], agent=sue)
        with contextlib.suppress(ActionError):
            customers.add_tag(thread, text[:30], agent=sue)
    return texts, threads, sue


def test_no_payload_runs_or_injects_anything_on_any_page(page, sandbox, hostile):  # noqa: F811
    texts, threads, sue = hostile
    assert len(threads) == len(texts) >= 60
    assert Reply.objects.filter(status="posted").count() >= 5
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(WATCH)
    reported = security.violation_counts()
    log_in(page, "sue", PASSWORD)
    pages = ["/", "/?status=all", "/sup/", "/sup/audit/", "/noise/", "/stream/"]
    pages.append(f"{sandbox.url}/")
    pages += [f"/t/{thread.id}/" for thread in threads]
    pages += [f"/sup/t/{thread.id}/" for thread in threads[:10]]
    injected = {}
    blocked = {}
    for url in pages:
        response = page.goto(url)
        assert response.status == 200, url
        assert response.header_value("Content-Security-Policy"), url
        page.wait_for_load_state("load")
        if found := page.evaluate(INJECTED):
            injected[url] = found
        if found := violations(page):
            blocked[url] = found
    assert dialogs == []
    assert injected == {}
    assert blocked == {}
    assert security.violation_counts() == reported
    # The payloads were there, shown as text: the check looked at the right pages.
    page.goto(f"/t/{threads[1].id}/")
    assert texts[1] in page.locator("main").inner_text()
    # And the check sees an injection when there is one: the same payload, unescaped, in
    # a page with no policy (the policy's own control: tests/browser/test_csp.py).
    page.goto("about:blank")
    with page.expect_event("dialog") as fired:  # the broken image's onerror
        page.set_content(f"<main>{texts[1]}</main>")
    assert fired.value.message == "2"
    assert page.evaluate(INJECTED)
