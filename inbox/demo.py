"""Demo data: one brand account, three agents, a supervisor and an admin. Idempotent.

Each employee has their own X account in the sandbox, which seeds them (`manage.py
xsandbox_seed --json` prints their ids; `manage.py demo` passes them here), and the brand a
relay hashtag (inbox.ingest.relay): as @janedoe_cares on the sandbox page, answer a customer with
#twelpdemohelp and the brand reposts the answer credited ^JD.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from agents.models import Agent, AgentState, Role
from agents.roles import set_role_group
from inbox.models import Brand, Source
from inbox.training import training_brand_for

DEMO_PASSWORD = "twelp-demo"  # noqa: S105 - printed by `manage.py demo`; demo data only
RELAY_HASHTAG = "twelpdemohelp"


@dataclass(frozen=True)
class Persona:
    username: str
    name: str
    employee_id: str
    x_handle: str
    initials: str
    credit_code: str
    role: str
    training: bool = False  # starts in training mode (inbox.training)


PERSONAS = [
    # A new employee practising on simulated customers before going live.
    Persona("tina", "Tina Tran", "E-1004", "tina_learns", "TT", "TT", Role.AGENT, training=True),
    Persona("jane", "Jane Doe", "E-1001", "janedoe_cares", "JD", "JD", Role.AGENT),
    # Same initials as Jane: the second JD is credited ^JD2, so 700 people stay distinct.
    Persona("john", "John Dunn", "E-1002", "johndunn_help", "JD", "JD2", Role.AGENT),
    Persona("maria", "María García", "E-1003", "maria_g_helps", "MG", "MG", Role.AGENT),
    Persona("sam", "Sam Supervisor", "E-2001", "sam_leads", "SS", "SS", Role.SUPERVISOR),
    Persona("alex", "Alex Admin", "E-3001", "alex_admin", "AA", "AA", Role.ADMIN),
]


# X's DM read limit is 15 per 15 minutes per user (GET /2/dm_events).
DM_POLL_INTERVAL = timedelta(seconds=60)
# Demo data only: the TOTP keys of the demo's supervisor and admin, who must pass two-factor
# (agents.twofactor). `manage.py demo` prints them (base32, for an authenticator app) with
# two fresh one-use recovery codes each, so the tour works with or without a phone.
DEMO_TOTP_KEYS = {
    "sam": "5477656c7064656d6f2d73616d2d746f74702d31",  # noqa: S105 - demo data only
    "alex": "5477656c7064656d6f2d616c65782d746f74702d",  # noqa: S105 - demo data only
}


def demo_second_factor(username: str, *, codes: int = 2) -> tuple[str, list[str]]:
    """Enrol the demo persona (once) with its demo key; (base32 key, fresh recovery codes)."""
    import base64

    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = User.objects.get(username=username)
    key = DEMO_TOTP_KEYS[username]
    TOTPDevice.objects.get_or_create(
        user=user, name="Demo authenticator", defaults={"key": key, "confirmed": True}
    )
    Agent.objects.filter(user=user).update(two_factor=True)
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    fresh = [StaticToken.random_token() for _ in range(codes)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in fresh)
    return base64.b32encode(bytes.fromhex(key)).decode(), fresh


def listening_query() -> str:
    return f"{settings.XSANDBOX_BRAND_USERNAME} -is:retweet"


def brand_x_user_id() -> int:
    """X access tokens start with their user's id ("<id>-<secret>"): the brand's, here."""
    return int(settings.X_ACCESS_TOKEN.partition("-")[0])


@transaction.atomic
def load_demo_data(x_user_ids: Mapping[str, int] | None = None) -> Brand:
    """`x_user_ids`: the employees' X accounts, {handle: id}, as the sandbox seeded them; an
    agent already linked keeps its id, one with none in the mapping stays unlinked."""
    x_user_ids = x_user_ids or {}
    brand, _ = Brand.objects.update_or_create(
        handle=settings.XSANDBOX_BRAND_USERNAME,
        defaults={"name": settings.XSANDBOX_BRAND_NAME, "x_user_id": brand_x_user_id()},
    )
    Source.objects.get_or_create(brand=brand, kind=Source.Kind.MENTIONS, query="")
    # X lets a user read DM events 15 times per 15 minutes: one poll a minute fits.
    Source.objects.get_or_create(
        brand=brand, kind=Source.Kind.DMS, query="", defaults={"poll_interval": DM_POLL_INTERVAL}
    )
    # A listening query (admins manage it under Admin -> Sources): the brand's name without
    # the @, for tweets that talk about the brand without tagging it.
    Source.objects.get_or_create(brand=brand, kind=Source.Kind.SEARCH, query=listening_query())
    _, first_time = Source.objects.get_or_create(brand=brand, kind=Source.Kind.RELAY, query="")
    if first_time and not brand.relay_hashtag:  # later, an admin's choice (even none) stays
        brand.relay_hashtag = RELAY_HASHTAG
        brand.save(update_fields=["relay_hashtag"])
    admin = None
    for persona in reversed(PERSONAS):  # the admin first: it approves the others
        home = training_brand_for(brand) if persona.training else brand
        x_user_id = x_user_ids.get(persona.x_handle)
        admin = _ensure_agent(home, persona, x_user_id=x_user_id, approved_by=admin)
    return brand


def _ensure_agent(
    brand: Brand, persona: Persona, *, x_user_id: int | None, approved_by: Agent | None
) -> Agent:
    first, _, last = persona.name.partition(" ")
    user, created = User.objects.get_or_create(
        username=persona.username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{persona.username}@twelp.example",
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    agent, _ = Agent.objects.get_or_create(
        user=user,
        defaults={
            "brand": brand,
            "employee_id": persona.employee_id,
            "name": persona.name,
            "x_handle": persona.x_handle,
            "x_user_id": x_user_id,
            "initials": persona.initials,
            "credit_code": persona.credit_code,
            "role": persona.role,
            "state": AgentState.ACTIVE,
            "approved_by": approved_by,
            "approved_at": timezone.now(),
        },
    )
    if agent.x_user_id is None and x_user_id is not None:  # from before they had X accounts
        agent.x_user_id = x_user_id
        agent.save(update_fields=["x_user_id"])
    set_role_group(user, persona.role)  # the Django groups and permissions of the role
    if persona.role == Role.ADMIN and not user.is_superuser:
        # The README sends admins to the Django admin (sources, quarantine): let alex in.
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    return agent
