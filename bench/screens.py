"""`python -m bench.screens`: screenshots of every page, at 1440x900 and 390x844, from a
fresh demo, so a reviewer can look at the product as its users see it.

1. Start `manage.py demo` on free ports with its own embedded PostgreSQL and Redis in a
   temporary var/ (nothing shared with a running demo), and wait for its login page.
2. Fill the sandbox (`xsandbox_simulate --count 40 --seed 1`, the README's step 6) and
   wait until the pollers brought the tweets into the queue.
3. In Chromium (tests/chromium.py's binary), log in as each demo persona and open their
   pages; Jane claims a thread, writes a note mentioning John and sends a reply first, so
   the thread page shows a conversation, a reply and the reply box.
4. Save viewport screenshots as <out>/<page>-<width>x<height>.png (default var/screens/)
   and print their paths; stop the demo (its group and its embedded servers).

`--base-url` uses a demo already running instead (its data as it is; nothing is started).
`--language es-ES` browses in Spanish (issue 21): <page>-es-ES-<width>x<height>.png.
"""

from __future__ import annotations

import argparse
import ast
import os
import signal
import socket
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django_otp.oath import totp

from tests import processes
from tests.chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
SIZES = ((1440, 900), (390, 844))
PASSWORD = "twelp-demo"  # inbox.demo.DEMO_PASSWORD

# (file name, persona or None for anonymous, path): "{thread}" is the thread Jane holds,
# "{answered}" the one she answered (a note, a reply).
PAGES = (
    ("login", None, "/login/"),
    ("register", None, "/register/"),
    ("stream", None, "/stream/"),
    ("queue", "jane", "/"),
    ("queue-mine", "jane", "/?status=mine"),
    ("thread", "jane", "/t/{thread}/"),
    ("profile-me", "john", "/team/me/"),
    ("notifications", "john", "/notifications/"),  # issue 21: Jane's note mentions him
    ("proposals", "jane", "/proposals/"),
    ("not-found", "jane", "/t/999999/"),
    ("forbidden", "jane", "/team/"),
    ("queue-supervisor", "sam", "/"),
    ("dashboard", "sam", "/sup/"),
    ("team", "sam", "/team/"),
    ("training", "sam", "/team/training/"),
    ("noise", "sam", "/noise/"),
    ("audit", "sam", "/sup/audit/"),
    ("timeline", "sam", "/sup/t/{answered}/"),
    ("proposals-pending", "sam", "/sup/proposals/"),
    ("brand", "alex", "/brand/"),
    ("canned", "alex", "/canned/"),
    ("add-employee", "alex", "/team/add/"),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (our own local demo)
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def start_demo(var: Path, log: Path) -> tuple[processes.Process, str, dict[str, str]]:
    port, sandbox_port, push_port = free_port(), free_port(), free_port()
    drop = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(TWELP_VAR_DIR=str(var), DEBUG="true", PYTHONUNBUFFERED="1")
    command = [sys.executable, str(ROOT / "manage.py"), "demo", "--port", str(port)]
    command += ["--sandbox-port", str(sandbox_port), "--push-port", str(push_port)]
    demo = processes.start(command, env=env, name="demo", log_path=log, death_signal=signal.SIGTERM)
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/login/")
    wait_for(f"http://127.0.0.1:{sandbox_port}/")
    sandbox_env = env | {"XSANDBOX_URL": f"http://127.0.0.1:{sandbox_port}"}
    simulate = [sys.executable, str(ROOT / "manage.py"), "xsandbox_simulate", "--count", "40"]
    done = processes.run([*simulate, "--seed", "1"], env=sandbox_env, timeout=300)
    if done.returncode:
        raise SystemExit(f"xsandbox_simulate failed ({done.returncode}); see the demo's log")
    return demo, base, env


def log_in(context, base: str, username: str):
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    if "/2fa/" in page.url:  # sam and alex pass two-factor: their demo key's current code
        code = f"{totp(bytes.fromhex(_demo_totp_keys()[username])):06d}"
        page.locator("input[name=token]").fill(code)
        page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{base}/")
    return page


def _demo_totp_keys() -> dict[str, str]:
    """inbox.demo.DEMO_TOTP_KEYS, read from its source (Django is not set up here)."""
    tree = ast.parse((ROOT / "inbox" / "demo.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DEMO_TOTP_KEYS":
            return ast.literal_eval(node.value)
    raise SystemExit("inbox/demo.py has no DEMO_TOTP_KEYS")


def prepare_threads(browser, base: str) -> dict[str, int]:
    """Jane claims the next thread, notes something for John and replies: the thread page
    then shows a note, a reply on its way and the reply box."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = log_in(context, base, "jane")
    deadline = time.monotonic() + 120
    while not page.locator("#rows tr[data-thread-id]").count():
        if time.monotonic() > deadline:
            raise SystemExit("No thread reached the queue within 120 s (is beat polling?)")
        time.sleep(2)
        page.reload()
    page.get_by_role("button", name="Claim next").click()
    page.wait_for_url("**/t/*/")
    answered = int(page.url.rstrip("/").rsplit("/", 1)[1])
    note = page.locator(".note-form textarea")
    note.fill("@JD2 can you check this customer's order history?")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_load_state()
    box = page.locator("#reply-form textarea[name=text]")
    box.fill(box.input_value() + "thanks for writing in, we're looking at it now.")
    page.locator("#reply-form button[data-key='mod+Enter']").click()
    page.wait_for_timeout(2000)
    # Claim a second thread and keep it: the reply box shows on the screenshot.
    page.goto(f"{base}/")
    page.get_by_role("button", name="Claim next").click()
    page.wait_for_url("**/t/*/")
    held = int(page.url.rstrip("/").rsplit("/", 1)[1])
    context.close()
    return {"thread": held, "answered": answered}


def shoot(browser, base: str, out: Path, threads: dict[str, int], language: str = "") -> list[Path]:
    saved = []
    for width, height in SIZES:
        contexts: dict[str | None, object] = {}
        for name, persona, path in PAGES:
            if persona not in contexts:
                contexts[persona] = _context(browser, base, persona, (width, height), language)
            page = contexts[persona].new_page()
            page.goto(base + path.format(**threads))
            page.wait_for_load_state("networkidle")
            size = f"{language}-{width}x{height}" if language else f"{width}x{height}"
            file = out / f"{name}-{size}.png"
            page.screenshot(path=str(file))
            saved.append(file)
            page.close()
        for context in contexts.values():
            context.close()
    return saved


def _context(browser, base: str, persona: str | None, size: tuple[int, int], language: str):
    """A browser logged in as `persona` (the login page read in English), then asking for
    `language` (Accept-Language, issue 21) when one is given."""
    viewport = {"width": size[0], "height": size[1]}
    context = browser.new_context(viewport=viewport)
    if persona is not None:
        log_in(context, base, persona).close()
    if not language:
        return context
    state = context.storage_state()
    context.close()
    return browser.new_context(viewport=viewport, locale=language, storage_state=state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "var" / "screens"))
    parser.add_argument("--base-url", default="", help="a running demo (nothing is started)")
    parser.add_argument("--language", default="", help="e.g. es-ES: the pages in Spanish")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    demo = None
    with tempfile.TemporaryDirectory(prefix="twelp-screens-") as tmp:
        try:
            if args.base_url:
                base = args.base_url.rstrip("/")
            else:
                print("Starting the demo (embedded PostgreSQL and Redis, a fresh var/)...")
                demo, base, env = start_demo(Path(tmp) / "var", Path(tmp) / "demo.log")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                threads = prepare_threads(browser, base)
                saved = shoot(browser, base, out, threads, args.language)
                browser.close()
        finally:
            if demo is not None:
                demo.stop(grace=30)
                from twelp import embedded

                embedded.stop(Path(tmp) / "var")
    print(f"{len(saved)} screenshots ({len(PAGES)} pages x {len(SIZES)} sizes) in {out}:")
    for file in saved:
        print(f"  {file}")


if __name__ == "__main__":
    main()
