"""The audit nobody can rewrite: the database refuses UPDATE and DELETE of an Event, no
deletion cascades into them, the admin shows them read-only, and the hash chain sealed
off the hot path says where it breaks."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from io import StringIO

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.db.utils import InternalError, ProgrammingError

from inbox import actions, events
from inbox.data import audit, erasure
from inbox.models import Brand, Event, Thread, Verb
from tests.helpers import login

REFUSED = (ProgrammingError, InternalError)  # insufficient_privilege from the trigger


def _raw_connection() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    )


@pytest.mark.django_db(transaction=True)
def test_it_refuses_update_and_delete_from_a_raw_sql_connection(thread, agent):
    actions.do_claim(thread.id, agent=agent)
    event = Event.objects.get(thread=thread, verb=Verb.CLAIMED)
    with _raw_connection() as raw:
        for sql in (
            "UPDATE inbox_event SET verb = 'released' WHERE id = %s",
            "UPDATE inbox_event SET detail = '{}' WHERE id = %s",
            "DELETE FROM inbox_event WHERE id = %s",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                raw.execute(sql, [event.id])
        # The erasure's setting lets only `detail` through, never the rest of the row.
        raw.execute("BEGIN")
        raw.execute("SELECT set_config('twelp.erasure', 'on', true)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            raw.execute("UPDATE inbox_event SET actor_id = NULL WHERE id = %s", [event.id])
        raw.execute("ROLLBACK")
    event.refresh_from_db()
    assert event.verb == Verb.CLAIMED and event.actor_id == agent.id


def _psql(sql: str, **variables: int) -> subprocess.CompletedProcess[str]:
    """`sql` typed into the psql shell (`:name` is a variable), as the app's database
    user, stopping at the first error."""
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", db["HOST"] or "127.0.0.1"]
    command += ["-p", str(db["PORT"] or 5432), "-U", db["USER"], "-d", db["NAME"]]
    command += [f"--set={name}={value}" for name, value in variables.items()]
    return subprocess.run(  # noqa: S603
        command, input=sql, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(shutil.which("psql") is None, reason="needs PostgreSQL's psql client")
@pytest.mark.django_db(transaction=True)  # psql is another session: it sees committed rows
def test_a_sql_shell_cannot_update_or_delete_an_event_but_erasure_anonymises(
    thread, agent, brand, customer
):
    events.record(Verb.TAGGED, thread=thread, actor=agent, tag="kim's vip")
    _sealed(brand)
    event = Event.objects.get(thread=thread, verb=Verb.TAGGED)
    for sql in (
        "UPDATE inbox_event SET verb = 'closed' WHERE id = :event;",
        "UPDATE inbox_event SET detail = '{}' WHERE id = :event;",
        "DELETE FROM inbox_event WHERE id = :event;",
        "DELETE FROM inbox_event WHERE brand_id = :brand;",
    ):
        shell = _psql(sql, event=event.id, brand=brand.id)
        assert shell.returncode != 0, sql
        assert f"inbox_event is append-only: {sql.split()[0]} of event" in shell.stderr
    # Even with the erasure's setting on, only `detail` may change, never the rest.
    shell = _psql(
        "BEGIN; SELECT set_config('twelp.erasure', 'on', true);"
        " UPDATE inbox_event SET actor_id = NULL, detail = '{}' WHERE id = :event; COMMIT;",
        event=event.id,
    )
    assert shell.returncode != 0 and "append-only" in shell.stderr
    event.refresh_from_db()
    assert (event.verb, event.actor_id) == (Verb.TAGGED, agent.id)
    assert event.detail == {"tag": "kim's vip"}
    # The erasure path's anonymisation goes through the same trigger, and still verifies.
    erasure.erase(brand, customer.handle, actor=agent)
    event.refresh_from_db()
    assert event.detail == {"erased": "customer"} and event.actor_id == agent.id
    assert audit.verify(brand).ok and Event.objects.filter(id=event.id).exists()


def test_deleting_a_thread_or_brand_with_events_is_refused(thread, agent):
    actions.do_claim(thread.id, agent=agent)
    with pytest.raises(ProtectedError), transaction.atomic():
        Thread.objects.filter(id=thread.id).delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        Brand.objects.filter(id=thread.brand_id).delete()
    assert Event.objects.filter(thread=thread).count() == 1


def test_a_thread_without_events_may_still_be_deleted(thread):
    Thread.objects.filter(id=thread.id).delete()
    assert not Thread.objects.filter(id=thread.id).exists()


def test_the_admin_shows_events_read_only(client, thread, agent, django_user_model):
    actions.do_claim(thread.id, agent=agent)
    event = Event.objects.get(thread=thread)
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-1")
    login(client, root)
    page = client.get(f"/django-admin/inbox/event/{event.id}/change/")
    assert page.status_code == 200
    assert b'name="verb"' not in page.content  # no input: shown, not editable
    assert client.get(f"/django-admin/inbox/event/{event.id}/delete/").status_code == 403
    assert client.get("/django-admin/inbox/event/add/").status_code == 403
    answer = client.post(
        "/django-admin/inbox/event/", {"action": "delete_selected", "_selected_action": [event.id]}
    )
    assert answer.status_code == 200 and Event.objects.filter(id=event.id).exists()


def _sealed(brand: Brand) -> audit.Report:
    while events.seal():
        pass
    return audit.verify(brand)


def _bypass_trigger():
    """What only the table's owner can do (and the chain exists to reveal)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks: ALTER may run
        cursor.execute("ALTER TABLE inbox_event DISABLE TRIGGER inbox_event_append_only")


def test_sealing_chains_each_brand_in_id_order_and_verifies(thread, agent, brand):
    actions.do_claim(thread.id, agent=agent)
    actions.do_release(thread.id, agent=agent)
    actions.do_claim(thread.id, agent=agent)
    other = Brand.objects.create(name="Other", handle="other", x_user_id=9_000_002)
    events.record(Verb.BRAND_SETTINGS_CHANGED, brand_id=other.id, timezone="UTC")
    report = _sealed(brand)
    rows = list(Event.objects.filter(brand=brand).order_by("id"))
    assert [e.seal_seq for e in rows] == [1, 2, 3]
    assert report.ok and report.sealed == 3 and report.unsealed == 0
    assert report.head == rows[-1].seal
    assert Event.objects.get(brand=other).seal_seq == 1  # its own chain
    assert events.seal() == 0  # nothing left: sealing twice changes nothing


def test_sealed_rows_cannot_be_sealed_again(thread, agent):
    actions.do_claim(thread.id, agent=agent)
    events.seal()
    with pytest.raises(REFUSED), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE inbox_event SET seal_seq = 9, seal = 'x'")


def test_verify_says_which_row_was_changed_and_where_rows_were_deleted(thread, agent, brand):
    for _ in range(3):
        actions.do_claim(thread.id, agent=agent)
        actions.do_release(thread.id, agent=agent)
    _sealed(brand)
    rows = list(Event.objects.filter(brand=brand).order_by("seal_seq"))
    _bypass_trigger()
    Event.objects.filter(id=rows[1].id).update(verb=Verb.CLOSED)
    Event.objects.filter(id=rows[3].id).update(detail={"holder": 999})
    Event.objects.filter(id=rows[4].id).delete()
    report = audit.verify(brand)
    assert report.breaks == [
        f"event {rows[1].id} (seal_seq 2): changed since sealed",
        f"event {rows[3].id} (seal_seq 4): detail changed since sealed",
        f"seal_seq 5..5 missing before event {rows[5].id}: rows were deleted",
    ]
    out = StringIO()
    with pytest.raises(CommandError, match="broken in 3 place"):
        call_command("verify_audit", stdout=out)
    assert f"BROKEN: event {rows[1].id} (seal_seq 2)" in out.getvalue()


def test_an_erased_detail_still_verifies(thread, agent, brand):
    events.record(Verb.TAGGED, thread=thread, actor=agent, tag="vip")
    _sealed(brand)
    with transaction.atomic():
        assert events.erase_details([thread.id]) == 1
    event = Event.objects.get(thread=thread)
    assert event.detail == {"erased": "customer"}
    report = audit.verify(brand)
    assert report.ok and report.erased == 1
    out = StringIO()
    call_command("verify_audit", "--brand", brand.handle, stdout=out)
    assert "The audit chain verifies." in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_erase_details_outside_a_transaction_is_refused(thread):
    with pytest.raises(RuntimeError):
        events.erase_details([thread.id])


@pytest.mark.django_db(transaction=True)
def test_claim_send_and_close_proceed_while_sealing_holds_its_transaction(thread, agent):
    """Sealing locks Event rows only: a claim, a reply and a close do not wait for it."""
    actions.do_claim(thread.id, agent=agent)
    actions.do_release(thread.id, agent=agent)
    updated, release = threading.Event(), threading.Event()

    def hold_after_update(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("UPDATE inbox_event"):
            updated.set()
            release.wait(60)
        return result

    def sealer() -> None:
        try:
            with connection.execute_wrapper(hold_after_update):
                events.seal()
        finally:
            connection.close()

    worker = threading.Thread(target=sealer)
    worker.start()
    try:
        assert updated.wait(60), "the sealer never reached its UPDATE"
        with connection.cursor() as cursor:  # a wait on the sealer's locks fails, not hangs
            cursor.execute("SET lock_timeout = '20s'")
        actions.do_claim(thread.id, agent=agent)
        actions.do_send_reply(thread.id, agent=agent, text="On its way!")
        actions.do_close(thread.id, agent=agent)
        assert Event.objects.filter(thread=thread, seal_seq__isnull=True).count() == 5
    finally:
        release.set()
        worker.join(60)
    thread.refresh_from_db()
    assert thread.status == "closed"
    assert Event.objects.filter(thread=thread, seal_seq__isnull=False).count() == 2
