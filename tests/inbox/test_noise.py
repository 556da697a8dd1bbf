"""Noise: muted words, muted and blocked customers, and the queue's bulk dismiss."""

from __future__ import annotations

from functools import partial

import pytest
from django.test import Client

from inbox import actions, noise
from inbox.ingest import poll, screen
from inbox.models import Brand, Customer, Event, Message, Mute, Source, Thread
from tests.helpers import claim_until_done, login, make_agent, make_thread
from tests.inbox.ingest.pages import ingest, tweet, user
from tests.inbox.test_races import run_together
from tests.sandbox import BRAND_ID

# --- the word rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "text", "matches"),
    [
        ("spam", "this is spam", True),
        ("spam", "THIS IS SPAM!", True),  # any case
        ("spam", "#spam everywhere", True),  # a hashtag is the word
        ("spam", "(Spam), again", True),
        ("spam", "such a spammy offer", False),  # inside another word: no
        ("spam", "our antispam filter", False),
        ("spam", "spam_bot", False),  # _ is a word character
        ("free followers", "Get FREE followers now", True),
        ("free followers", "free and followers", False),
        ("crypto", "Crypto!!! giveaway", True),
        ("crypto", "cryptographic keys", False),
        ("café", "Le CAFÉ est froid", True),  # Unicode case
        ("don't", "I DON'T care", True),  # punctuation inside: the phrase path
        ("don't", "dont care", False),
        ("u.s.", "made in the U.S. today", True),
    ],
)
def test_it_matches_a_muted_word_on_word_boundaries_in_any_case(word, text, matches):
    assert bool(screen.word_matcher([word]).search(text)) is matches


def test_it_says_which_of_many_words_and_phrases_matched():
    matcher = screen.word_matcher(["spam", "free followers", "crypto"])
    assert matcher.search("Get FREE followers") == "free followers"
    assert matcher.search("win Crypto now") == "crypto"
    assert matcher.search("cryptocurrency and spammers") is None


def test_it_agrees_with_one_big_regex_on_random_text():
    """bench.mute_words at a tiny size: the fast matcher finds what the regex finds."""
    from bench import mute_words

    results = mute_words.main(["--words", "300", "--tweets", "2000", "--rounds", "1"])
    assert results["hits"] == results["regex_hits"] > 0


def test_it_matches_none_of_an_empty_list():
    assert screen.word_matcher([]) is None


@pytest.mark.parametrize("raw", ["", "   ", "<script>", "$$$", "x" * 101])
def test_it_refuses_an_unusable_word_with_a_clear_message(raw, supervisor):
    with pytest.raises(actions.ActionError):
        noise.mute_word(raw, agent=supervisor)
    assert not Mute.objects.exists()


def test_it_stores_a_word_lowercased_once(supervisor):
    mute = noise.mute_word("  Free   FOLLOWERS ", agent=supervisor)
    assert mute.word == "free followers"
    with pytest.raises(actions.ActionError, match="already muted"):
        noise.mute_word("free followers", agent=supervisor)


def test_it_lets_only_supervisors_mute_words(agent):
    with pytest.raises(actions.ActionError):
        noise.mute_word("spam", agent=agent)


# --- ingest ------------------------------------------------------------------------------


def open_ids(brand: Brand) -> set[int]:
    return set(Thread.objects.filter(brand=brand, status="open").values_list("id", flat=True))


def test_it_keeps_a_muted_tweet_but_out_of_the_queue(source, supervisor):
    noise.mute_word("giveaway", agent=supervisor)
    result = ingest(
        source,
        [tweet(101, "@acmecares GIVEAWAY! click", author=7), tweet(102, "my order?", author=8)],
        [user(7), user(8)],
    )
    assert result.ingested == 2
    assert Message.objects.count() == 2  # nothing is lost
    muted = Message.objects.get(x_id=101).thread
    asked = Message.objects.get(x_id=102).thread
    assert (muted.status, asked.status) == ("closed", "open")
    assert open_ids(source.brand) == {asked.id}
    event = Event.objects.get(thread=muted)
    assert (event.verb, event.detail) == (
        "muted",
        {"message": 101, "reason": "word", "word": "giveaway"},
    )
    assert Customer.objects.filter(x_user_id=7).exists()  # the profile is kept too


def test_it_keeps_a_muted_or_blocked_customers_tweets_out_of_the_queue(source, supervisor):
    ingest(source, [tweet(1, "hi", author=7), tweet(2, "hello", author=8)], [user(7), user(8)])
    seven, eight = Customer.objects.get(x_user_id=7), Customer.objects.get(x_user_id=8)
    noise.mute_customer(seven, agent=supervisor)
    noise.mute_customer(eight, agent=supervisor, block=True)
    assert Thread.objects.get(customer=eight).status == "closed"  # blocking dismissed it
    ingest(source, [tweet(3, "again", author=7), tweet(4, "again", author=8)], [user(7), user(8)])
    assert Message.objects.filter(x_id__in=[3, 4]).count() == 2
    for x_id, verb in ((3, "muted"), (4, "blocked")):
        thread = Message.objects.get(x_id=x_id).thread
        assert thread.status == "closed"
        assert Event.objects.filter(thread=thread, verb=verb, detail__message=x_id).exists()
    # Muting a customer does not take their thread already waiting out of the queue.
    assert open_ids(source.brand) == {Message.objects.get(x_id=1).thread_id}


def test_it_does_not_reopen_a_closed_conversation_for_a_muted_reply(source, supervisor, agent):
    ingest(source, [tweet(1, "router down", author=7)], [user(7)])
    thread = Thread.objects.get()
    actions.do_claim(thread.id, agent=agent)
    actions.do_close(thread.id, agent=agent)
    noise.mute_word("crypto", agent=supervisor)
    ingest(source, [tweet(2, "win crypto", author=9, conversation=1)], [user(9)])
    thread.refresh_from_db()
    assert (thread.status, thread.preview) == ("closed", "router down")
    # Another customer has a thread of their own in the conversation (issue 17): filed
    # closed, saying why; ours is untouched.
    assert thread.messages.count() == 1
    muted = Message.objects.get(x_id=2).thread
    assert (muted.status, muted.id != thread.id) == ("closed", True)
    assert Event.objects.filter(thread=muted, verb="muted").count() == 1
    # The customer's own follow-up still reopens it.
    ingest(source, [tweet(3, "still down", author=7, conversation=1)], [user(7)])
    thread.refresh_from_db()
    assert thread.status == "open"


def test_a_real_customer_joining_a_conversation_a_muted_tweet_started_is_queued(source, supervisor):
    noise.mute_word("crypto", agent=supervisor)
    ingest(
        source,
        [tweet(1, "crypto!", author=9), tweet(2, "real question", author=7, conversation=1)],
        [user(9), user(7)],
    )
    # Each customer has a thread of their own (issue 17): the real question's is open,
    # linked to the conversation's first (the muted one, filed closed).
    real = Message.objects.get(x_id=2).thread
    muted = Message.objects.get(x_id=1).thread
    assert (real.status, muted.status) == ("open", "closed")
    assert real.messages.count() == 1 and real.joined_id == muted.id


def test_it_lets_new_tweets_through_again_after_unmute(source, supervisor, client: Client):
    mute = noise.mute_word("spam", agent=supervisor)
    ingest(source, [tweet(1, "spam spam", author=7)], [user(7)])
    assert not open_ids(source.brand)
    login(client, supervisor.user)
    response = client.post(f"/noise/{mute.id}/lift/")
    assert response.status_code == 302
    mute.refresh_from_db()
    assert (mute.lifted_by, mute.lifted_at is not None) == (supervisor, True)
    ingest(source, [tweet(2, "spam again", author=8)], [user(8)])
    assert open_ids(source.brand) == {Message.objects.get(x_id=2).thread_id}
    page = client.get("/noise/").content.decode()
    assert "Lifted" in page and "“spam”" in page  # the supervisor sees what was muted


def test_it_ingests_through_the_real_poller_keeping_muted_tweets_closed(sandbox, supervisor):
    brand = Brand.objects.create(name="Acme X", handle="acme_care", x_user_id=BRAND_ID)
    source = Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
    boss = make_agent(brand, "boss", role="supervisor")
    noise.mute_word("free followers", agent=boss)
    kim, lee = sandbox.customers[:2]
    noisy = sandbox.tweet_at_brand(kim, "FREE followers, click here")
    real = sandbox.tweet_at_brand(lee, "my delivery is late")
    result = poll.poll(source.id)
    assert result.ingested == 2
    assert Message.objects.get(x_id=noisy.id).thread.status == "closed"
    assert Message.objects.get(x_id=real.id).thread.status == "open"
    assert poll.poll(source.id).ingested == 0  # and nothing twice


# --- muting from the pages ---------------------------------------------------------------


def test_it_lets_an_agent_mute_the_customer_from_the_thread(client, agent, brand, customer):
    thread = make_thread(brand, customer, 1)
    login(client, agent.user)
    response = client.post(f"/t/{thread.id}/mute/", follow=True)
    assert "Muted @kim" in response.content.decode()
    mute = Mute.objects.get()
    assert (mute.kind, mute.customer, mute.created_by) == ("customer", customer, agent)
    thread.refresh_from_db()
    assert thread.status == "open"  # muting keeps what already waits
    again = client.post(f"/t/{thread.id}/mute/", follow=True).content.decode()
    assert "already muted" in again


def test_it_blocks_dismissing_open_threads_but_not_claimed_ones(
    client, supervisor, agent, brand, customer
):
    waiting = make_thread(brand, customer, 1)
    held = make_thread(brand, customer, 2)
    actions.do_claim(held.id, agent=agent)
    login(client, supervisor.user)
    assert client.post(f"/t/{waiting.id}/block/").status_code == 302
    waiting.refresh_from_db()
    held.refresh_from_db()
    assert (waiting.status, held.status, held.claimed_by) == ("closed", "claimed", agent)
    assert Event.objects.filter(thread=waiting, verb="blocked", actor=supervisor).count() == 1


def test_it_adds_a_word_from_the_noise_page_and_explains_a_bad_one(client, supervisor):
    login(client, supervisor.user)
    ok = client.post("/noise/words/", {"word": "Giveaway"}, follow=True).content.decode()
    assert "Muted “giveaway”" in ok
    bad = client.post("/noise/words/", {"word": "<b>"}, follow=True).content.decode()
    assert "starts with a letter or digit" in bad
    assert "<b>" not in bad.split("<main")[1]  # escaped if ever echoed
    assert list(Mute.objects.values_list("word", flat=True)) == ["giveaway"]


# --- bulk dismiss ------------------------------------------------------------------------


def test_it_dismisses_the_selected_open_threads_with_one_event_each(client, supervisor, brand):
    threads = [
        make_thread(brand, Customer.objects.create(brand=brand, x_user_id=i, handle=f"c{i}"), i)
        for i in range(1, 4)
    ]
    login(client, supervisor.user)
    response = client.post("/dismiss/", {"thread": [t.id for t in threads]}, follow=True)
    assert "Dismissed 3 threads." in response.content.decode()
    assert set(Thread.objects.values_list("status", flat=True)) == {"closed"}
    assert Event.objects.filter(verb="dismissed", actor=supervisor).count() == 3
    assert not Event.objects.exclude(verb="dismissed").exists()


def test_it_skips_what_changed_since_the_form_was_drawn(
    client, supervisor, agent, second_agent, brand, customer
):
    """A stale form: one thread was claimed, one answered, one is gone; nothing is lost."""
    free, claimed, answered = (make_thread(brand, customer, i) for i in (1, 2, 3))
    actions.do_claim(claimed.id, agent=second_agent)
    actions.do_claim(answered.id, agent=agent)
    actions.do_send_reply(answered.id, agent=agent, text="@kim on it")
    login(client, supervisor.user)
    ids = [free.id, claimed.id, answered.id, 999_999]
    page = client.post("/dismiss/", {"thread": ids}, follow=True).content.decode()
    assert "Dismissed 1 thread." in page
    assert "Skipped 3" in page
    assert "claimed by Bob" in page and "answered" in page and "no longer exists" in page
    for thread in (free, claimed, answered):
        thread.refresh_from_db()
    assert (free.status, claimed.status, answered.status) == ("closed", "claimed", "answered")
    assert claimed.claimed_by == second_agent
    assert Event.objects.filter(verb="dismissed").count() == 1


def test_it_asks_for_a_selection_when_none_is_ticked(client, supervisor):
    login(client, supervisor.user)
    page = client.post("/dismiss/", {"thread": ["abc"]}, follow=True).content.decode()
    assert "Select at least one thread" in page


def test_it_lets_only_supervisors_dismiss(agent, brand, customer):
    thread = make_thread(brand, customer, 1)
    with pytest.raises(actions.ActionError):
        actions.do_dismiss([thread.id], agent=agent)
    thread.refresh_from_db()
    assert thread.status == "open"


def test_it_shows_the_checkboxes_to_supervisors_only(client, supervisor, agent, brand, customer):
    thread = make_thread(brand, customer, 1, preview="help")
    login(client, supervisor.user)
    page = client.get("/").content.decode()
    assert f'name="thread" value="{thread.id}" form="dismiss-form"' in page
    assert "Dismiss selected" in page
    client.logout()
    login(client, agent.user)
    page = client.get("/").content.decode()
    assert 'form="dismiss-form"' not in page and "Dismiss selected" not in page


@pytest.mark.django_db(transaction=True)
def test_it_never_dismisses_a_thread_an_agent_claims_at_the_same_moment(brand, customer):
    """Real concurrent connections: a supervisor dismisses 20 threads while 8 agents
    drain the queue (each until it is empty or they hold their cap). Each thread ends
    either claimed (no dismissal) or dismissed once."""
    threads = [make_thread(brand, customer, i) for i in range(20)]
    boss = make_agent(brand, "boss", role="supervisor")
    agents = [make_agent(brand, f"agent{i}", code=f"A{i}") for i in range(8)]

    ids = [t.id for t in threads]
    drains = [partial(claim_until_done, agent) for agent in agents]
    results = run_together([lambda: actions.do_dismiss(ids, agent=boss), *drains])
    assert not [r for r in results if isinstance(r, Exception)]
    dismissed, skipped = results[0]
    claimed = [i for got in results[1:] for i in got]
    assert len(claimed) == len(set(claimed))
    assert dismissed + len(claimed) == 20
    assert len(skipped) == 20 - dismissed
    closed = set(Thread.objects.filter(status="closed").values_list("id", flat=True))
    assert closed.isdisjoint(claimed)
    assert len(closed) == dismissed
    events = list(Event.objects.filter(verb="dismissed").values_list("thread_id", flat=True))
    assert sorted(events) == sorted(closed)
    assert Thread.objects.filter(status="claimed").count() == len(claimed)


def test_it_lets_a_supervisor_find_dismissals_in_the_audit_trail(
    client, supervisor, brand, customer
):
    thread, other = make_thread(brand, customer, 1), make_thread(brand, customer, 2)
    actions.do_dismiss([thread.id], agent=supervisor)
    actions.do_claim(other.id, agent=supervisor)
    login(client, supervisor.user)
    page = client.get("/sup/audit/", {"verb": "dismissed"}).content.decode()
    assert page.count('data-verb="dismissed"') == 1
    assert 'data-verb="claimed"' not in page


def test_it_scores_each_tweet_once_muted_or_not(source, supervisor, monkeypatch):
    from inbox.rules import sentiment

    scored: list[str] = []
    score = sentiment.score
    monkeypatch.setattr(sentiment, "score", lambda text: scored.append(text) or score(text))
    noise.mute_word("crypto", agent=supervisor)
    ingest(
        source,
        [tweet(1, "crypto!", author=9), tweet(2, "my order is late", author=7, conversation=1)],
        [user(9), user(7)],
    )
    assert sorted(scored) == ["crypto!", "my order is late"]
    assert Message.objects.get(x_id=1).sentiment == score("crypto!")  # kept on the message


def test_it_keeps_a_profile_x_leaves_out_of_a_page(source):
    ingest(source, [tweet(1, "hi", author=7)], [user(7, followers=500)])
    ingest(source, [tweet(2, "again", author=7)], [])  # no includes.users for them this time
    kept = Customer.objects.get(x_user_id=7)
    assert (kept.handle, kept.followers_count) == ("user7", 500)
    ingest(source, [tweet(3, "hello", author=8)], [])
    assert Customer.objects.get(x_user_id=8).handle == "8"
