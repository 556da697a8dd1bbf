"""Roles as Django groups: each role is one group holding that role's permissions.

`Agent.role` is the source of truth; the groups mirror it (set by agents.actions on
approval, role change, deactivation and reactivation) so Django's own permission API
(`user.has_perm("agents.supervise")`, `{{ perms.agents.manage_agents }}`, the admin)
tells the same story as `agents.access.role_required`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from agents.models import Agent, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_AGENT = ("work_queue",)
_SUPERVISOR = (*_AGENT, "supervise", "approve_agents")
_ADMIN = (*_SUPERVISOR, "manage_agents", "manage_brand")

# Each role can do everything the role before it can, and more.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.AGENT: _AGENT,
    Role.SUPERVISOR: _SUPERVISOR,
    Role.ADMIN: _ADMIN,
}
ROLE_GROUPS: dict[str, str] = {
    Role.AGENT: "Agents",
    Role.SUPERVISOR: "Supervisors",
    Role.ADMIN: "Admins",
}


def ensure_role_groups(**_: object) -> dict[str, Group]:
    """Create or repair the three groups and their permissions. Idempotent.

    Runs on post_migrate (after a migrate, and after a test flush), so the groups exist
    wherever the tables do.
    """
    content_type = ContentType.objects.get_for_model(Agent)
    groups = {}
    for role, codenames in ROLE_PERMISSIONS.items():
        permissions = []
        for codename in codenames:
            name = dict(Agent._meta.permissions)[codename]
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": name}
            )
            permissions.append(permission)
        group, _ = Group.objects.get_or_create(name=ROLE_GROUPS[role])
        group.permissions.set(permissions)
        groups[role] = group
    return groups


def set_role_group(user: User, role: str | None) -> None:
    """`user` is in `role`'s group and no other role group; None takes them out of all."""
    user.groups.remove(*Group.objects.filter(name__in=ROLE_GROUPS.values()))
    if role is not None:
        group = Group.objects.filter(name=ROLE_GROUPS[role]).first()
        if group is None:  # a database the post_migrate hook has not seen yet
            group = ensure_role_groups()[role]
        user.groups.add(group)
