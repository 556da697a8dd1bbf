"""`python manage.py demo`: everything Twelp needs, in one supervised group.

1. Start the embedded PostgreSQL and Redis if no DATABASE_URL / REDIS_URL is set.
2. Migrate; migrate and seed the X sandbox with its own settings, through its own commands
   run as subprocesses (Twelp never imports the sandbox, whose app is not installed here);
   load the demo data, linking each employee to the X account the seed reported; print the
   logins and the URL to open. Seeding before the group starts, not over HTTP once the
   sandbox answers, keeps the start in order: no polling for its health, and the logins
   work from the moment the web server does.
3. Run web (gunicorn), push (uvicorn: the pages' live streams, at --push-port, allowed
   for the web's origin), Celery worker, Celery beat and the X sandbox under honcho, which
   prefixes each line with its process name, starts each child in its own process group,
   and on Ctrl-C / SIGTERM (or when any child dies) stops every group: SIGTERM, then
   SIGKILL after a grace period.
4. Stop the embedded servers this run started, so nothing is left behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from honcho.manager import Manager

from inbox.demo import DEMO_PASSWORD, DEMO_TOTP_KEYS, PERSONAS, demo_second_factor, load_demo_data
from twelp import embedded

SANDBOX_SETTINGS = "twelp.xsandbox.settings"  # the sandbox's own process and commands


class Command(BaseCommand):
    help = "Run Twelp with its demo data: web, push, worker, beat and the X sandbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8001)
        parser.add_argument("--push-port", type=int, default=8002)

    def handle(
        self,
        *args: object,
        host: str,
        port: int,
        sandbox_port: int,
        push_port: int,
        **options: object,
    ):
        started = embedded.ensure_running(
            settings.VAR_DIR, postgres=settings.EMBEDDED_POSTGRES, redis=settings.EMBEDDED_REDIS
        )
        try:
            call_command("migrate", interactive=False, verbosity=0)
            brand = load_demo_data(seed_sandbox())
            self._print_welcome(brand, host, port, sandbox_port)
            manager = Manager()
            env = (
                self._child_env(sandbox_port)
                | self._push_env(host, port, push_port)
                | self._site_env(host, port)
            )
            for name, command in self._processes(host, port, sandbox_port, push_port):
                manager.add_process(name, command, env=env)
            manager.loop()
        finally:
            if started["postgres"] or started["redis"]:
                embedded.stop(settings.VAR_DIR)
        sys.exit(manager.returncode or 0)

    def _processes(
        self, host: str, port: int, sandbox_port: int, push_port: int
    ) -> list[tuple[str, str]]:
        python = sys.executable
        beat_schedule = settings.VAR_DIR / "celerybeat-schedule"
        processes = [
            (
                "web",
                f"{python} -m gunicorn twelp.wsgi:application -b {host}:{port} "
                "--workers 2 --threads 4 --no-control-socket --access-logfile -",
            ),
            (
                "push",
                f"{python} -m uvicorn twelp.asgi:application --host {host} --port {push_port} "
                "--no-access-log",
            ),
            ("worker", f"{python} -m celery -A twelp worker -l info --concurrency 2"),
            ("beat", f"{python} -m celery -A twelp beat -l info -s {beat_schedule}"),
        ]
        processes.append(
            (
                "sandbox",
                f"env DJANGO_SETTINGS_MODULE={SANDBOX_SETTINGS} {python} -m "
                f"gunicorn twelp.xsandbox.wsgi:application -b {host}:{sandbox_port} "
                "--workers 1 --threads 4 --no-control-socket",
            )
        )
        return processes

    def _child_env(self, sandbox_port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("DEBUG", "true" if settings.DEBUG else "false")
        env.setdefault("TWELP_VAR_DIR", str(settings.VAR_DIR))
        env.setdefault("X_API_BASE_URL", f"http://127.0.0.1:{sandbox_port}")
        env.setdefault("XSANDBOX_URL", f"http://127.0.0.1:{sandbox_port}")
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _site_env(self, host: str, port: int) -> dict[str, str]:
        """Links Twelp writes (the e-mailed "set your password" link) point at --port."""
        return {"SITE_URL": os.environ.get("SITE_URL", f"http://{host}:{port}")}

    def _push_env(self, host: str, port: int, push_port: int) -> dict[str, str]:
        """Pages from the web (port) open their stream at the push process (push_port)."""
        return {
            "PUSH_URL": os.environ.get("PUSH_URL", f"http://{host}:{push_port}/push/"),
            "PUSH_ALLOWED_ORIGINS": os.environ.get("PUSH_ALLOWED_ORIGINS", f"http://{host}:{port}"),
        }

    def _print_welcome(self, brand: object, host: str, port: int, sandbox_port: int) -> None:
        width = max(len(p.username) for p in PERSONAS)
        lines = [
            "",
            f"Twelp is starting for {brand}.",
            f"  Open      http://{host}:{port}/",
            f"  Tweet at the brand as a customer: http://{host}:{sandbox_port}/",
            f"  Logins (password for all: {DEMO_PASSWORD})",
        ]
        lines += [
            f"    {p.username:<{width}}  {p.name} — {p.role}, credit ^{p.credit_code}"
            + (" (in training: practises on simulated customers)" if p.training else "")
            for p in PERSONAS
        ]
        lines.append("  Two-factor (supervisors and admins must pass it after the password):")
        for username in DEMO_TOTP_KEYS:
            key, codes = demo_second_factor(username)
            lines.append(
                f"    {username:<{width}}  authenticator key {key}, or a one-use code: "
                + " ".join(codes)
            )
        if settings.SSO_ENABLED:  # agents.sso, against the sandbox's stand-in provider
            lines.append(
                "  Or Sign in with your company account (the sandbox's stand-in provider): "
                "Nina Newhire (E-1005) is a new hire, not in Twelp yet."
            )
        lines += ["  Stop with Ctrl-C.", ""]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()


def seed_sandbox() -> dict[str, int]:
    """Migrate the sandbox's tables and seed its world (`manage.py xsandbox_seed --json`)
    in a process with the sandbox's settings; the demo employees' X ids, {handle: id}."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SANDBOX_SETTINGS}
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    _run([*manage, "migrate", "--no-input", "--verbosity", "0"], env)
    world = json.loads(_run([*manage, "xsandbox_seed", "--json"], env))
    return {handle: int(user_id) for handle, user_id in world["employees"].items()}


def _run(command: list[str], env: dict[str, str]) -> str:
    # Safe: our own manage.py, an argument list (no shell), no outside input.
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)  # noqa: S603
    if done.returncode != 0:  # the traceback's last line is the reason, e.g. a missing setting
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise CommandError(f"The X sandbox's `{command[2]}` failed: {reason}")
    return done.stdout
