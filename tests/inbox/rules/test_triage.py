"""Triage badges (inbox.rules.triage): intent and mood for customer care, and how they
reach the message, the thread, the priority and the page."""

from __future__ import annotations

import pytest

from bench.triage import DATA, evaluate, load
from inbox.models import Message, Thread
from inbox.rules import priority, sentiment, triage
from tests.inbox.ingest.pages import ingest, tweet, user

DEMO = (
    "My order #4411 never arrived and the tracking link says 'label created' for 9 days. "
    "Can someone help?"
)


def test_the_demo_complaint_is_a_complaint_and_not_positive():
    assert sentiment.band(sentiment.score(DEMO)) == "positive"  # VADER alone: "help"
    reading = triage.read(DEMO)
    assert reading.intent == triage.COMPLAINT
    assert reading.mood in ("negative", "frustrated")


@pytest.mark.parametrize(
    ("text", "intent", "mood"),
    [
        ("Great, another delay. Love waiting 14 days for a charger 🙄", "complaint", "frustrated"),
        ("Thanks for nothing @acmecares", "complaint", "frustrated"),
        ("😡😡😡", "complaint", "frustrated"),
        ("Mi pedido nunca llegó y nadie me responde", "complaint", "negative"),
        ("how do I reset the router to factory settings", "question", "neutral"),
        ("Can you help me choose between these two vacuums?", "question", "neutral"),
        ("¿Tienen este modelo en color negro?", "question", "neutral"),
        ("Thank you @acmecares for the fast refund, really appreciate it", "praise", "positive"),
        ("🙌🙌", "praise", "positive"),
        ("ok", "other", "neutral"),
    ],
)
def test_it_reads_care_tweets(text, intent, mood):
    reading = triage.read(text)
    assert (reading.intent, reading.mood) == (intent, mood)


def test_the_evaluation_set_is_large_enough_and_the_rules_hold_on_it():
    rows = load(sorted(DATA.glob("triage_eval_*.tsv")))
    assert len(rows) >= 300
    assert {r["intent"] for r in rows} == set(triage.INTENTS)
    tuned = evaluate([r for r in rows if "holdout" not in r["tags"]])
    # Floors a change of the rules must keep (BENCHMARKS.md has the numbers).
    assert int(tuned["intent"]["overall"].split("/")[0]) >= 0.9 * tuned["n"]
    assert tuned["complaints_positive_after"] <= 3 < tuned["complaints_positive_before"]


def test_a_thread_takes_its_most_pressing_intent_and_a_complaint_raises_priority(source):
    ingest(
        source,
        [
            tweet(1, "do you ship to Puerto Rico?", author=42, conversation=1),
            tweet(2, DEMO, author=42, conversation=1),
            tweet(3, "what time do you open on sunday?", author=43, conversation=3),
        ],
        [user(42), user(43)],
    )
    intents = dict(Message.objects.values_list("x_id", "intent"))
    assert intents == {1: "question", 2: "complaint", 3: "question"}
    complaint = Thread.objects.get(conversation_id=1)
    question = Thread.objects.get(conversation_id=3)
    assert complaint.intent == "complaint" and question.intent == "question"
    assert sentiment.band(complaint.sentiment) == "negative"
    assert complaint.priority == priority.NEGATIVE + priority.COMPLAINT
    assert question.priority == 0


def test_a_waiting_thread_keeps_its_complaint_when_the_customer_says_thanks(source):
    ingest(source, [tweet(1, DEMO, author=42)], [user(42)])
    ingest(source, [tweet(2, "thanks!", author=42, conversation=1)], [user(42)])
    assert Thread.objects.get().intent == "complaint"


def test_the_queue_and_thread_show_the_intent_badge(client, agent, source):
    ingest(source, [tweet(1, DEMO, author=42)], [user(42)])
    client.force_login(agent.user)
    assert 'class="badge intent intent-complaint"' in client.get("/").content.decode()
    thread = Thread.objects.get()
    page = client.get(f"/t/{thread.id}/").content.decode()
    assert page.count('class="badge intent intent-complaint"') == 2
    assert "mood-positive" not in page


def test_the_complaint_model_never_learns_from_a_held_out_tweet():
    held = set()
    for path in sorted(triage.DATA.glob("triage_eval_*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            intent, mood, tags, text = line.split("\t")
            if "holdout" in tags.split(","):
                held.add(text)
    trained = {text for _, text in triage.training_rows()}
    assert held and trained and not held & trained


def test_a_complaint_no_cue_names_is_read_by_the_model():
    text = "The fridge you delivered has a huge dent in the door"
    assert triage._by_cues(text)[0] == triage.OTHER  # no cue fires
    assert triage.read(text).intent == triage.COMPLAINT
    assert triage.read(text).mood == "negative"


def test_the_model_leaves_plain_questions_and_praise_alone():
    assert triage.read("What time does the downtown store open on Sunday?").intent == "question"
    assert triage.read("Thank you, the new router works great").intent == "praise"


def test_an_untrained_model_changes_nothing():
    empty = triage.Bayes.trained([])
    text = "The fridge you delivered has a huge dent in the door"
    assert empty.complaint_odds(text) == 0.0
    assert triage.intent(text, empty)[0] == triage.OTHER
