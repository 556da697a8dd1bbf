"""Builders for the employee tests."""

from __future__ import annotations

from typing import Any

from agents.models import Agent, AgentState
from inbox.models import Brand
from tests.helpers import PASSWORD


def registration(**changes: str) -> dict[str, str]:
    """A complete, valid self-registration form; its X handle must exist in the sandbox."""
    return {
        "employee_id": "E-5001",
        "name": "Jane Doe",
        "email": "jane.doe@acme.example",
        "x_handle": "janedoe_cares",
        "initials": "JD",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **changes,
    }


def pending_agent(brand: Brand, employee_id: str, initials: str = "JD", **fields: Any) -> Agent:
    from django.contrib.auth.models import User

    user = User.objects.create_user(employee_id, f"{employee_id.lower()}@acme.example", PASSWORD)
    return Agent.objects.create(
        user=user,
        brand=brand,
        employee_id=employee_id,
        name=fields.pop("name", f"Person {employee_id}"),
        x_handle=fields.pop("x_handle", f"h_{employee_id.lower().replace('-', '')}"),
        initials=initials,
        state=AgentState.PENDING,
        **fields,
    )
