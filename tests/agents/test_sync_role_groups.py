"""manage.py sync_role_groups: groups for employees made without the actions."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command


def test_it_puts_each_employee_in_their_roles_group(agent, supervisor, deactivated, pending):
    out = StringIO()
    call_command("sync_role_groups", stdout=out)
    assert "Role groups set for 4 employees" in out.getvalue()
    assert [g.name for g in agent.user.groups.all()] == ["Agents"]
    assert [g.name for g in supervisor.user.groups.all()] == ["Supervisors"]
    assert not deactivated.user.groups.exists() and not pending.user.groups.exists()
