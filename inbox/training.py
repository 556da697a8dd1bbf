"""Training mode: new employees practise on simulated customers before going live.

A training brand is a Brand row with `training_for` set to the live brand. Its X account
(XSANDBOX_TRAINING_USERNAME) lives only in the X sandbox: the gateway's `acting_for`
sends every call made for it to X_TRAINING_API_BASE_URL with the training token, never
to X and never with the live account's token. A trainee is an Agent whose row belongs to
the training brand, so every page, claim and reply they make is scoped to it by the same
brand checks as everyone else's; a supervisor marks them ready (agents.actions), which
moves the row back to the live brand, credit code and all.

Practice customers come from the sandbox's keyed control API (POST /_sandbox/training,
through xgateway.sandbox_control): the product talks to the fake X over its wire, never by
importing it.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from inbox import schedule
from inbox.errors import ActionError
from inbox.models import Brand, Source
from twelp import xgateway

PRACTICE_TWEETS = 5  # one press of "practice customers": a handful, not a flood


def training_brand_for(brand: Brand) -> Brand:
    """The live brand's training brand, created (with its mentions source) on first use."""
    existing = Brand.objects.filter(training_for=brand).first()
    if existing is not None:
        return existing
    prefix = settings.X_TRAINING_ACCESS_TOKEN.partition("-")[0]
    if not prefix.isdigit():
        raise ValueError("X_TRAINING_ACCESS_TOKEN must start with the account's id: <id>-...")
    training, _ = Brand.objects.get_or_create(
        training_for=brand,
        defaults={
            "name": f"{brand.name} (training)"[:100],
            "handle": settings.XSANDBOX_TRAINING_USERNAME,
            "x_user_id": int(prefix),
            "credit_format": brand.credit_format,
            "timezone": brand.timezone,
        },
    )
    Source.objects.get_or_create(brand=training, kind=Source.Kind.MENTIONS, query="")
    return training


def practice(training: Brand, *, count: int = PRACTICE_TWEETS, seed: int) -> int:
    """Simulated customers tweet at the training account (in the sandbox, which makes the
    account on first use); the training brand's mentions are polled at once after commit.
    Returns how many tweets were made; ActionError, saying why, if the sandbox can't."""
    if not training.is_training:
        raise ValueError("Practice customers only ever write to a training brand.")
    try:
        run = xgateway.sandbox_control("POST", "training", payload={"count": count, "seed": seed})
    except xgateway.SandboxUnavailable as error:
        raise ActionError(
            _("No practice customers this time: %(error)s Try again shortly.") % {"error": error}
        ) from error
    for source_id in Source.objects.filter(brand=training, active=True).values_list(
        "id", flat=True
    ):
        schedule.poll_source(source_id)
    return len(run.get("tweets", []))
