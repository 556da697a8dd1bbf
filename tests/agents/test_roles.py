"""Roles: agent, supervisor, admin; Django groups mirror them; admins change them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from agents import actions, roles
from agents.access import ADMINS, ANY_EMPLOYEE, SUPERVISORS
from agents.models import Role
from inbox.models import Event
from tests.agents.helpers import pending_agent


def test_the_groups_exist_with_each_roles_permissions(db):
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ROLE_GROUPS.values())}
    assert set(groups) == {"Agents", "Supervisors", "Admins"}
    perms = {
        name: set(g.permissions.values_list("codename", flat=True)) for name, g in groups.items()
    }
    assert perms["Agents"] == {"work_queue"}
    assert perms["Supervisors"] == {"work_queue", "supervise", "approve_agents"}
    assert perms["Admins"] == perms["Supervisors"] | {"manage_agents", "manage_brand"}


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.ADMIN])
def test_the_decorators_roles_and_the_groups_permissions_agree(admin_agent, role):
    person = pending_agent(admin_agent.brand, "E-0001")
    person.role = role
    person.save()
    actions.do_approve([person.id], actor=admin_agent)
    user = type(person.user).objects.get(id=person.user_id)  # a fresh permission cache
    assert user.has_perm("agents.work_queue") == (role in ANY_EMPLOYEE)
    assert user.has_perm("agents.supervise") == (role in SUPERVISORS)
    assert user.has_perm("agents.approve_agents") == (role in SUPERVISORS)
    assert user.has_perm("agents.manage_agents") == (role in ADMINS)


def test_an_admin_changes_a_role(client, admin_agent, agent):
    client.force_login(admin_agent.user)
    response = client.post(f"/team/{agent.id}/role/", {"role": "supervisor"}, follow=True)
    assert "is now supervisor" in response.content.decode()
    agent.refresh_from_db()
    assert agent.role == Role.SUPERVISOR
    assert list(agent.user.groups.values_list("name", flat=True)) == ["Supervisors"]
    event = Event.objects.get(verb="agent_role_changed")
    assert (
        event.detail.items()
        >= {"before": "agent", "after": "supervisor", "agent": agent.id}.items()
    )
    client.force_login(agent.user)
    assert client.get("/team/").status_code == 200


def test_it_refuses_a_bad_role_and_changing_ones_own(client, admin_agent, agent):
    client.force_login(admin_agent.user)
    response = client.post(f"/team/{agent.id}/role/", {"role": "overlord"}, follow=True)
    assert "Pick agent, supervisor or admin" in response.content.decode()
    response = client.post(f"/team/{admin_agent.id}/role/", {"role": "agent"}, follow=True)
    assert "You cannot change your own role" in response.content.decode()
    admin_agent.refresh_from_db()
    agent.refresh_from_db()
    assert (admin_agent.role, agent.role) == (Role.ADMIN, Role.AGENT)


def test_supervisors_may_not_change_roles(client, supervisor, agent):
    client.force_login(supervisor.user)
    assert client.post(f"/team/{agent.id}/role/", {"role": "admin"}).status_code == 403
    agent.refresh_from_db()
    assert agent.role == Role.AGENT
