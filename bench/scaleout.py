"""Issue 14: scale-out on this machine. Two web processes (gunicorn, WSGI) and two push
processes (uvicorn, ASGI, the same project) behind nginx (Debian's package) configured
from the shipped deploy/nginx/twelp.conf, a change made through one web replica, and what
the other replicas show of it.

    python -m bench.scaleout [--json FILE] [--keep-database]

What it does, and prints:
1. Routing: /healthz and /push/healthz through the balancer, a few times each, and which
   process answered (nginx adds the upstream's address in a header, in this run's config
   only), so /push/ is seen to reach only the push processes, the rest only web.
2. Logs in as an employee through the balancer and opens the queue page.
3. Server-sent events: opens the queue page's stream (the URL twelp.js opens: the body's
   data-push-url + "events/?" + the live part's data-push) through the balancer on each
   push process (the stream is one long connection, so nginx pins it to the process it
   reached), and reads each stream's first message, the queue as it stands, and its id,
   BEFORE any change. Runs only when the stream URL answers 200 text/event-stream;
   otherwise it says PENDING and shows nothing in its place.
4. Claims the next thread directly on the OTHER web replica's port (not the one that
   served the page), then shows the change reaching: the queue's live refresh served by
   the first web replica (204 before, 200 after), and each open stream: the first `live`
   message whose id is at or past the claim's change id (read from the change log) and
   whose queue no longer lists the thread, with the delay from sending the claim and from
   Redis logging the change.
5. PostgreSQL connections of the four processes at the end (each has a pool of
   DB_POOL_MAX connections, so the count is bounded by processes x pool, not requests).

It needs nginx (`apt-get install nginx`); it does not touch the system's nginx (its own
config, pid file and logs live in a temporary folder, on a port of its own).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import common
from tests import processes

SHIPPED_CONF = common.ROOT / "deploy" / "nginx" / "twelp.conf"
UPSTREAM_HEADER = "X-Twelp-Upstream"
POOL_MAX = 4  # each process's DB_POOL_MAX
PASSWORD = "bench-password"  # bench.queue.create_agents sets it
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_HEADER = re.compile(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'')
LIVE_URL = re.compile(r'<div id="live" hx-get="([^"]+)"')
DATA_PUSH = re.compile(r'data-push="([^"]+)"')
PUSH_URL = re.compile(r'data-push-url="([^"]+)"')


# --- the processes -----------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


def _wait_until(name: str, process: subprocess.Popen, log_path: Path, check: Any) -> None:
    import httpx

    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} did not start:\n{log_path.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if check():
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not answer in 90 s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)


@contextlib.contextmanager
def app_process(name: str, command: list[str], port: int, env: dict[str, str]) -> Iterator[Process]:
    """A Twelp process (gunicorn or uvicorn) on 127.0.0.1:port, until it answers HTTP."""
    import httpx

    log_path = Path(tempfile.mkstemp(prefix=f"bench-scaleout-{name}-", suffix=".log")[1])
    started = processes.start(command, env={**os.environ, **env}, name=name, log_path=log_path)
    process = started.popen
    try:
        # Any answer below 500 means Django is up (/push/healthz is a 404 before the push
        # process is merged; it is still the push process that answers).
        url = f"http://127.0.0.1:{port}/push/healthz"
        _wait_until(name, process, log_path, lambda: httpx.get(url, timeout=20).status_code < 500)
        common.log(f"{name}: pid {process.pid} on 127.0.0.1:{port}")
        yield Process(name, port, process, log_path)
    finally:
        started.stop()
        log_path.unlink(missing_ok=True)


def gunicorn_command(port: int) -> list[str]:
    """As the Dockerfile runs web, one worker (so the pid is the one that serves)."""
    return [
        sys.executable, "-m", "gunicorn", "twelp.wsgi:application",
        "-b", f"127.0.0.1:{port}", "--workers", "1", "--threads", str(POOL_MAX),
        "--keep-alive", common.KEEP_ALIVE, "--no-control-socket",
    ]  # fmt: skip


def uvicorn_command(port: int) -> list[str]:
    """As docker-compose.yml and deploy/k8s run push."""
    return [
        sys.executable, "-m", "uvicorn", "twelp.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--lifespan", "off",
        "--timeout-graceful-shutdown", "5", "--no-access-log",
    ]  # fmt: skip


def nginx_config(
    folder: Path, port: int, web: list[Process], push: list[Process], connections: int = 1024
) -> Path:
    """The shipped server config, with this run's upstreams and port, plus a header naming
    the upstream that answered; wrapped in a main config whose files all live in `folder`."""
    shipped = SHIPPED_CONF.read_text()
    site = shipped.replace(
        "server web:8000;", "\n    ".join(f"server {p.address};" for p in web)
    ).replace("server push:8002;", "\n    ".join(f"server {p.address};" for p in push))
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace(
        "server_name _;", f"server_name _;\n    add_header {UPSTREAM_HEADER} $upstream_addr always;"
    )
    if site.count("127.0.0.1:") != len(web) + len(push) + 1 or UPSTREAM_HEADER not in site:
        raise SystemExit(f"{SHIPPED_CONF} changed shape: the harness cannot place its upstreams")
    (folder / "twelp.conf").write_text(site)
    temp = {k: folder / k for k in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    main = f"""
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {folder}/twelp.conf;
}}
"""
    path = folder / "nginx.conf"
    path.write_text(main)
    return path


@contextlib.contextmanager
def nginx(
    port: int, web: list[Process], push: list[Process], connections: int = 1024
) -> Iterator[Process]:
    import httpx

    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise SystemExit("nginx is not installed: apt-get install nginx (Debian's package)")
    folder = Path(tempfile.mkdtemp(prefix="bench-scaleout-nginx-"))
    config = nginx_config(folder, port, web, push, connections)
    test = subprocess.run(
        [binary, "-t", "-p", str(folder), "-c", str(config)], capture_output=True, text=True
    )
    if test.returncode != 0:
        raise SystemExit(f"nginx -t refused the config:\n{test.stderr}")
    log_path = folder / "stdout.log"
    command = [binary, "-p", str(folder), "-c", str(config)]
    started = processes.start(command, env=dict(os.environ), name="nginx", log_path=log_path)
    process = started.popen
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        _wait_until("nginx", process, folder / "error.log", lambda: httpx.get(url, timeout=5))
        common.log(f"nginx: pid {process.pid} on 127.0.0.1:{port}, config in {folder}")
        yield Process("nginx", port, process, log_path)
    finally:
        started.stop()
        shutil.rmtree(folder, ignore_errors=True)


# --- the browser's side ------------------------------------------------------------------------


@dataclass
class Stream:
    """One server-sent-events stream, read on a thread of its own."""

    served_by: str
    status: int
    events: queue.Queue = field(default_factory=queue.Queue)
    stop: threading.Event = field(default_factory=threading.Event)


def open_stream(client: Any, url: str, names: dict[str, str]) -> Stream | None:
    """GET the stream through the balancer; None unless it answers 200 text/event-stream."""
    ready: queue.Queue = queue.Queue()

    def read() -> None:
        try:
            with client.stream("GET", url, headers={"Accept": "text/event-stream"}) as response:
                kind = response.headers.get("content-type", "")
                served = names.get(response.headers.get(UPSTREAM_HEADER, ""), "?")
                stream = Stream(served, response.status_code)
                ready.put(stream if response.status_code == 200 else None)
                if response.status_code != 200 or not kind.startswith("text/event-stream"):
                    return
                event: list[str] = []
                for line in response.iter_lines():
                    if stream.stop.is_set():
                        return
                    if line.startswith(":"):
                        continue  # a comment: the stream's keep-alive, not an event
                    if line:
                        event.append(line)
                    elif event:
                        stream.events.put((time.monotonic(), "\n".join(event)))
                        event = []
        except Exception as error:  # the stream's end (closed at teardown) or a refusal
            ready.put(None) if ready.empty() else None
            common.log(f"stream ended: {type(error).__name__}")

    threading.Thread(target=read, daemon=True).start()
    try:
        return ready.get(timeout=15)
    except queue.Empty:
        return None


def next_live(stream: Stream, deadline: float) -> tuple[float, str, str] | None:
    """The stream's next `live` message before `deadline` (monotonic): (when it arrived,
    its id, its HTML); None if none came."""
    while (left := deadline - time.monotonic()) > 0:
        try:
            at, text = stream.events.get(timeout=left)
        except queue.Empty:
            return None
        lines = text.split("\n")
        if lines[0] != "event: live":
            continue
        message_id = next((x[4:] for x in lines if x.startswith("id: ")), "")
        body = "\n".join(x[6:] for x in lines if x.startswith("data: "))
        return at, message_id, body
    return None


def wall_ms(monotonic: float) -> float:
    """A time.monotonic() reading as wall-clock ms (the clock Redis stamps ids with)."""
    return (time.time() - (time.monotonic() - monotonic)) * 1000


def _id(value: str | None) -> tuple[int, int]:
    ms, _, seq = (value or "0-0").partition("-")
    return (int(ms), int(seq or 0)) if ms.isdigit() and seq.isdigit() else (0, 0)


def newest_change(redis_url: str, brand_id: int) -> tuple[str, float]:
    """The brand's newest change id (the change just made) and when Redis logged it (ms)."""
    import redis

    from inbox.live import version

    found = redis.Redis.from_url(redis_url).xrevrange(version.changes_key(brand_id), count=1)
    change_id = found[0][0].decode() if found else "0-0"
    return change_id, float(_id(change_id)[0])


def served_by(response: Any, names: dict[str, str]) -> str:
    return names.get(response.headers.get(UPSTREAM_HEADER, ""), "?")


def run(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    db_url = args.database_url
    env = common.configure(db_url, args.redis_url)
    env["DJANGO_SETTINGS_MODULE"] = os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    env["DB_POOL_MAX"] = str(POOL_MAX)
    env["DB_POOL_MIN"] = "1"
    common.setup_django()
    common.flush_redis(args.redis_url)
    common.fresh_database(db_url)
    from django.db import connections

    from bench.queue import create_agents, seed
    from inbox.models import Brand, Source

    brand = Brand.objects.create(
        name="Twelp Demo", handle=common.BRAND_HANDLE, x_user_id=common.BRAND_X_USER_ID
    )
    source = Source.objects.create(brand=brand, kind=Source.Kind.MENTIONS)
    agents = create_agents(brand, 2)
    seed(30, brand, source, agents)
    connections.close_all()
    username = agents[0].user.username

    result: dict[str, Any] = {"machine": common.machine(), "routing": [], "pending": []}
    ports = common.free_ports(5)
    with contextlib.ExitStack() as stack:
        web = [
            stack.enter_context(app_process(f"web{n}", gunicorn_command(p), p, env))
            for n, p in ((1, ports[0]), (2, ports[1]))
        ]
        push = [
            stack.enter_context(app_process(f"push{n}", uvicorn_command(p), p, env))
            for n, p in ((1, ports[2]), (2, ports[3]))
        ]
        balancer = stack.enter_context(nginx(ports[4], web, push))
        names = {p.address: p.name for p in [*web, *push]}
        pids = {p.name: p.process.pid for p in [*web, *push, balancer]}
        result["processes"] = {
            name: {"pid": pids[name], "port": p.port} for name, p in zip(
                [p.name for p in [*web, *push, balancer]], [*web, *push, balancer], strict=True
            )
        }  # fmt: skip
        base = f"http://127.0.0.1:{balancer.port}"
        client = stack.enter_context(httpx.Client(base_url=base, timeout=30))

        # 1. Routing.
        for path in ("/healthz", "/push/healthz") * 3:
            response = client.get(path)
            by = served_by(response, names)
            result["routing"].append(
                {"path": path, "status": response.status_code, "served_by": by}
            )
        push_ok = all(r["status"] == 200 for r in result["routing"] if r["path"] == "/push/healthz")
        if not push_ok:
            result["pending"].append("/push/healthz does not answer 200 yet (push not merged)")

        # 2. Log in through the balancer, open the queue.
        login_form = client.get("/login/")
        csrf = CSRF_INPUT.search(login_form.text).group(1)
        login = client.post(
            "/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{base}/login/"},
        )
        if login.status_code != 302 or login.headers["location"] != "/":
            raise SystemExit(f"login through the balancer failed: {login.status_code}")
        page = client.get("/")
        page_by = served_by(page, names)
        result["login"] = {"user": username, "served_by": served_by(login, names)}
        result["queue_page"] = {"status": page.status_code, "served_by": page_by}
        csrf = (CSRF_HEADER.search(page.text) or CSRF_INPUT.search(page.text)).group(1)
        live_url = html.unescape(LIVE_URL.search(page.text).group(1))

        # 3. Streams, one per push process if they exist: the URL the page's script opens
        # (twelp.js: body[data-push-url] + "events/?" + the live part's data-push).
        found, base_url = DATA_PUSH.search(page.text), PUSH_URL.search(page.text)
        events_url = (
            f"{html.unescape(base_url.group(1))}events/?{html.unescape(found.group(1))}"
            if found and base_url
            else args.events_path
        )
        result["events_url"] = events_url
        streams: dict[str, Stream] = {}
        for _ in range(6):
            stream = open_stream(client, events_url, names)
            if stream is None:
                break
            if stream.served_by in streams:
                stream.stop.set()
                continue
            streams[stream.served_by] = stream
            if len(streams) == len(push):
                break
        if not streams:
            probe = client.get(events_url, headers={"Accept": "text/event-stream"}, timeout=5)
            result["pending"].append(
                f"SSE: {events_url} answers {probe.status_code} "
                f"({probe.headers.get('content-type', '')}), served by "
                f"{served_by(probe, names)}: the stream check is PENDING until the push "
                "process is merged"
            )
        # Each stream's first message is the queue as it stands: read it (and its id)
        # before making the change, so no delivery below can be that initial state.
        initial: dict[str, dict[str, Any]] = {}
        for name, stream in streams.items():
            first_live = next_live(stream, time.monotonic() + 10)
            if first_live is None:
                initial[name] = {"id": None, "html": ""}
                result["pending"].append(f"{name}: no initial state within 10 s")
            else:
                initial[name] = {"id": first_live[1], "html": first_live[2]}

        # 4. The change, through the other web replica; what the first one shows of it.
        first = next((p for p in web if p.name == page_by), web[0])
        other = next(p for p in web if p is not first)
        direct = {p.name: f"http://127.0.0.1:{p.port}" for p in web}
        headers = {"HX-Request": "true", "HX-Target": "live", "HX-Trigger": "live"}
        before = client.get(f"{direct[first.name]}{live_url}", headers=headers)
        t0 = time.monotonic()
        claim = client.post(
            f"{direct[other.name]}/claim-next/",
            data={"csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{base}/", "X-CSRFToken": csrf},
        )
        where = claim.headers.get("location", "")
        thread_id = int(where.strip("/").split("/")[-1]) if where.startswith("/t/") else None
        after = client.get(f"{direct[first.name]}{live_url}", headers=headers)
        result["change"] = {
            "action": "POST /claim-next/",
            "made_on": other.name,
            "status": claim.status_code,
            "thread": thread_id,
        }
        result["poll_on_the_other_replica"] = {
            "served_by": first.name,
            "before": before.status_code,
            "after": after.status_code,
            # The open queue lists the thread until it is claimed.
            "listed_before": f'data-thread-id="{thread_id}"' in page.text,
            "listed_after": f'data-thread-id="{thread_id}"' in after.text,
        }
        change_id, change_at = newest_change(args.redis_url, brand.id)
        result["change"]["change_id"] = change_id
        row = f'data-thread-id="{thread_id}"'
        delivered: dict[str, Any] = {}
        for name, stream in streams.items():
            # The first `live` message at or past the change's id whose queue no longer
            # lists the claimed thread (the initial state listed it), within 5 s.
            deadline, others = t0 + 5, 0
            start = initial[name]
            while (found_live := next_live(stream, deadline)) is not None:
                at, message_id, body = found_live
                if _id(message_id) >= _id(change_id) and row not in body:
                    delivered[name] = {
                        "ms": round((at - t0) * 1000, 1),
                        "ms_after_logged": round(wall_ms(at) - change_at, 1),
                        "initial_id": start["id"],
                        "initial_listed_it": row in start["html"],
                        "id": message_id,
                        "others_before": others,
                    }
                    break
                others += 1
            if name not in delivered:
                delivered[name] = {
                    "ms": None,
                    "initial_id": start["id"],
                    "event": f"not within 5 s ({others} other live messages)",
                }
            stream.stop.set()
        result["streams"] = delivered
        if streams and len(streams) < len(push):
            result["pending"].append(f"streams reached only {sorted(streams)} in 6 tries")

        # 5. Connections to the database, while all four processes are up.
        import psycopg

        with psycopg.connect(db_url) as conn:
            result["db_connections"] = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        result["db_connections_bound"] = 4 * POOL_MAX
    routing = result["routing"]
    poll = result["poll_on_the_other_replica"]
    result["checks"] = {
        "web URLs reach only web": all(
            r["served_by"].startswith("web") for r in routing if r["path"] == "/healthz"
        ),
        "/push/ reaches only push": all(
            r["served_by"].startswith("push") for r in routing if r["path"] != "/healthz"
        ),
        "both replicas of each served": {r["served_by"] for r in routing} == set(names.values()),
        "change on one web replica seen by the other": (
            poll["before"] == 204
            and poll["after"] == 200
            and poll["listed_before"]
            and not poll["listed_after"]
        ),
        # None (pending, not passed) while there is no stream to open.
        "every stream got the change within 5 s": (
            all(d["ms"] is not None for d in result["streams"].values())
            if result["streams"]
            else None
        ),
        "connections within the pools' bound": (
            result["db_connections"] <= result["db_connections_bound"]
        ),
    }
    if not args.keep_database:
        connections.close_all()
        common.drop_database(db_url)
    return result


def report(r: dict[str, Any]) -> None:
    processes = ", ".join(f"{n} pid {p['pid']} :{p['port']}" for n, p in r["processes"].items())
    print()
    print("Issue 14: scale-out, two web (gunicorn) + two push (uvicorn) behind nginx")
    print(f"  processes: {processes}")
    print("  routing through the balancer:")
    for row in r["routing"]:
        print(f"    GET {row['path']:<14} {row['status']}  served by {row['served_by']}")
    login, page = r["login"], r["queue_page"]
    print(f"  login as {login['user']}: served by {login['served_by']}")
    print(f"  queue page: served by {page['served_by']}")
    c, poll = r["change"], r["poll_on_the_other_replica"]
    made = f"{c['action']} on {c['made_on']}'s own port"
    print(f"  change: {made} -> {c['status']}, thread {c['thread']}")
    print(
        f"  live refresh on {poll['served_by']}: {poll['before']} before the change, "
        f"{poll['after']} after; thread {c['thread']} in the open queue: "
        f"{poll['listed_before']} on the page before, {poll['listed_after']} after"
    )
    print(f"  the claim's change id: {c.get('change_id')}; stream URL {r.get('events_url')}")
    for name, d in r["streams"].items():
        if d["ms"] is None:
            print(f"  SSE stream on {name}: initial id {d['initial_id']}; {d['event']}")
            continue
        print(
            f"  SSE stream on {name}: initial state id {d['initial_id']} (listed the thread:"
            f" {d['initial_listed_it']}); the change arrived {d['ms']} ms after the claim was"
            f" sent ({d['ms_after_logged']} ms after Redis logged it), id {d['id']},"
            f" {d['others_before']} live messages before it"
        )
    for line in r["pending"]:
        print(f"  PENDING: {line}")
    for check, ok in r["checks"].items():
        print(f"  {'PEND' if ok is None else 'ok  ' if ok else 'FAIL'} {check}")
    bound = r["db_connections_bound"]
    print(
        f"  PostgreSQL connections of the 4 processes: {r['db_connections']} "
        f"(bound: 4 processes x DB_POOL_MAX {POOL_MAX} = {bound})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=common.database_url("twelp_bench_scaleout"))
    parser.add_argument("--redis-url", default=common.redis_url(14), help="A db it may flush.")
    parser.add_argument(
        "--events-path",
        default="/push/events/",
        help="The stream URL when the queue page names none (sse-connect).",
    )
    parser.add_argument("--json", help="Write the findings to this file.")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()
    result = run(args)
    report(result)
    common.write_json(args.json, {"results": [result]})
    if any(ok is False for ok in result["checks"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
