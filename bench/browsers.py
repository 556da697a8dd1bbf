"""Real Chromium pages on the queue during a benchmark (bench.day --browsers N), in a
process of their own so the driver's event loop never waits for them.

    python -m bench.browsers --url http://127.0.0.1:8000 --users agent21,agent22,agent23 \
        --password bench-password --out pages.json

Each user gets a browser context of its own (its own cookies) in one Chromium
(/usr/bin/chromium, as tests/chromium.py launches it), logs in through the real login form
and sits on the queue (`/`) with twelp.js's stream open. Nothing is sent to this process
while it runs: the pages record for themselves, in the page, with an init script that
wraps EventSource before twelp.js runs:

- `applied`: [when (ms, the machine's clock), event id] for each `live` or `patch`
  message, taken just after twelp.js's own handler has put it on the page (a patch that
  did not apply, so that the page reconnects, is not counted);
- `seen`: {thread id: when its row (`#live [data-thread-id]`) was first on the page}, read
  after each such message.

It prints `ready <n>` once every page shows the queue live (`html[data-push=live]`), then
waits for a line on stdin (or its end; `row <thread id>` first waits until every page
shows that row and prints `shown <id>`); it then reads what each page recorded, writes
it to --out as JSON ({"pages": [{"user", "applied", "seen", "live_at"}], "errors": [...]})
and exits. The driver (bench.day) times them against the brand's change log.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Runs in every page before its own scripts: wraps EventSource so that each `live` and
# `patch` handler twelp.js adds is followed by a note of the id it applied and the rows
# then on the page.
RECORDER = """
(function () {
  var rec = window.__twelpBench = { applied: [], seen: {} };
  var Original = window.EventSource;
  if (!Original) return;
  function note() {
    var now = Date.now();
    document.querySelectorAll("#live [data-thread-id]").forEach(function (el) {
      var id = el.getAttribute("data-thread-id");
      if (!(id in rec.seen)) rec.seen[id] = now;
    });
    return now;
  }
  function Recorded(url, options) {
    var source = new Original(url, options);
    var add = source.addEventListener.bind(source);
    source.addEventListener = function (type, handler, more) {
      if (type === "live" || type === "patch") {
        var inner = handler;
        handler = function (event) {
          var out = inner.apply(this, arguments);
          if (source.readyState !== Original.CLOSED) {
            rec.applied.push([note(), event.lastEventId]);
          }
          return out;
        };
      }
      return add(type, handler, more);
    };
    return source;
  }
  Recorded.prototype = Original.prototype;
  Recorded.CONNECTING = 0;
  Recorded.OPEN = 1;
  Recorded.CLOSED = 2;
  window.EventSource = Recorded;
})();
"""


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] browsers: {text}", file=sys.stderr, flush=True)


def log_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    page.goto("/")
    if "/login/" in page.url:
        raise RuntimeError("the login was refused (a 403 from the CSRF check: its Origin?)")
    page.locator("html[data-push=live]").wait_for(timeout=60_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="Where the pages are served (web or nginx).")
    parser.add_argument("--users", required=True, help="Comma-separated usernames, one page each.")
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", required=True, help="Where to write what the pages recorded.")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    users = [u for u in args.users.split(",") if u]
    result: dict[str, list] = {"pages": [], "errors": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        say("Chromium started")
        pages = []
        for user in users:
            context = browser.new_context(base_url=args.url)
            context.set_default_timeout(60_000)
            context.add_init_script(RECORDER)
            page = context.new_page()
            try:
                log_in(page, user, args.password)
                pages.append((user, page, time.time() * 1000))
                say(f"{user} on the queue, live")
            except Exception as error:  # a page that never went live is reported, not fatal
                result["errors"].append(f"{user}: {type(error).__name__}: {error}"[:300])
        print(f"ready {len(pages)}", flush=True)
        for line in sys.stdin:  # until the driver's "stop" (or the end of stdin)
            words = line.split()
            if words[:1] != ["row"] or not words[1:2] or not words[1].isdigit():
                break
            # "row <thread id>" (for the tests): wait until every page shows that row.
            for _, page, _ in pages:
                page.locator(f'#live [data-thread-id="{words[1]}"]').wait_for(timeout=15_000)
            print(f"shown {words[1]}", flush=True)
        for user, page, live_at in pages:
            try:
                found = page.evaluate("window.__twelpBench")
            except Exception as error:
                result["errors"].append(f"{user}: {type(error).__name__}: {error}"[:300])
                continue
            result["pages"].append({"user": user, "live_at": live_at, **found})
        browser.close()
    with open(args.out, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
