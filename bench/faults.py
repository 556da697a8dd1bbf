"""Fault trials (issue 9): processes SIGKILLed at random moments, X failing at 20%.

    python -m bench.faults                     # 100 poller trials, 100 post_reply trials
    python -m bench.faults --trials 5 --only poller --json out.json

On a fresh database of its own (default twelp_bench_faults, dropped and created here; the
sandbox's tables live in it too, as in the demo) and Redis db 11 (flushed):

Poller trials. The X sandbox (gunicorn) answers the mentions timeline with a 429, a 503 or
a 2 s stall (the gateway times out after 1 s) on 20% of calls, one of the three at
random. Each trial: customers tweet 40-300 times (twelp.xsandbox.simulate: questions,
follow-ups in old conversations, plain retweets Twelp must skip); a poller process
(`poll.poll` in a loop, as beat keeps calling it) starts, more tweets arrive while it
runs, and it is SIGKILLed at a random moment 0-1.5 s in. Then polls run here, faults still
on, until since_id has caught up with X. Checked after every trial, over everything so
far: every wanted tweet is exactly one message (missing, duplicated), every conversation
one live thread.

post_reply trials. A real Celery worker (1 pool process; OUTBOX_STUCK_SECONDS=5, so a dead
attempt's lease runs out in 5 s) posts the replies. X answers half of the POST /2/tweets
calls only 1 s after storing the tweet, so many kills land between X accepting and the
row saving. Each trial: 2-5 customers ask, the poll brings them in, an agent answers
each, and 0-2.5 s later the worker's pool process is SIGKILLed. Celery requeues its task
(task_reject_on_worker_lost) and the outbox sweep runs every 2 s, as beat does. Checked
once every reply of the trial is settled (90 s at most): at the sandbox, the brand's
replies to each question (double-posted if more than one, lost if none, or if the row is
not `posted` with that tweet's id).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import threading
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from bench import common, stats
from tests import processes

if TYPE_CHECKING:  # imported at run time only after Django is set up
    from agents.models import Agent
    from inbox.models import Brand

FAULT_RATE = 0.20
# pick() rolls each fault in turn: three at p each fail a call with 1 - (1 - p)^3 = 20%.
EACH_FAULT = 1 - (1 - FAULT_RATE) ** (1 / 3)
POLLER_CODE = """
from inbox.ingest import poll
print("ready", flush=True)
while True:
    poll.poll({source_id})
"""
# Settings of every process here (this one, the poller, the worker, the sandbox).
ENV = {
    "X_API_TIMEOUT": "1",  # the sandbox's stall is 2 s: a timeout, a Transient error
    "OUTBOX_STUCK_SECONDS": "5",  # the lease of an attempt in flight (post_reply's limit)
}
SWEEP_EVERY = 2.0
SETTLE_TIMEOUT = 90
WORKER_ENV = {"X_API_TIMEOUT": "3"}  # the worker waits out the 1 s late answer


@dataclass
class PollerTrial:
    trial: int
    tweets: int  # posted at X in this trial (retweets included)
    expected: int  # wanted tweets at X so far (every trial's)
    killed_after_s: float
    behind_at_kill: int  # wanted tweets at X not yet messages when the poller died
    recovery_polls: int
    missing: int
    duplicated: int


@dataclass
class ReplyTrial:
    trial: int
    expected: int
    killed_after_s: float
    killed_children: int
    accepted_unsaved: int  # at the kill: X had the reply, the row did not know
    settle_s: float
    lost: int
    double_posted: int


# --- poller trials -------------------------------------------------------------------------------


def wanted_tweets() -> Any:
    from twelp.xsandbox.models import Tweet
    from twelp.xsandbox.seed import brand_account

    brand = brand_account()
    mentioning = Tweet.objects.filter(mention_rows__account=brand)
    return mentioning.filter(retweeted_tweet_id__isnull=True).exclude(author=brand)


def newest_mention() -> int:
    from django.db.models import Max

    from twelp.xsandbox.models import Tweet
    from twelp.xsandbox.seed import brand_account

    found = Tweet.objects.filter(mention_rows__account=brand_account()).aggregate(Max("id"))
    return found["id__max"] or 0


def catch_up(source_id: int, *, limit: int = 500) -> int:
    """Poll until since_id has reached X's newest mention; how many polls that took."""
    from inbox.ingest import poll
    from inbox.models import Source

    newest = newest_mention()
    for polls in range(1, limit + 1):
        result = poll.poll(source_id)
        if not result.ran:  # the dead poller's session still holds the lock, for a moment
            time.sleep(0.05)
        since_id = Source.objects.values_list("since_id", flat=True).get(id=source_id)
        if result.ran and not result.error and (since_id or 0) >= newest:
            return polls
    raise RuntimeError(f"since_id did not catch up with X in {limit} polls")


def losses() -> tuple[int, int, int]:
    """(wanted tweets at X, of them not a message, extra rows: messages or live threads)."""
    from django.db.models import Count

    from inbox.models import Message, Thread, ThreadStatus

    wanted = set(wanted_tweets().values_list("id", flat=True))
    stored = Message.objects.filter(direction=Message.Direction.IN, x_id__in=wanted)
    missing = len(wanted - set(stored.values_list("x_id", flat=True)))
    extra_messages = sum(
        row["n"] - 1
        for row in stored.values("x_id").annotate(n=Count("id")).filter(n__gt=1).order_by()
    )
    extra_threads = sum(
        row["n"] - 1
        for row in Thread.objects.exclude(status=ThreadStatus.CLOSED)
        .values("brand_id", "channel", "conversation_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by()
    )
    return len(wanted), missing, extra_messages + extra_threads


def simulate(count: int, seed: int) -> int:
    from twelp.xsandbox.simulate import simulate as write

    return len(write(count, seed=seed, customers=25).tweets) if count else 0


def poller_trial(n: int, rng: random.Random, source_id: int, env: dict[str, str]) -> PollerTrial:
    from django.db import connections

    from inbox.models import Message

    posted = simulate(rng.randint(40, 300), seed=2 * n)
    victim = processes.shell(POLLER_CODE.format(source_id=source_id), env, name="poller")
    try:
        victim.wait_until(lambda: "ready" in victim.output(), timeout=90, what="the poller")
        started = time.monotonic()
        kill_after = rng.uniform(0.0, 1.5)
        arriving = rng.randint(0, 150)
        writer = threading.Thread(target=_simulate_in_thread, args=(arriving, 2 * n + 1))
        writer.start()
        time.sleep(max(kill_after - (time.monotonic() - started), 0.0))
        behind = wanted_tweets().count() - Message.objects.filter(direction="in").count()
    finally:
        victim.kill()  # SIGKILL: nothing in it gets to clean up
        victim.log_path.unlink(missing_ok=True)
    writer.join()
    posted += arriving
    polls = catch_up(source_id)
    expected, missing, duplicated = losses()
    connections.close_all()
    return PollerTrial(n, posted, expected, kill_after, behind, polls, missing, duplicated)


def _simulate_in_thread(count: int, seed: int) -> None:
    from django.db import connection

    try:
        simulate(count, seed)
    finally:
        connection.close()


def set_poller_faults() -> None:
    from twelp.xsandbox.faults import FaultSpec
    from twelp.xsandbox.models import Fault

    Fault.objects.all().delete()
    for kind in ("rate_limit", "unavailable", "slow"):
        FaultSpec(kind, "mentions", probability=EACH_FAULT, reset_after=1, delay=2.0).save()


def run_poller_trials(trials: int, source_id: int, env: dict[str, str], seed: int) -> list:
    set_poller_faults()
    rng = random.Random(seed)
    rows = []
    for n in range(1, trials + 1):
        row = poller_trial(n, rng, source_id, env)
        rows.append(row)
        common.log(
            f"poller  {n:>3}/{trials}: +{row.tweets:>3} tweets,"
            f" killed at {row.killed_after_s:.2f} s"
            f" ({row.behind_at_kill} tweets behind), {row.recovery_polls} polls to catch up;"
            f" expected {row.expected}, missing {row.missing}, duplicated {row.duplicated}"
        )
    return rows


# --- post_reply trials ---------------------------------------------------------------------------


def set_reply_faults() -> None:
    from twelp.xsandbox.faults import FaultSpec
    from twelp.xsandbox.models import Fault

    Fault.objects.all().delete()
    FaultSpec("slow_after", "create_tweet", probability=0.5, delay=1.0).save()


def fresh_posting_budget() -> None:
    """A new 15-minute posting window at X for each trial. The trials post ~350 replies in
    ~10 minutes, past the brand's 100 per 15 minutes: X's headers would then pause the
    outbox until the window resets (as designed, tested in tests/inbox/outbox/test_replies.py),
    and a trial would wait out that pause instead of a dead worker."""
    from inbox.models import PostingBudget
    from twelp.xsandbox.models import RateWindow

    RateWindow.objects.all().delete()
    PostingBudget.objects.all().delete()


def ask(n: int, count: int, source_id: int) -> list[tuple[int, int]]:
    """`count` customers ask; the poll brings the questions in: [(thread id, tweet id)]."""
    from inbox.models import Thread
    from twelp.xsandbox import actions
    from twelp.xsandbox.models import Account
    from twelp.xsandbox.seed import brand_account

    brand = brand_account()
    customers = list(Account.objects.filter(kind=Account.Kind.CUSTOMER).order_by("id")[:50])
    questions = [
        actions.post_tweet(
            customers[(n * 7 + i) % len(customers)],
            f"@{brand.username} trial {n} question {i}: where is my order?",
        )
        for i in range(count)
    ]
    catch_up(source_id)
    threads = dict(
        Thread.objects.filter(conversation_id__in=[q.conversation_id for q in questions])
        .exclude(status="closed")
        .values_list("conversation_id", "id")
    )
    return [(threads[q.conversation_id], q.id) for q in questions]


def brand_replies(question_ids: list[int]) -> dict[int, list[int]]:
    from twelp.xsandbox.models import Tweet

    found: dict[int, list[int]] = {q: [] for q in question_ids}
    for tweet_id, parent in Tweet.objects.filter(
        author_id=common.BRAND_X_USER_ID, in_reply_to_tweet_id__in=question_ids
    ).values_list("id", "in_reply_to_tweet_id"):
        found[parent].append(tweet_id)
    return found


def reply_trial(
    n: int, rng: random.Random, agent: Agent, source_id: int, worker: processes.Process
) -> ReplyTrial:
    from inbox import actions, tasks
    from inbox.models import Reply

    fresh_posting_budget()
    asked = ask(n, rng.randint(2, 5), source_id)
    replies = {}
    for i, (thread_id, question_id) in enumerate(asked):
        actions.do_claim(thread_id, agent=agent)
        text = f"@{agent.brand.handle} Sorry! Checking order {n}-{i} now."
        replies[question_id] = actions.do_send_reply(thread_id, agent=agent, text=text).id
    kill_after = rng.uniform(0.0, 2.5)
    time.sleep(kill_after)
    children = worker.kill_children()  # its pool process; the worker itself lives on
    settled_from = time.monotonic()
    accepted = brand_replies(list(replies))
    unsaved = Reply.objects.filter(id__in=replies.values()).exclude(status="posted")
    accepted_unsaved = sum(
        1 for q, r in replies.items() if accepted[q] and unsaved.filter(id=r).exists()
    )

    swept = [settled_from]

    def settled() -> bool:
        if time.monotonic() - swept[-1] >= SWEEP_EVERY:
            tasks.sweep_outbox()  # as beat does
            swept.append(time.monotonic())
        pending = Reply.objects.filter(id__in=replies.values(), status__in=["queued", "sending"])
        return not pending.exists()

    try:
        processes.wait_until(settled, timeout=SETTLE_TIMEOUT, what="the replies", interval=0.25)
    except TimeoutError:  # judged as they are (lost, unless X has them); the run goes on
        rows = Reply.objects.filter(id__in=replies.values()).values(
            "id", "status", "attempts", "next_attempt_at", "last_error"
        )
        common.log(f"trial {n}: replies not settled in {SETTLE_TIMEOUT} s: {list(rows)}")
        common.log(f"worker log:\n{worker.tail()}")
    settle = time.monotonic() - settled_from
    lost, double = judge(replies)
    return ReplyTrial(
        n, len(replies), kill_after, len(children), accepted_unsaved, settle, lost, double
    )


def judge(replies: dict[int, int]) -> tuple[int, int]:
    """(lost, double-posted): X holds none / several of the brand's replies to a question,
    or the row does not say `posted` with the id of the one X holds."""
    from inbox.models import Reply

    at_x = brand_replies(list(replies))
    rows = dict(Reply.objects.filter(id__in=replies.values()).values_list("id", "posted_x_id"))
    lost = double = 0
    for question, reply_id in replies.items():
        tweets = at_x[question]
        double += len(tweets) > 1
        lost += not tweets or rows[reply_id] not in tweets
    return lost, double


def run_reply_trials(
    trials: int, brand: Brand, source_id: int, env: dict[str, str], seed: int
) -> list:
    from bench.queue import create_agents

    set_reply_faults()
    [agent] = create_agents(brand, 1)
    rng = random.Random(seed)
    rows = []
    with common.celery_worker({**env, **WORKER_ENV}, concurrency=1) as worker:
        for n in range(1, trials + 1):
            row = reply_trial(n, rng, agent, source_id, worker)
            rows.append(row)
            common.log(
                f"replies {n:>3}/{trials}: {row.expected} sent, killed {row.killed_children} pool"
                f" process at {row.killed_after_s:.2f} s ({row.accepted_unsaved} accepted by X,"
                f" row not saved), settled in {row.settle_s:.1f} s; lost {row.lost},"
                f" double-posted {row.double_posted}"
            )
    return rows


# --- the run ------------------------------------------------------------------------------


def setup(args: argparse.Namespace) -> tuple[Brand, int]:
    from inbox.models import Brand, Source
    from twelp.xsandbox.seed import seed

    common.fresh_database(args.database_url)
    common.flush_redis(args.redis_url)
    seed()
    simulate(30, seed=0)  # a few customers to ask the reply trials' questions
    brand = Brand.objects.create(
        name="Twelp Demo", handle=common.BRAND_HANDLE, x_user_id=common.BRAND_X_USER_ID
    )
    source = Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
    return brand, source.id


def summarize(poller: list[PollerTrial], replies: list[ReplyTrial]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if poller:
        out["poller"] = {
            "trials": len(poller),
            "tweets_expected": poller[-1].expected,
            "missing": max(r.missing for r in poller),
            "duplicated": max(r.duplicated for r in poller),
            "tweets_posted": sum(r.tweets for r in poller),
            "killed_while_behind": sum(1 for r in poller if r.behind_at_kill > 0),
        }
    if replies:
        out["replies"] = {
            "trials": len(replies),
            "replies_expected": sum(r.expected for r in replies),
            "lost": sum(r.lost for r in replies),
            "double_posted": sum(r.double_posted for r in replies),
            "trials_killed_after_x_accepted": sum(1 for r in replies if r.accepted_unsaved),
            "settle_s": stats.summary([r.settle_s for r in replies]),
        }
    return out


def report(summary: dict[str, Any]) -> None:
    print("\n| trials | tweets expected | missing | duplicated |\n|---|---|---|---|")
    if p := summary.get("poller"):
        print(f"| {p['trials']} | {p['tweets_expected']:,} | {p['missing']} | {p['duplicated']} |")
        print(
            f"\n{p['killed_while_behind']} of {p['trials']} poller trials killed it while"
            " tweets at X were still to be stored."
        )
    print("\n| trials | replies expected | lost | double-posted |\n|---|---|---|---|")
    if r := summary.get("replies"):
        print(f"| {r['trials']} | {r['replies_expected']} | {r['lost']} | {r['double_posted']} |")
        print(
            f"\n{r['trials_killed_after_x_accepted']} of {r['trials']} reply trials killed the"
            " worker after X accepted a reply and before its row was saved."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--only", choices=["poller", "replies"])
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_faults"))
    parser.add_argument("--redis-url", default=common.redis_url(11), help="A db it may flush.")
    parser.add_argument("--json", help="Also write the results to this file.")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()
    port = common.free_port()
    os.environ.update(ENV)
    env = {**common.configure(args.database_url, args.redis_url, sandbox_port=port), **ENV}
    env = {**os.environ, **env}
    common.setup_django()
    machine = common.machine()
    common.log(f"machine: {machine}")
    brand, source_id = setup(args)
    poller: list[PollerTrial] = []
    replies: list[ReplyTrial] = []
    from django.db import connections

    try:
        connections.close_all()
        with common.sandbox_server(port, env):
            if args.only in (None, "poller"):
                poller = run_poller_trials(args.trials, source_id, env, args.seed)
            if args.only in (None, "replies"):
                replies = run_reply_trials(args.trials, brand, source_id, env, args.seed)
    finally:
        connections.close_all()
        if not args.keep_database:
            with contextlib.suppress(Exception):
                common.drop_database(args.database_url)
    summary = summarize(poller, replies)
    report(summary)
    common.write_json(
        args.json,
        {
            "machine": machine,
            "summary": summary,
            "poller": [asdict(r) for r in poller],
            "replies": [asdict(r) for r in replies],
        },
    )
    bad = [v for part in summary.values() for k, v in part.items() if k in BAD and v]
    if bad:
        raise SystemExit("a tweet or a reply was lost or doubled: see above")


BAD = {"missing", "duplicated", "lost", "double_posted"}

if __name__ == "__main__":
    main()
