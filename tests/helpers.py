"""Builders the tests share (fixtures in conftest.py use them too)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from agents.models import Agent, AgentState, Role
from inbox.models import Brand, Customer, Message, Thread

PASSWORD = "correct horse battery staple"


def make_agent(
    brand: Brand,
    username: str,
    *,
    role: str = Role.AGENT,
    state: str = AgentState.ACTIVE,
    code: str | None = None,
) -> Agent:
    user = User.objects.create_user(
        username, f"{username}@acme.example", PASSWORD, first_name=username.title()
    )
    initials = username[:2].upper()
    return Agent.objects.create(
        user=user,
        brand=brand,
        employee_id=f"E-{username}",
        name=username.title(),
        x_handle=f"{username}_x",
        initials=initials,
        credit_code=code if code is not None else (initials if state != "pending" else ""),
        role=role,
        state=state,
        approved_at=None if state == AgentState.PENDING else timezone.now(),
    )


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def make_thread(brand: Brand, customer: Customer, conversation_id: int, **fields: object) -> Thread:
    return Thread.objects.create(
        brand=brand, customer=customer, conversation_id=conversation_id, **fields
    )


def make_thread_with_message(
    brand: Brand,
    customer: Customer,
    text: str,
    *,
    conversation_id: int = 100,
    preview: str = "",
) -> Thread:
    """A thread as the poller leaves it: the customer's first tweet (its id is the
    conversation's) as its one message."""
    thread = make_thread(brand, customer, conversation_id, preview=preview)
    Message.objects.create(
        brand=brand,
        thread=thread,
        x_id=conversation_id,
        direction="in",
        author_x_id=customer.x_user_id,
        text=text,
        conversation_id=conversation_id,
        sent_at=timezone.now(),
    )
    return thread


def clear_run_keys() -> None:
    """Empty this run's cache keys and Celery queue. Never cache.clear(): that is FLUSHDB,
    which would empty every other run's keys and queued tasks on the same Redis db."""
    from django.conf import settings
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    client.delete(settings.CELERY_TASK_DEFAULT_QUEUE, *keys)


def forget_run_queue() -> None:
    """Remove the bindings kombu keeps for this run's queue (once the run is over)."""
    from django.conf import settings
    from django.core.cache import cache

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    client = cache._cache.get_client(write=True)
    client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a Twelp subprocess that must use this test's database."""
    import os
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    host = quote(str(db["HOST"]), safe="") if str(db["HOST"]).startswith("/") else db["HOST"]
    url = f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    drop = {"DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, "DATABASE_URL": url, "DEBUG": "true", "PYTHONUNBUFFERED": "1", **extra}


def second_factor_code(user: User) -> str | None:
    """A fresh one-use recovery code of `user` when they must pass the second factor
    (agents.twofactor: supervisors and admins by default, or anyone enrolled), enrolling
    them first (a confirmed TOTP device, as the setup page leaves it); else None."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from agents import twofactor

    agent = Agent.objects.filter(user=user, state=AgentState.ACTIVE).first()
    if agent is None or not twofactor.must_verify(agent):
        return None
    if not agent.two_factor:
        TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        Agent.objects.filter(id=agent.id).update(two_factor=True)
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    code = StaticToken.random_token()
    StaticToken.objects.create(device=device, token=code)
    return code


def pass_second_factor(client: Client, user: User) -> None:
    """What a person does after the password: the code, posted to the verify page, checked
    by django-otp (match_token), the session marked by its `login`. Never a setting that
    turns two-factor off."""
    code = second_factor_code(user)
    if code is None:
        return
    client.get("/2fa/")  # the CSRF cookie, as the page gives it
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    response = client.post("/2fa/", {"token": code, "csrfmiddlewaretoken": token})
    assert response.status_code == 302, f"the second factor of {user} did not pass"


def broker_redis():
    """The Celery broker's Redis as a plain redis-py client. The broker URL may be kombu's
    `redis+socket://` (the embedded server, as on a laptop), which redis-py cannot read;
    tests.settings puts the broker on the cache's server and database, whose URL it can."""
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])


def run_at_once(jobs: list) -> tuple[list[object], set[int]]:
    """Each job in a thread of its own with its own database connection, opened before
    a barrier every job waits at, so all run at once over real concurrent connections.
    Their results (an exception raised is the result) and the PostgreSQL backends used."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)
    backends: set[int] = set()

    def run(index: int, job) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backends.add(cursor.fetchone()[0])
            barrier.wait()
            results[index] = job()
        except BaseException as error:  # the caller asserts on it
            results[index] = error
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results, backends


def claim_until_done(agent: Agent) -> list[int]:
    """What an agent working the queue gets: claim next until the queue has nothing for
    them or they hold their cap (claim next then refuses with AtCapacity: an agent who
    fills up early is the queue working, not a failure). The ids claimed, in order."""
    from inbox import actions
    from inbox.routing import capacity

    claimed: list[int] = []
    try:
        while (thread := actions.do_claim_next(agent=agent)) is not None:
            claimed.append(thread.id)
    except capacity.AtCapacity:
        assert len(claimed) >= capacity.cap(agent), "refused under the cap"
    return claimed
