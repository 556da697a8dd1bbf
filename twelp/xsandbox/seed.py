"""The sandbox's starting world: the app whose keys Twelp uses, the brand, a few customers.

Idempotent: run it on every start. The app and the brand take their credentials from the
same settings Twelp's gateway reads (X_BEARER_TOKEN, X_CONSUMER_KEY, ...), so the two
processes agree without any copying; an existing row is updated to match them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from twelp.xsandbox import actions
from twelp.xsandbox.models import Account, App

PERSONAS = [
    {
        "username": "maya_rivera",
        "name": "Maya Rivera",
        "description": "Runner, coffee, too many gadgets.",
        "location": "Austin, TX",
        "followers_count": 812,
    },
    {
        "username": "tomasz_k",
        "name": "Tomasz Kowalski",
        "description": "Backend dev. Opinions are my cat's.",
        "location": "Kraków",
        "followers_count": 230,
    },
    {
        "username": "aiko_tanaka",
        "name": "田中 愛子",
        "description": "カメラと旅行 📷",
        "location": "Osaka",
        "followers_count": 1540,
    },
    {
        "username": "devon_b",
        "name": "Devon Brooks",
        "description": "Dad of three. Fixes things, sometimes.",
        "followers_count": 97,
        "verified": True,
    },
]
# The demo employees' own X accounts (inbox.demo links its agents to them by these ids): as
# one of them, a person answers a customer with the brand's relay hashtag (inbox.ingest.relay).
EMPLOYEES = {
    "janedoe_cares": ("Jane Doe", 1500000000000001001),
    "johndunn_help": ("John Dunn", 1500000000000001002),
    "maria_g_helps": ("María García", 1500000000000001003),
    "tina_learns": ("Tina Tran", 1500000000000001004),
    "sam_leads": ("Sam Supervisor", 1500000000000001005),
    "alex_admin": ("Alex Admin", 1500000000000001006),
}
# Who may receive the brand's DMs before writing to it (X's rule, Account.accepts_dms_from):
# Devon follows the brand, Aiko accepts DMs from anyone; Maya and Tomasz neither.
FOLLOW_THE_BRAND = {"devon_b"}
OPEN_DMS = {"aiko_tanaka"}


@dataclass(frozen=True)
class World:
    app: App
    brand: Account
    customers: list[Account]


def seed() -> World:
    """Create or update the app, the brand and the personas; return them."""
    with transaction.atomic():
        app = ensure_app()
        brand = ensure_brand()
        ensure_training_brand()
        customers = [ensure_customer(**persona) for persona in PERSONAS]
        for username, (name, user_id) in EMPLOYEES.items():
            ensure_customer(username, name, access_token=f"{user_id}-demo-employee-token")
        for customer in customers:
            if customer.username in FOLLOW_THE_BRAND:
                customer.following.add(brand)
        Account.objects.filter(username__in=OPEN_DMS).update(dms_open=True)
    return World(app=app, brand=brand, customers=customers)


def ensure_app() -> App:
    credentials = {
        "bearer_token": _required("X_BEARER_TOKEN"),
        "consumer_secret": _required("X_CONSUMER_SECRET"),
    }
    app, _ = App.objects.update_or_create(
        consumer_key=_required("X_CONSUMER_KEY"),
        defaults={"name": "Twelp", **credentials},
    )
    return app


def ensure_brand() -> Account:
    token = _required("X_ACCESS_TOKEN")
    profile = {
        "name": settings.XSANDBOX_BRAND_NAME,
        "description": "Answers from real people, signed with their initials.",
        "verified": True,
        "followers_count": 48_200,
        "dms_open": True,  # a care account takes DMs from anyone
    }
    brand = brand_account()
    if brand is None:
        return actions.create_account(
            settings.XSANDBOX_BRAND_USERNAME,
            kind=Account.Kind.BRAND,
            access_token=token,
            access_token_secret=_required("X_ACCESS_TOKEN_SECRET"),
            **profile,
        )
    Account.objects.filter(pk=brand.pk).update(
        kind=Account.Kind.BRAND,
        access_token=token,
        access_token_secret=_required("X_ACCESS_TOKEN_SECRET"),
        **profile,
    )
    brand.refresh_from_db()
    return brand


def ensure_training_brand() -> Account:
    """The training account (training mode): trainees' practice replies post as it."""
    token = _required("X_TRAINING_ACCESS_TOKEN")
    secret = _required("X_TRAINING_ACCESS_TOKEN_SECRET")
    account = training_account()
    if account is None:
        return actions.create_account(
            settings.XSANDBOX_TRAINING_USERNAME,
            f"{settings.XSANDBOX_BRAND_NAME} (training)"[:50],
            kind=Account.Kind.BRAND,
            access_token=token,
            access_token_secret=secret,
            description="Practice account: replies here never reach the live brand.",
            dms_open=True,
        )
    Account.objects.filter(pk=account.pk).update(
        kind=Account.Kind.BRAND, access_token=token, access_token_secret=secret, dms_open=True
    )
    account.refresh_from_db()
    return account


def training_account() -> Account | None:
    return Account.objects.filter(username__iexact=settings.XSANDBOX_TRAINING_USERNAME).first()


def ensure_customer(username: str, name: str, **profile: object) -> Account:
    existing = Account.objects.filter(username__iexact=username).first()
    if existing is not None:
        return existing
    return actions.create_account(username, name, **profile)


def brand_account() -> Account | None:
    return Account.objects.filter(username__iexact=settings.XSANDBOX_BRAND_USERNAME).first()


def employee_ids() -> dict[str, int]:
    """{username: X user id} of the demo employees' accounts (xsandbox_seed --json prints it)."""
    return {username: user_id for username, (_, user_id) in EMPLOYEES.items()}


def _required(name: str) -> str:
    value = getattr(settings, name)
    if not value:
        raise ImproperlyConfigured(f"{name} is not set: the sandbox seeds its app from it.")
    return value
