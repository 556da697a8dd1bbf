"""Ingest throughput: tweets from the X sandbox into Twelp's queue (issue 4's benchmark).

    python -m bench.ingest                          # 10,000 and 100,000 tweets
    python -m bench.ingest --sizes 1000 --follow-ups 200 --json out.json
    python -m bench.ingest --media-lang --sizes 10000 --follow-ups 0   # issue 17's cost

For each size, on a fresh database of its own (default twelp_bench_ingest, dropped and
created by this script; the sandbox's tables live in it too, as in the demo):

1. The sandbox's world, as `manage.py xsandbox_seed` makes it, then `size` simulated
   customer tweets at the brand (twelp.xsandbox.simulate, 10,000 at a time: questions,
   complaints, follow-ups, other languages, plain retweets that Twelp must skip, quotes).
2. The sandbox serves them from its own gunicorn process (1 worker, 4 threads, rate limits
   off); Twelp reads them through the real gateway (tweepy over HTTP).
3. Backlog: Twelp drains them as its polls do: the brand's mentions, 100 a page, newest
   first, following pagination_token; each page goes through `tweets.ingest_page` in its
   own transaction, one PollResult per 50 pages (a poll's MAX_PAGES_PER_POLL), since_id
   advanced on the last page. (`poll.poll` itself stops after 50 pages; this drains the
   whole backlog so every size measures the same per-page work.)
4. Follow-ups: `--follow-ups` customers then write again in threads Twelp holds (half of
   them answered, so they reopen), and one more drain picks them up from since_id: the
   path a busy inbox takes all day (`actions.do_customers_wrote`).
5. Per page: the HTTP round trip (the sandbox's time, same machine), the gateway's parsing
   (JSON, tweepy, records: Twelp's CPU), and `ingest_page` (Twelp's code and its SQL: the
   CPU this process spent in it, the time inside SQL statements, their count). Per drain:
   CPU seconds of this process (the poller), the sandbox, the PostgreSQL backends of the
   benchmark's database, and everything else on the machine.
6. Checks: every wanted tweet (not a retweet, not the brand's own) is exactly one message,
   every conversation one thread, every follow-up a message in its thread.
7. `--media-lang` (issue 17): each size twice on the same simulated tweets, each on a
   fresh database: "plain", Twelp asking X for neither media expansions nor `lang` (the
   request as it was before images and languages), then "media+lang", the request as it
   is, with a photo (URL, size, alt text) on one tweet in MEDIA_EVERY: the difference of
   the two rows is what images and languages cost per 100-tweet page (X's larger answer,
   its parsing, Message.media and lang stored).
"""

from __future__ import annotations

import argparse
import contextlib
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from bench import common, stats
from tests import processes

if TYPE_CHECKING:  # imported at run time only after Django is set up
    from inbox.ingest.store import PollResult
    from inbox.models import Source

SIMULATE_CHUNK = 10_000
MEDIA_EVERY = 5  # --media-lang: one tweet in 5 carries a photo


@dataclass
class PageTiming:
    tweets: int
    http_ms: float
    parse_ms: float
    ingest_ms: float
    ingest_cpu_ms: float
    ingest_sql_ms: float
    queries: int


# --- the sandbox's tweets ----------------------------------------------------------------------


def seed_sandbox(size: int) -> None:
    from twelp.xsandbox.seed import seed
    from twelp.xsandbox.simulate import simulate

    seed()
    watch = stats.Stopwatch()
    for chunk, start in enumerate(range(0, size, SIMULATE_CHUNK), start=1):
        count = min(SIMULATE_CHUNK, size - start)
        simulate(count, seed=chunk, customers=max(3, min(count // 20, 500)))
        common.log(f"  sandbox: {start + count:,}/{size:,} tweets ({watch.seconds:.0f} s)")


def expected_counts() -> dict[str, int]:
    """Tweets mentioning the brand; those Twelp wants; their conversations."""
    from twelp.xsandbox.models import Tweet
    from twelp.xsandbox.seed import brand_account

    brand = brand_account()
    mentioning = Tweet.objects.filter(mention_rows__account=brand)
    wanted = mentioning.filter(retweeted_tweet_id__isnull=True).exclude(author=brand)
    return {
        "mentions": mentioning.count(),
        "wanted": wanted.count(),
        "conversations": wanted.values("conversation_id").distinct().count(),
    }


def post_follow_ups(count: int) -> tuple[int, int]:
    """`count` customers write again ("any update?") in conversations Twelp holds; half
    of those threads were answered, so they reopen. Returns (tweets, threads to reopen)."""
    from django.db import transaction

    from inbox.models import Thread, ThreadStatus
    from twelp.xsandbox import actions, snowflake
    from twelp.xsandbox.models import Tweet
    from twelp.xsandbox.seed import brand_account

    brand = brand_account()
    candidates = list(
        Tweet.objects.filter(mention_rows__account=brand, retweeted_tweet_id__isnull=True)
        .exclude(author=brand)
        .values_list("id", flat=True)
    )
    chosen = random.Random(7).sample(candidates, min(count, len(candidates)))
    parents = list(Tweet.objects.filter(id__in=chosen).select_related("author").order_by("id"))
    answered = {parent.conversation_id for parent in parents[::2]}
    Thread.objects.filter(conversation_id__in=answered).update(status=ThreadStatus.ANSWERED)
    known = {brand.username.lower(): brand.id}
    drafts = []
    for tweet_id, parent in zip(snowflake.allocate(len(parents)), parents, strict=True):
        known[parent.author.username.lower()] = parent.author_id
        body = f"any update? ({tweet_id % 100_000})"
        drafts.append(
            actions.draft_tweet(parent.author, body, tweet_id=tweet_id, parent=parent, known=known)
        )
    with transaction.atomic():
        actions.save_drafts(drafts)
    return len(drafts), len(answered)


# --- Twelp's side ------------------------------------------------------------------------------


def analyze(*tables: str) -> None:
    """What autovacuum would have done by now (the system PostgreSQL here runs without it:
    `SHOW autovacuum`), outside the timed sections: the planner sees the tables' real size."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}" if tables else "ANALYZE")


def drain(source: Source) -> tuple[list[PageTiming], dict[str, int]]:
    """Every page of the brand's mentions newer than since_id through ingest_page."""
    from django.db import connection

    from inbox.ingest import poll, store
    from inbox.ingest import tweets as tweet_pages
    from twelp import xgateway

    session = xgateway.client().session
    send = session.request
    http = [0.0]

    def timed_request(*args: Any, **kwargs: Any) -> Any:
        watch = stats.Stopwatch()
        try:
            return send(*args, **kwargs)
        finally:
            http[0] += watch.seconds

    session.request = timed_request  # this client instance only
    pages: list[PageTiming] = []
    totals = {"ingested": 0, "skipped": 0, "quarantined": 0, "new_threads": 0}
    token, newest, result = None, None, store.PollResult(source.id)
    try:
        while True:
            if pages and len(pages) % poll.MAX_PAGES_PER_POLL == 0:  # the next poll
                _add(totals, result)
                result = store.PollResult(source.id)
                analyze("inbox_thread", "inbox_message", "inbox_customer")
            http[0] = 0.0
            with stats.Stopwatch() as fetching:
                page = xgateway.mentions(
                    source.brand.x_user_id, since_id=source.since_id, pagination_token=token
                )
            newest, token = newest or page.newest_id, page.next_token
            clock = common.SqlClock()
            with stats.Stopwatch() as ingesting, connection.execute_wrapper(clock):
                tweet_pages.ingest_page(source, page, result, advance_to=None if token else newest)
            pages.append(
                PageTiming(
                    tweets=len(page.tweets) + len(page.malformed),
                    http_ms=http[0] * 1000,
                    parse_ms=fetching.ms - http[0] * 1000,
                    ingest_ms=ingesting.ms,
                    ingest_cpu_ms=ingesting.cpu_ms,
                    ingest_sql_ms=clock.seconds * 1000,
                    queries=clock.count,
                )
            )
            if len(pages) % 100 == 0:
                common.log(f"  ingested {len(pages):,} pages")
            if token is None:
                break
    finally:
        session.request = send
    _add(totals, result)
    return pages, totals


def _add(totals: dict[str, int], result: PollResult) -> None:
    totals["ingested"] += result.ingested
    totals["skipped"] += result.skipped
    totals["quarantined"] += result.quarantined
    totals["new_threads"] += len(result.new_thread_ids)


def measured_drain(source: Source, sandbox: processes.Process) -> dict[str, Any]:
    """drain(), with wall time and the CPU of every process involved."""
    load = common.load_average()
    server = common.process_tree_cpu(sandbox.pid)
    backends, machine = common.backends_cpu(), common.machine_cpu()
    with stats.Stopwatch() as watch:
        pages, totals = drain(source)
    wall = watch.seconds
    cpu = {
        "poller": watch.cpu_seconds,
        "sandbox": common.process_tree_cpu(sandbox.pid) - server,
        "postgres": common.backends_cpu_since(backends),
        "machine": common.machine_cpu() - machine,
    }
    cpu["other"] = cpu["machine"] - cpu["poller"] - cpu["sandbox"] - cpu["postgres"]
    tweets = sum(page.tweets for page in pages)
    return {
        "tweets": tweets,
        "pages": len(pages),
        "wall_s": wall,
        "tweets_per_s": tweets / wall,
        "cpu_s": cpu,
        "load_average_before": load,
        **totals,
        "per_page": _per_page(pages),
    }


def _per_page(pages: list[PageTiming]) -> dict[str, object]:
    full = [p for p in pages if p.tweets == 100] or pages
    tenth = max(len(full) // 10, 1)
    fields = ("http_ms", "parse_ms", "ingest_ms", "ingest_cpu_ms", "ingest_sql_ms", "queries")
    per_field = {name: stats.summary([getattr(p, name) for p in full]) for name in fields}
    return {
        "full_pages": len(full),
        **per_field,
        "twelp_own_ms": stats.summary([p.parse_ms + p.ingest_ms for p in full]),
        "ingest_ms_first_10pct": stats.summary([p.ingest_ms for p in full[:tenth]]),
        "ingest_ms_last_10pct": stats.summary([p.ingest_ms for p in full[-tenth:]]),
        "pages": [asdict(p) for p in pages] if len(pages) <= 20 else [],
    }


# --- one size ----------------------------------------------------------------------------------


def attach_photos() -> int:
    """--media-lang: a photo of its own on one wanted tweet in MEDIA_EVERY."""
    from twelp.xsandbox import actions as x
    from twelp.xsandbox.models import Tweet
    from twelp.xsandbox.seed import brand_account

    brand = brand_account()
    wanted = Tweet.objects.filter(mention_rows__account=brand, retweeted_tweet_id__isnull=True)
    tweets = list(wanted.exclude(author=brand).distinct().order_by("id"))
    chosen = tweets[::MEDIA_EVERY]
    for n, tweet in enumerate(chosen):
        tweet.media = [x.photo(f"Photo {n} of the order", width=1024, height=768)]
    Tweet.objects.bulk_update(chosen, ["media"], batch_size=1000)
    return len(chosen)


@contextlib.contextmanager
def asking(mode: str) -> Iterator[None]:
    """ "plain": the gateway's tweet requests without media expansions and `lang`."""
    from twelp import xgateway

    if mode != "plain":
        yield
        return
    fields = [f for f in xgateway.TWEET_FIELDS if f not in ("lang", "attachments")]
    params = xgateway._tweet_params
    xgateway._tweet_params = lambda: {  # type: ignore[assignment]
        "tweet_fields": fields,
        "expansions": ["author_id"],
        "user_fields": xgateway.USER_FIELDS,
    }
    try:
        yield
    finally:
        xgateway._tweet_params = params


def run_size(
    size: int, args: argparse.Namespace, env: dict[str, str], mode: str = ""
) -> dict[str, object]:
    from django.db import connections

    from inbox.models import Brand, Message, Source, Thread

    common.log(f"== {size:,} tweets {mode}")
    common.fresh_database(args.database_url)
    common.flush_redis(args.redis_url)
    seed_sandbox(size)
    photos = attach_photos() if mode == "media+lang" else 0
    expected = expected_counts()
    brand = Brand.objects.create(
        name="Twelp Demo", handle=common.BRAND_HANDLE, x_user_id=common.BRAND_X_USER_ID
    )
    source_id = Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS).id
    analyze()
    with common.sandbox_server(args.port, env) as sandbox, asking(mode):
        common.log(f"  backlog: {expected['mentions']:,} mentions, 100 a page")
        source = Source.objects.select_related("brand").get(id=source_id)
        backlog = measured_drain(source, sandbox)
        messages, threads = Message.objects.count(), Thread.objects.count()
        backlog["checks"] = {
            "every wanted tweet is one message": messages
            == expected["wanted"]
            == backlog["ingested"],
            "one thread per conversation": threads == expected["conversations"],
            "retweets skipped": backlog["skipped"] == expected["mentions"] - expected["wanted"],
        }
        follow_ups = {}
        if args.follow_ups:
            common.log(f"  follow-ups: {args.follow_ups:,} customers write again")
            posted, reopening = post_follow_ups(args.follow_ups)
            source = Source.objects.select_related("brand").get(id=source_id)
            follow_ups = measured_drain(source, sandbox) | {"reopening": reopening}
            follow_ups["checks"] = {
                "every follow-up is one message": Message.objects.count() == messages + posted,
                "no thread created": Thread.objects.count() == threads,
                "answered threads reopened": not Thread.objects.filter(status="answered").exists(),
            }
    stored = Message.objects.exclude(media=[]).count() if mode else None
    with_lang = Message.objects.exclude(lang="").count()
    if mode == "media+lang":
        backlog["checks"]["every photo stored"] = stored == photos
        backlog["checks"]["every message's lang stored"] = with_lang == messages
    elif mode == "plain":
        backlog["checks"]["neither media nor lang asked"] = stored == with_lang == 0
    connections.close_all()
    if not args.keep_database:
        common.drop_database(args.database_url)
    return {
        "size": size,
        "mode": mode,
        "photos": photos,
        "messages_with_media": stored,
        **expected,
        "messages": messages,
        "threads": threads,
        "backlog": backlog,
        "follow_ups": follow_ups,
    }


# --- report ------------------------------------------------------------------------------------


def report(results: list[dict[str, object]]) -> None:
    print()
    print("## Ingest: sandbox -> queue, 100-tweet pages (ms: median / p95 per page)")
    head = (
        "| tweets in sandbox | phase | pages | tweets/s | HTTP (sandbox) | parse (Twelp) "
        "| ingest_page (Twelp) | in SQL | CPU in ingest_page | SQL stmts | Twelp own "
        "| CPU: poller / sandbox / PG / other |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for result in results:
        for phase in ("backlog", "follow_ups"):
            if result[phase]:
                label = " ".join(filter(None, [phase.replace("_", "-"), result["mode"]]))
                print(_row(result["size"], label, result[phase]))
    print()
    for result in results:
        backlog = result["backlog"]["per_page"]
        print(
            f"{result['size']:,} tweets {result['mode']}: {result['mentions']:,} mentions, "
            f"{result['wanted']:,} wanted ({result['photos']:,} with a photo) -> "
            f"{result['messages']:,} messages in {result['threads']:,} threads; "
            f"backlog ingest_page median, first 10% of pages "
            f"{backlog['ingest_ms_first_10pct']['median']:.1f} ms, last 10% "
            f"{backlog['ingest_ms_last_10pct']['median']:.1f} ms"
        )
        for phase in ("backlog", "follow_ups"):
            for name, ok in (result[phase] or {}).get("checks", {}).items():
                print(f"  {'ok  ' if ok else 'FAIL'} {phase}: {name}")


def _row(size: int, phase: str, run: dict) -> str:
    p, cpu, wall = run["per_page"], run["cpu_s"], run["wall_s"]

    def ms(name: str) -> str:
        return f"{p[name]['median']:.1f} / {p[name]['p95']:.1f}"

    shares = " / ".join(f"{cpu[k] / wall:.0%}" for k in ("poller", "sandbox", "postgres", "other"))
    return (
        f"| {size:,} | {phase} | {run['pages']:,} | {run['tweets_per_s']:,.0f} | {ms('http_ms')} "
        f"| {ms('parse_ms')} | {ms('ingest_ms')} | {ms('ingest_sql_ms')} | {ms('ingest_cpu_ms')} "
        f"| {p['queries']['median']:.0f} | {ms('twelp_own_ms')} | {shares} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--follow-ups", type=int, default=1000, help="Replies in existing threads, after."
    )
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_ingest"))
    parser.add_argument("--redis-url", default=common.redis_url(10), help="A db it may flush.")
    parser.add_argument("--json", help="Also write the results to this file.")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--media-lang",
        action="store_true",
        help="Each size without, then with, media expansions and lang (module docstring, 7).",
    )
    args = parser.parse_args()
    args.port = common.free_port()
    env = common.configure(args.database_url, args.redis_url, sandbox_port=args.port)
    common.setup_django()
    machine = common.machine()
    common.log(f"machine: {machine}")
    modes = ["plain", "media+lang"] if args.media_lang else [""]
    results = [run_size(size, args, env, mode) for size in args.sizes for mode in modes]
    report(results)
    common.write_json(args.json, {"machine": machine, "results": results})
    checks = [
        ok
        for r in results
        for phase in ("backlog", "follow_ups")
        for ok in (r[phase] or {}).get("checks", {}).values()
    ]
    if not all(checks):
        raise SystemExit("a check failed: see above")


if __name__ == "__main__":
    main()
