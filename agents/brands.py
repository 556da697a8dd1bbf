"""The brands an employee may work in (issue 16), for the top bar's switcher.

1. The list is their Membership rows plus the brand they work in now (Agent.brand, the
   active brand: kept on the employee, so every device and the workers agree on it),
   training brands left out (agents.actions.brands_of decides it).
2. The top bar is on every page: the list is cached per employee, so a page costs one
   cache read, not a query. Any change of their memberships (given, taken, a brand
   deleted: the signals below, after commit) forgets it, so a brand given or taken shows
   at their next page; a kept page frame (inbox.live.fragments) is stamped with the list
   it shows, read in the same round trip, so it is rendered anew too.
3. The cache only chooses what the switcher offers: switching itself checks the database
   again (agents.actions.do_switch_brand), so a stale list can never let anyone in.
"""

from __future__ import annotations

from typing import NamedTuple

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from agents.models import Agent, Membership
from inbox.models import Brand

CACHE_SECONDS = 600


class BrandChoice(NamedTuple):
    id: int
    handle: str


def key(agent_id: int) -> str:
    """The cache key of their list (inbox.live.fragments reads it with a kept page frame)."""
    return f"agents:brands:{agent_id}"


def brands_of(agent: Agent) -> list[Brand]:
    """(1) The brands `agent` may work in: their memberships and the brand they are in now."""
    ids = {
        agent.brand_id,
        *Membership.objects.filter(agent=agent).values_list("brand_id", flat=True),
    }
    return list(Brand.objects.filter(id__in=ids, training_for__isnull=True).order_by("name", "id"))


def rows(agent: Agent, cached: list[tuple[int, str]] | None = None) -> list[tuple[int, str]]:
    """(2) [(brand id, handle)]: for an employee of one brand (the login check says so,
    agents.backends) their brand, with no cache and no query; else `cached` (what the
    caller read of key()), the cache, or the database (then cached)."""
    if getattr(agent, "other_brands", None) is False:
        return [] if agent.brand.is_training else [(agent.brand_id, agent.brand.handle)]
    if cached is None:
        cached = cache.get(key(agent.id))
    if cached is None:
        cached = [(brand.id, brand.handle) for brand in brands_of(agent)]
        cache.set(key(agent.id), cached, CACHE_SECONDS)
    return cached


def choices(agent: Agent) -> list[BrandChoice]:
    """(1, 2) The employee's brands, by name: what the switcher lists."""
    return [BrandChoice(*row) for row in rows(agent)]


def forget(agent_id: int) -> None:
    """(2) Their list is read anew at their next page (after this transaction commits)."""
    transaction.on_commit(lambda: cache.delete(key(agent_id)))


def _membership_changed(sender: type, instance: Membership, **kwargs: object) -> None:
    forget(instance.agent_id)


def connect() -> None:
    """(2) Called once from agents.apps.AgentsConfig.ready."""
    post_save.connect(_membership_changed, sender=Membership, dispatch_uid="agents.brands.save")
    post_delete.connect(_membership_changed, sender=Membership, dispatch_uid="agents.brands.delete")
