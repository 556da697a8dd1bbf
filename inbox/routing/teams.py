"""Teams, their members and routing rules; routing a thread when it arrives or reopens.

1. Every brand has exactly one default team (created on first need, the partial unique
   index `team_one_default` decides a race); a thread whose team is None is the default
   team's (threads made before routing, or by hand).
2. A thread is routed when it arrives (the poller's page: `route_new`) and when it reopens
   (`route_reopened`): the brand's rules in order (inbox.rules.routing), first match wins,
   else the default team. Every decision is an Event `routed` naming the rule (its id,
   kind and value) or "default".
3. Supervisors manage teams and rules (`do_*`); each change is an Event. Deleting a team
   moves its threads to the default team, an Event `routed` each (rule "team deleted"),
   in the same transaction. The default team cannot be deleted.
4. Removing an agent from a team changes nothing they hold: a claimed thread stays theirs
   until they release, answer or close it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from inbox import events
from inbox.errors import ActionError
from inbox.models import Brand, Customer, RoutingRule, Source, Team, Thread, Verb
from inbox.rules import routing
from inbox.rules.routing import Arrival, RuleError

if TYPE_CHECKING:
    from agents.models import Agent

DEFAULT_NAME = "General"
TEAM_NAME_MAX = 60


def default_team(brand_id: int) -> Team:
    team = Team.objects.filter(brand_id=brand_id, is_default=True).first()
    if team is not None:
        return team
    _forget_brand(brand_id)
    try:
        with transaction.atomic():
            return Team.objects.create(brand_id=brand_id, name=DEFAULT_NAME, is_default=True)
    except IntegrityError:  # made meanwhile (or a team already has the name)
        found = Team.objects.filter(brand_id=brand_id, is_default=True).first()
        if found is not None:
            return found
    with transaction.atomic():
        return Team.objects.create(
            brand_id=brand_id, name=f"{DEFAULT_NAME} (default)", is_default=True
        )


def team_ids(agent: Agent) -> list[int] | None:
    """The teams whose threads the agent works: None for all of the brand's (an agent in
    no team, as before teams existed)."""
    ids = list(agent.teams.values_list("id", flat=True))
    return ids or None


def scope(agent: Agent) -> tuple[list[int] | None, bool]:
    """(team ids or None for all, whether threads of no team, the default's, are in).

    Read with the login check's own statement (agents.backends: `agent.team_scope`), so
    a request pays no query for it; else one query."""
    found = getattr(agent, "team_scope", None)
    if found is not None:
        return found
    rows = list(agent.teams.values_list("id", "is_default"))
    if not rows:
        return None, True
    return [row[0] for row in rows], any(row[1] for row in rows)


SCOPE_SECONDS = 3600


@dataclass(frozen=True)
class TeamName:
    id: int
    name: str
    is_default: bool


def brand_teams(brand_id: int) -> list[TeamName]:
    """The brand's teams by name, for the queue's filter: cached like `scope`."""
    key = _teams_key(brand_id)
    cached = cache.get(key)
    if cached is None:
        cached = [_name_row(t) for t in Team.objects.filter(brand_id=brand_id).order_by("name")]
        cache.set(key, cached, SCOPE_SECONDS)
    return [TeamName(*row) for row in cached]


def _name_row(team: Team) -> tuple[int, str, bool]:
    return (team.id, team.name, team.is_default)


def _teams_key(brand_id: int) -> str:
    return f"teams:{brand_id}"


def _forget_brand(brand_id: int) -> None:
    transaction.on_commit(lambda: cache.delete(_teams_key(brand_id)))


# --- routing ----------------------------------------------------------------------------------


def rules_of(brand_id: int) -> list[routing.Rule]:
    return [
        routing.Rule(r.id, r.kind, r.value, r.team_id)
        for r in RoutingRule.objects.filter(brand_id=brand_id).order_by("position", "id")
    ]


def decide(
    rules: list[routing.Rule], arrival: Arrival, default: Team
) -> tuple[int, dict[str, object]]:
    """(team id, the Event's detail) for one arrival."""
    rule = routing.first_match(rules, arrival)
    if rule is None:
        return default.id, {"team": default.id, "rule": None, "matched": "default team"}
    return rule.team_id, {
        "team": rule.team_id,
        "rule": rule.id,
        "matched": f"{rule.kind}: {rule.value}",
    }


def customers_for(rules: list[routing.Rule], customer_ids: Iterable[int]) -> dict[int, Customer]:
    """The customers, when a rule looks at them (tag, VIP); else none (no query)."""
    if not any(rule.kind in ("tag", "vip") for rule in rules):
        return {}
    return {
        c.id: c
        for c in Customer.objects.filter(id__in=set(customer_ids)).only(
            "id", "tags", "verified", "followers_count"
        )
    }


def arrival(thread: Thread, text: str, lang: str, customers: dict[int, Customer]) -> Arrival:
    customer = customers.get(thread.customer_id)
    return Arrival(
        source_id=thread.source_id,
        text=text,
        lang=lang,
        tags=tuple(customer.tags) if customer else (),
        verified=bool(customer and customer.verified),
        followers=customer.followers_count if customer else 0,
    )


def route_new(brand: Brand, threads: list[tuple[Thread, str]]) -> dict[tuple[int, int], dict]:
    """Set the team of new, unsaved threads ((thread, the customer's text) pairs) and
    return {(conversation id, customer id): the Event detail} (a thread per customer in a
    conversation); the caller inserts them and records `routed` for the ones it made
    (`record_routed`)."""
    if not threads:
        return {}
    rules, default = rules_of(brand.id), default_team(brand.id)
    customers = customers_for(rules, (t.customer_id for t, _ in threads))
    decided = {}
    for thread, text in threads:
        found = arrival(thread, text, thread.lang, customers)
        thread.team_id, detail = decide(rules, found, default)
        decided[thread.conversation_id, thread.customer_id] = detail
    return decided


def record_routed(brand: Brand, rows: list[tuple[Thread, dict]]) -> None:
    if rows:
        events.record_many(Verb.ROUTED, brand, rows)


def route_reopened(brand: Brand, threads: list[tuple[Thread, str]]) -> list[tuple[Thread, dict]]:
    """Reopened threads ((thread, the customer's new text)), locked by the caller: their
    team set afresh (saved by the caller); the `routed` Event rows to record."""
    if not threads:
        return []
    rules, default = rules_of(brand.id), default_team(brand.id)
    customers = customers_for(rules, (t.customer_id for t, _ in threads))
    rows = []
    for thread, text in threads:
        found = arrival(thread, text, thread.lang, customers)
        thread.team_id, detail = decide(rules, found, default)
        rows.append((thread, detail | {"reopened": True}))
    return rows


# --- supervisors: teams and rules -----------------------------------------------------------


def _must_supervise(agent: Agent) -> None:
    if not agent.is_supervisor:
        raise ActionError(_("Only supervisors and admins manage teams and routing."))


def _team(agent: Agent, team_id: int) -> Team:
    """A team of the agent's brand, row-locked; Team.DoesNotExist otherwise (a 404)."""
    return Team.objects.select_for_update().get(id=team_id, brand_id=agent.brand_id)


def clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise ActionError(_("Give the team a name."))
    if len(name) > TEAM_NAME_MAX:
        raise ActionError(
            _("A team's name is at most %(TEAM_NAME_MAX)s characters.")
            % {"TEAM_NAME_MAX": TEAM_NAME_MAX}
        )
    return name


@transaction.atomic(durable=True)
def do_create_team(raw_name: str, *, agent: Agent) -> Team:
    _must_supervise(agent)
    name = clean_name(raw_name)
    default_team(agent.brand_id)
    try:
        with transaction.atomic():
            team = Team.objects.create(brand_id=agent.brand_id, name=name)
    except IntegrityError:
        raise ActionError(
            _("There is already a team called “%(name)s”.") % {"name": name}
        ) from None
    events.record(
        Verb.TEAM_CHANGED, brand_id=agent.brand_id, actor=agent, team=team.id, created=name
    )
    _forget_brand(agent.brand_id)
    return team


@transaction.atomic(durable=True)
def do_delete_team(team_id: int, *, agent: Agent) -> int:
    """Delete a team and its rules; its threads go to the default team, an Event each.
    The number of threads moved."""
    _must_supervise(agent)
    team = _team(agent, team_id)
    if team.is_default:
        raise ActionError(_("The default team cannot be deleted: unrouted threads go there."))
    default = default_team(agent.brand_id)
    threads = list(Thread.objects.select_for_update(no_key=True).filter(team=team).order_by("id"))
    Thread.objects.filter(id__in=[t.id for t in threads]).update(team=default)
    for thread in threads:
        thread.team_id = default.id
    events.record_many(
        Verb.ROUTED,
        team.brand,
        [
            (t, {"team": default.id, "rule": None, "matched": f"team “{team.name}” deleted"})
            for t in threads
        ],
    )
    events.record(
        Verb.TEAM_CHANGED,
        brand_id=agent.brand_id,
        actor=agent,
        team=team.id,
        deleted=team.name,
        moved=len(threads),
    )
    _forget_brand(agent.brand_id)
    team.delete()
    return len(threads)


@transaction.atomic(durable=True)
def do_set_member(team_id: int, member: Agent, *, agent: Agent, add: bool) -> Team:
    """Add or remove `member` (an active employee of the brand). Removing keeps what they
    hold: claims are theirs until they let go."""
    _must_supervise(agent)
    team = _team(agent, team_id)
    if member.brand_id != agent.brand_id or (add and not member.is_active):
        raise ActionError(_("%(name)s is not an active employee here.") % {"name": member.name})
    if add:
        team.members.add(member)
    else:
        team.members.remove(member)
    change = {"added": member.id} if add else {"removed": member.id}
    events.record(Verb.TEAM_CHANGED, brand_id=agent.brand_id, actor=agent, team=team.id, **change)
    return team


@transaction.atomic(durable=True)
def do_add_rule(kind: str, value: str, team_id: int, position: int, *, agent: Agent) -> RoutingRule:
    """A rule; its value checked first (an invalid regex, an unknown language: refused,
    with why)."""
    _must_supervise(agent)
    if kind not in RoutingRule.Kind.values:
        raise ActionError(_("Pick a kind of rule."))
    sources = Source.objects.filter(brand_id=agent.brand_id).values_list("id", flat=True)
    try:
        value = routing.clean_value(kind, value, source_ids=list(sources))
    except RuleError as error:
        raise ActionError(str(error)) from None
    try:
        team = _team(agent, team_id)
    except Team.DoesNotExist:
        raise ActionError(_("Pick one of the brand's teams.")) from None
    rule = RoutingRule.objects.create(
        brand_id=agent.brand_id,
        kind=kind,
        value=value,
        team=team,
        position=max(0, position),
        created_by=agent,
    )
    events.record(
        Verb.ROUTING_RULE_CHANGED,
        brand_id=agent.brand_id,
        actor=agent,
        rule=rule.id,
        added=f"{kind}: {value} -> {team.name}",
    )
    return rule


@transaction.atomic(durable=True)
def do_delete_rule(rule_id: int, *, agent: Agent) -> None:
    _must_supervise(agent)
    rule = RoutingRule.objects.select_related("team").get(id=rule_id, brand_id=agent.brand_id)
    events.record(
        Verb.ROUTING_RULE_CHANGED,
        brand_id=agent.brand_id,
        actor=agent,
        rule=rule.id,
        deleted=f"{rule.kind}: {rule.value} -> {rule.team.name}",
    )
    rule.delete()


@transaction.atomic(durable=True)
def do_set_languages(member: Agent, raw: str, *, agent: Agent) -> list[str]:
    """The languages `member` answers in ("es, pt"); an unknown code is refused, named."""
    _must_supervise(agent)
    if member.brand_id != agent.brand_id:
        raise ActionError(_("%(name)s is not an employee here.") % {"name": member.name})
    codes = sorted({c.strip().lower() for c in raw.replace(",", " ").split() if c.strip()})
    unknown = [c for c in codes if c not in routing.LANGUAGES]
    if unknown:
        raise ActionError(
            _("Not a language X reports: %(unknown)s. Use codes such as en, es, pt.")
            % {"unknown": ", ".join(unknown)}
        )
    before = list(member.languages)
    type(member).objects.filter(id=member.id).update(languages=codes)
    events.record(
        Verb.TEAM_CHANGED,
        brand_id=agent.brand_id,
        actor=agent,
        agent=member.id,
        languages=codes,
        before=before,
    )
    return codes
