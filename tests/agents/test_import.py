"""Importing employees from a CSV file: a preview with every row's problems, then all rows
or none (never half an import)."""

from __future__ import annotations

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from agents.models import Agent, AgentState, Role
from inbox.models import Event
from tests.agents.conftest import x_user
from tests.agents.helpers import pending_agent

HEADER = "employee_id,name,email,x_handle,initials,role\n"
GOOD = (
    HEADER
    + "E-8001,Jane Doe,jane@acme.example,jane_x,JD,\n"
    + "E-8002,John Dunn,john@acme.example,@john_x,jd,supervisor\n"
    + "E-8003,María García,maria@acme.example,maria_x,MG,agent\n"
)


def upload(client, text: str, **extra: str):
    csv_file = SimpleUploadedFile("team.csv", text.encode(), content_type="text/csv")
    return client.post("/team/import/", {"file": csv_file, **extra})


def test_it_previews_then_imports_every_row(
    client, admin_agent, x, django_capture_on_commit_callbacks
):
    for handle in ("jane_x", "john_x", "maria_x"):
        x_user(handle)
    client.force_login(admin_agent.user)
    response = upload(client, GOOD)
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.ok and [row.errors for row in preview.rows] == [[], [], []]
    assert not Agent.objects.filter(employee_id__startswith="E-8").exists()  # a preview only

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/team/import/", {"csv_text": response.context["csv_text"], "import": ""}
        )
    assert response.status_code == 302 and response["Location"] == "/team/"
    added = Agent.objects.filter(employee_id__startswith="E-8").order_by("employee_id")
    assert [(a.name, a.credit_code, a.role, a.state) for a in added] == [
        ("Jane Doe", "JD", Role.AGENT, AgentState.ACTIVE),
        ("John Dunn", "JD2", Role.SUPERVISOR, AgentState.ACTIVE),
        ("María García", "MG", Role.AGENT, AgentState.ACTIVE),
    ]
    assert all(a.x_user_id for a in added)
    assert Event.objects.filter(verb="agent_added", detail__via="csv").count() == 3
    assert len(mail.outbox) == 3


def test_it_reports_each_bad_row_and_imports_nothing(client, admin_agent, agent, x):
    x_user("jane_x")
    x_user("dup_x")
    text = (
        HEADER
        + "E-8001,Jane Doe,jane@acme.example,jane_x,JD,\n"  # good
        + "bad id!,No Id,noid@acme.example,noid_x,NI,\n"  # employee id format
        + "E-8003,Bad Mail,not-an-email,badmail_x,BM,\n"  # e-mail
        + "E-8004,Taken Id,taken@acme.example,taken_x,TI,\n".replace("E-8004", agent.employee_id)
        + "E-8005,Ghost,ghost@acme.example,ghost_x,GH,\n"  # X has no such user
        + "E-8006,Dup One,dup@acme.example,dup_x,DO,\n"
        + "E-8007,Dup Two,DUP@acme.example,other_x,DT,\n"  # same e-mail as the row before
        + "E-8008,Bad Role,role@acme.example,role_x,BR,boss\n"
    )
    client.force_login(admin_agent.user)
    response = upload(client, text)
    preview = response.context["preview"]
    assert not preview.ok
    errors = {row.line: " ".join(row.errors) for row in preview.rows}
    assert errors[2] == ""
    assert "not an employee id" in errors[3]
    assert "valid email" in errors[4]
    assert f"Employee id {agent.employee_id} is already registered" in errors[5]
    assert "X has no user @ghost_x" in errors[6]
    assert "also on line 7" in errors[8]
    assert "boss is not one of the available choices" in errors[9]
    body = response.content.decode()
    assert "Nothing will be imported until every row is right" in body
    assert 'name="import"' not in body

    # Posting "import" anyway (an old tab, a crafted request) imports nothing either.
    client.post("/team/import/", {"csv_text": text, "import": ""})
    assert not Agent.objects.filter(employee_id__in=["E-8001", "E-8006"]).exists()


def test_it_imports_nothing_when_a_row_was_taken_since_the_preview(client, admin_agent, x):
    for handle in ("jane_x", "john_x", "maria_x"):
        x_user(handle)
    client.force_login(admin_agent.user)
    upload(client, GOOD)
    # Between preview and import, John registers himself with his own id.
    pending_agent(admin_agent.brand, "E-8002", x_handle="someone_else")
    response = client.post("/team/import/", {"csv_text": GOOD, "import": ""})
    assert response.status_code == 200
    row = next(r for r in response.context["preview"].rows if r.line == 3)
    assert "Employee id E-8002 is already registered" in " ".join(row.errors)
    assert not Agent.objects.filter(employee_id__in=["E-8001", "E-8003"]).exists()


def test_all_or_nothing_holds_inside_the_action_too(admin_agent, x):
    """A duplicate the preview could not see (a race) rolls back the rows before it."""
    from agents import actions

    first = actions.NewEmployee("E-8001", "Jane Doe", "jane@acme.example", "jane_x", 11, "JD")
    clash = actions.NewEmployee("E-8001", "Jane Again", "j2@acme.example", "jane2_x", 12, "JA")
    try:
        actions.do_import_employees(admin_agent.brand, [first, clash], actor=admin_agent)
    except actions.DuplicateEmployee as error:
        assert "Row 2: Employee id E-8001 is already registered" in str(error)
    else:
        raise AssertionError("the duplicate row was imported")
    assert not Agent.objects.filter(employee_id="E-8001").exists()
    assert not Event.objects.filter(verb="agent_added").exists()


def test_it_explains_a_file_it_cannot_read(client, admin_agent):
    client.force_login(admin_agent.user)
    response = upload(client, "id,name\n1,x\n")
    assert (
        "The header row lacks: employee_id, email, x_handle, initials" in response.content.decode()
    )
    response = upload(client, HEADER)
    assert "no employees in it" in response.content.decode()
    bad_bytes = SimpleUploadedFile("team.csv", "é".encode("latin-1"), content_type="text/csv")
    response = client.post("/team/import/", {"file": bad_bytes})
    assert "Save the file as UTF-8" in response.content.decode()
    response = client.post("/team/import/", {})
    assert "Choose a CSV file" in response.content.decode()


def test_only_admins_import(client, supervisor):
    client.force_login(supervisor.user)
    assert upload(client, GOOD).status_code == 403
