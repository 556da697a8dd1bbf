"""The sandbox page as a customer sees it: the brand's answer appears without a reload."""

from __future__ import annotations

import pytest

from twelp.xsandbox import actions
from twelp.xsandbox.models import Tweet

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_shows_the_brands_answer_without_a_reload(browser, sandbox):
    page = browser.new_context().new_page()
    page.set_default_timeout(10_000)
    page.goto(sandbox.url + "/")
    maya = sandbox.customers[0]
    picker = page.get_by_label("Pick a persona")
    picker.select_option(
        picker.locator("option", has_text=maya.username).first.get_attribute("value")
    )
    page.get_by_role("button", name="Continue as this persona").click()
    page.locator("form[action$='/tweet'] textarea[name=text]").first.fill("is it in stock?")
    page.get_by_role("button", name="Tweet", exact=True).click()
    page.get_by_text("Tweeted.").wait_for()
    question = Tweet.objects.get(author=maya)

    # A Reply box left open with words in it must survive the refresh.
    page.locator("[data-live=conversations] summary").first.click()
    half_written = page.locator("[data-live=conversations] details textarea").first
    half_written.fill("also, which colours?")

    actions.post_tweet(
        sandbox.brand, "@maya_rivera Yes, 12 left ^JD", in_reply_to_tweet_id=question.id
    )
    page.locator("[data-live=replies]", has_text="Yes, 12 left ^JD").wait_for()  # no reload
    assert half_written.input_value() == "also, which colours?"
    assert page.locator("[data-live=conversations]", has_text="Yes, 12 left").count() == 0

    half_written.fill("")
    page.locator("[data-live=conversations] summary").first.click()  # closes the box
    page.locator("[data-live=conversations]", has_text="Yes, 12 left ^JD").wait_for()


def test_no_page_outlives_the_test_that_opened_it(browser):
    """Every test's browser contexts are closed when it ends (tests.chromium.browser): the
    sandbox page above, left open, went on refreshing itself during later tests, and the
    failure of one of its requests was raised in another test's request."""
    assert browser.contexts == []  # whichever tests ran before, none left one open
    browser.new_context().new_page()  # closed by the fixture, not here
    assert len(browser.contexts) == 1
