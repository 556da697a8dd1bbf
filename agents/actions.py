"""Every change of an employee's state lives here, as inbox.actions is for threads.

Each `do_*` is one durable transaction that writes an `Event` (verb `agent_*`, the
employee in `detail`) and changes the role's Django group with the role. Registrations,
imports and approvals take the brand's roster lock first, so two of them never hand out
the same employee id, handle or credit code (the unique constraints stay as the last
word). E-mails go out after commit.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from agents import brands, roles, sessions
from agents.models import Agent, AgentState, Membership, Role
from agents.queries import find_duplicates
from inbox import events
from inbox.actions import do_release_all
from inbox.errors import ActionError
from inbox.models import Brand, Verb
from twelp import i18n

log = logging.getLogger(__name__)

# pg_advisory_xact_lock(ROSTER_LOCK, brand_id): the two-key space, apart from bigint keys.
ROSTER_LOCK = 0x5477_6C70  # "Twlp"


class DuplicateEmployee(ActionError):
    """Someone registered the same employee id, e-mail or handle first."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class NewEmployee:
    """A validated employee, their handle already checked with X."""

    employee_id: str
    name: str
    email: str
    x_handle: str
    x_user_id: int
    initials: str
    role: str = Role.AGENT


# --- joining -------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def do_register(brand: Brand, employee: NewEmployee, *, password: str) -> Agent:
    """Self-registration: a pending employee who may log in but sees nothing until
    approved. Raises DuplicateEmployee."""
    _lock_roster(brand)
    agent = _create(brand, employee, password=password)
    _event(brand, Verb.AGENT_REGISTERED, None, agent)
    return agent


@transaction.atomic(durable=True)
def do_register_sso(brand: Brand, employee: NewEmployee, *, subject: str, vouched: bool) -> Agent:
    """A first sign-in with the company's identity provider (agents.sso), the X account
    proven: a pending registration, or (`vouched`: the provider vouched for the employee id
    and settings.OIDC_ACTIVATE_VOUCHED is on) an active agent at once. No password: they
    sign in with the provider. Raises DuplicateEmployee."""
    _lock_roster(brand)
    agent = _create(brand, employee, password=None)
    agent.oidc_subject = subject
    agent.save(update_fields=["oidc_subject"])
    agent.user.set_unusable_password()
    agent.user.save(update_fields=["password"])
    _event(brand, Verb.AGENT_REGISTERED, None, agent, via="sso")
    if vouched:
        _activate(agent, actor=None)
        _event(
            brand, Verb.AGENT_APPROVED, None, agent,
            credit_code=agent.credit_code, vouched_by="identity provider",
        )  # fmt: skip
    return agent


@transaction.atomic(durable=True)
def do_link_subject(agent_id: int, subject: str) -> Agent | None:
    """An employee who had a password signs in with the provider for the first time, the
    provider vouching for their employee id: their row remembers the provider's subject.
    None when someone else holds that subject, or they hold another one already."""
    agent = Agent.objects.select_for_update(of=("self",)).filter(id=agent_id).first()
    if agent is None or agent.oidc_subject or Agent.objects.filter(oidc_subject=subject).exists():
        return None
    agent.oidc_subject = subject
    agent.save(update_fields=["oidc_subject"])
    return agent


@transaction.atomic(durable=True)
def do_add_employee(brand: Brand, employee: NewEmployee, *, actor: Agent) -> Agent:
    """An admin registers an employee directly: active at once, with a credit code, and
    an e-mail to set their password. Raises DuplicateEmployee."""
    _lock_roster(brand)
    agent = _create(brand, employee, password=None)
    _activate(agent, actor=actor)
    _event(brand, Verb.AGENT_ADDED, actor, agent, role=agent.role, credit_code=agent.credit_code)
    _mail_after_commit(agent, "welcome")
    return agent


@transaction.atomic(durable=True)
def do_import_employees(brand: Brand, employees: list[NewEmployee], *, actor: Agent) -> list[Agent]:
    """All or nothing: every row becomes an active employee, or (DuplicateEmployee, which
    names the row) none does."""
    _lock_roster(brand)
    added = []
    for line, employee in enumerate(employees, start=1):
        try:
            agent = _create(brand, employee, password=None)
        except DuplicateEmployee as error:
            raise DuplicateEmployee(
                {field: f"Row {line}: {message}" for field, message in error.errors.items()}
            ) from None
        _activate(agent, actor=actor)
        _event(brand, Verb.AGENT_ADDED, actor, agent, role=agent.role, via="csv")
        added.append(agent)
    for agent in added:
        _mail_after_commit(agent, "welcome")
    return added


def _create(brand: Brand, employee: NewEmployee, *, password: str | None) -> Agent:
    """Caller holds the roster lock, so the duplicate check cannot go stale."""
    errors = find_duplicates(
        brand,
        employee_id=employee.employee_id,
        email=employee.email,
        x_handle=employee.x_handle,
        x_user_id=employee.x_user_id,
    )
    if errors:
        raise DuplicateEmployee(errors)
    first, _, last = employee.name.partition(" ")
    user = User.objects.create_user(
        username=employee.employee_id,
        email=employee.email,
        # Added employees set theirs from the welcome e-mail's link: a random one meanwhile
        # (an unusable one would make Django's password reset skip them).
        password=password or secrets.token_urlsafe(30),
        first_name=first[:150],
        last_name=last[:150],
    )
    return Agent.objects.create(
        user=user,
        brand=brand,
        employee_id=employee.employee_id,
        name=employee.name,
        x_handle=employee.x_handle,
        x_user_id=employee.x_user_id,
        initials=employee.initials,
        role=employee.role,
        state=AgentState.PENDING,
    )


# --- approval ---------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def do_approve(agent_ids: list[int], *, actor: Agent) -> list[Agent]:
    """Approve the pending registrations among `agent_ids` in the actor's brand; each gets
    its credit code. Ids no longer pending (another supervisor was quicker) are skipped."""
    _require(actor.is_supervisor, _("Only supervisors and admins approve registrations."))
    _lock_roster(actor.brand)
    approved = []
    for agent in _pending(actor, agent_ids):
        _activate(agent, actor=actor)
        _event(actor.brand, Verb.AGENT_APPROVED, actor, agent, credit_code=agent.credit_code)
        _mail_after_commit(agent, "approved")
        approved.append(agent)
    return approved


@transaction.atomic(durable=True)
def do_reject(agent_ids: list[int], *, actor: Agent) -> int:
    """Reject pending registrations: their login and registration are deleted, so the
    employee id, e-mail and handle are free again (a colleague's id typed by mistake,
    or by an impostor, must not block the real owner). The Event keeps who it was."""
    _require(actor.is_supervisor, _("Only supervisors and admins reject registrations."))
    rejected = 0
    for agent in _pending(actor, agent_ids):
        _event(actor.brand, Verb.AGENT_REJECTED, actor, agent, email=agent.user.email)
        email, name, language = agent.user.email, agent.name, i18n.language_of(agent)
        transaction.on_commit(
            lambda email=email, name=name, language=language: _send(
                email, "rejected", {"name": name}, language
            ),
            robust=True,
        )
        agent.user.delete()  # cascades to the Agent row
        rejected += 1
    return rejected


def _pending(actor: Agent, agent_ids: list[int]) -> list[Agent]:
    rows = Agent.objects.select_for_update(of=("self",)).select_related("user")
    return list(
        rows.filter(id__in=agent_ids, brand_id=actor.brand_id, state=AgentState.PENDING).order_by(
            "created_at", "id"
        )
    )


def _activate(agent: Agent, *, actor: Agent | None) -> None:
    """Pending to active, with the next free credit code. Caller holds the roster lock."""
    agent.credit_code = next_credit_code(agent.brand_id, agent.initials)
    agent.state = AgentState.ACTIVE
    agent.approved_by = actor
    agent.approved_at = timezone.now()
    agent.save(update_fields=["credit_code", "state", "approved_by", "approved_at"])
    roles.set_role_group(agent.user, agent.role)


def next_credit_code(brand_id: int, initials: str) -> str:
    """JD, then JD2, JD3…: the first not held by any employee of the brand, deactivated
    ones and trainees in its training brand included (past replies still carry the code;
    a trainee keeps theirs when marked ready). Caller holds the roster lock."""
    base = initials.upper()
    family = Q(brand_id=brand_id) | Q(brand__training_for_id=brand_id)
    taken = set(
        Agent.objects.filter(family, credit_code__startswith=base).values_list(
            "credit_code", flat=True
        )
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"


# --- roles and leaving ----------------------------------------------------------------------


@transaction.atomic(durable=True)
def do_change_role(agent_id: int, role: str, *, actor: Agent) -> Agent:
    """An admin makes an active employee an agent, supervisor or admin."""
    _require(actor.is_admin, _("Only admins change roles."))
    agent = _lock_other(actor, agent_id, _("change your own role"))
    _require(agent.state == AgentState.ACTIVE, _("%(name)s is not active.") % {"name": agent.name})
    _require(role in Role.values, _("%(role)s is not a role.") % {"role": role})
    if agent.role == role:
        return agent
    before, agent.role = agent.role, role
    agent.save(update_fields=["role"])
    roles.set_role_group(agent.user, role)
    _event(actor.brand, Verb.AGENT_ROLE_CHANGED, actor, agent, before=before, after=role)
    return agent


@transaction.atomic(durable=True)
def do_deactivate(agent_id: int, *, actor: Agent, reason: str = "deactivated") -> int:
    """A leaver: they can no longer log in, their sessions end, their claims go back to
    the queue, all in one transaction. Their credit code and past credits stay. Returns
    the claims released.
    """
    agent = _deactivate(agent_id, actor=actor)
    return do_release_all(agent, actor=actor, reason=reason)


def _deactivate(agent_id: int, *, actor: Agent) -> Agent:
    _require(actor.is_admin, _("Only admins deactivate employees."))
    agent = _lock_other(actor, agent_id, _("deactivate yourself"))
    _require(agent.state == AgentState.ACTIVE, _("%(name)s is not active.") % {"name": agent.name})
    agent.state = AgentState.DEACTIVATED
    agent.deactivated_at = timezone.now()
    agent.save(update_fields=["state", "deactivated_at"])
    # Django's login (and every session's next request) refuses an inactive user.
    agent.user.is_active = False
    agent.user.save(update_fields=["is_active"])
    roles.set_role_group(agent.user, None)
    _event(actor.brand, Verb.AGENT_DEACTIVATED, actor, agent)
    transaction.on_commit(lambda: sessions.end_sessions(agent.user_id), robust=True)
    return agent


@transaction.atomic(durable=True)
def do_reactivate(agent_id: int, *, actor: Agent) -> Agent:
    """A returning employee: same login, same role, same credit code."""
    _require(actor.is_admin, _("Only admins reactivate employees."))
    agent = _lock_other(actor, agent_id, _("reactivate yourself"))
    _require(
        agent.state == AgentState.DEACTIVATED,
        _("%(name)s is not deactivated.") % {"name": agent.name},
    )
    agent.state = AgentState.ACTIVE
    agent.deactivated_at = None
    agent.save(update_fields=["state", "deactivated_at"])
    agent.user.is_active = True
    agent.user.save(update_fields=["is_active"])
    roles.set_role_group(agent.user, agent.role)
    _event(actor.brand, Verb.AGENT_REACTIVATED, actor, agent)
    return agent


# --- training mode (inbox.training) ----------------------------------------------------------


@transaction.atomic(durable=True)
def do_start_training(agent_id: int, *, actor: Agent) -> Agent:
    """A supervisor sends an active agent to practise: their claims go back to the queue
    and their row moves to the training brand, where everything they do stays."""
    from inbox.training import training_brand_for

    _require(actor.is_supervisor, _("Only supervisors and admins send employees to training."))
    _require(not actor.brand.is_training, _("Trainees cannot send anyone to training."))
    _lock_roster(actor.brand)
    agent = _lock_other(actor, agent_id, _("send yourself to training"))
    _require(agent.state == AgentState.ACTIVE, _("%(name)s is not active.") % {"name": agent.name})
    _require(agent.role == Role.AGENT, _("Only agents train; change the role first."))
    released = do_release_all(agent, actor=actor, reason="training")
    agent.brand = training_brand_for(actor.brand)
    agent.save(update_fields=["brand"])
    _event(actor.brand, Verb.AGENT_TRAINING_STARTED, actor, agent, released=released)
    return agent


@transaction.atomic(durable=True)
def do_mark_ready(agent_id: int, *, actor: Agent) -> Agent:
    """A supervisor marks a trainee ready: their row returns to the live brand with the
    credit code they had (next_credit_code never hands out a trainee's code)."""
    from inbox.models import Reply, ReplyStatus

    _require(actor.is_supervisor, _("Only supervisors and admins mark trainees ready."))
    _lock_roster(actor.brand)
    agent = (
        Agent.objects.select_for_update(of=("self",))
        .filter(id=agent_id, brand__training_for=actor.brand)
        .first()
    )
    _require(agent is not None, _("No such trainee: maybe a colleague marked them ready already."))
    released = do_release_all(agent, actor=actor, reason="ready")
    agent.brand = actor.brand
    agent.save(update_fields=["brand"])
    posted = Reply.objects.filter(agent=agent, status=ReplyStatus.POSTED).count()
    _event(actor.brand, Verb.AGENT_READY, actor, agent, practice_replies=posted, released=released)
    return agent


# --- helpers -----------------------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ActionError(message)


def _lock_roster(brand: Brand) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ROSTER_LOCK, brand.id])


def _lock_other(actor: Agent, agent_id: int, what: str) -> Agent:
    from agents.access import access_agent

    agent = access_agent(actor, agent_id, lock=True)
    # An admin cannot lock themselves out (or demote the last admin by accident).
    _require(agent.id != actor.id, _("You cannot %(what)s; ask another admin.") % {"what": what})
    return agent


def _event(brand: Brand, verb: Verb, actor: Agent | None, agent: Agent, **detail: object) -> None:
    events.record(
        verb,
        brand_id=brand.id,
        actor=actor,
        agent=agent.id,
        employee_id=agent.employee_id,
        name=agent.name,
        x_handle=agent.x_handle,
        **detail,
    )


def _mail_after_commit(agent: Agent, kind: str) -> None:
    context = {"agent": agent, "login_url": settings.SITE_URL + reverse("login")}
    if kind == "welcome":
        user = agent.user
        context["set_password_url"] = settings.SITE_URL + reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
    email, language = agent.user.email, i18n.language_of(agent)
    transaction.on_commit(lambda: _send(email, kind, context, language), robust=True)


def _send(email: str, kind: str, context: dict[str, object], language: str) -> None:
    # In the employee's own language (issue 21), not the one of whoever approved them.
    with translation.override(language):
        subject = render_to_string(f"agents/email/{kind}_subject.txt", context).strip()
        body = render_to_string(f"agents/email/{kind}.txt", context)
    send_mail(subject, body, None, [email])


# --- the first run (agents.bootstrap) ----------------------------------------------------------


@transaction.atomic(durable=True)
def do_set_up_brand(
    *, brand_name: str, handle: str, x_user_id: int, admin: NewEmployee, password: str
) -> Agent:
    """A new brand (or one with no active admin yet), its mentions and DM sources, and
    its first admin, active at once. Raises ActionError when the brand has an admin."""
    from inbox.models import Source

    brand = Brand.objects.select_for_update().filter(handle__iexact=handle).first()
    if brand is None:
        brand = Brand.objects.create(name=brand_name, handle=handle, x_user_id=x_user_id)
    _lock_roster(brand)
    has_admin = Agent.objects.filter(brand=brand, role=Role.ADMIN, state=AgentState.ACTIVE)
    _require(
        not has_admin.exists(),
        _("@%(handle)s has an admin already; ask them.") % {"handle": brand.handle},
    )
    for kind in (Source.Kind.MENTIONS, Source.Kind.DMS):
        Source.objects.get_or_create(brand=brand, kind=kind, query="")
    agent = _create(brand, NewEmployee(**{**admin.__dict__, "role": Role.ADMIN}), password=password)
    _activate(agent, actor=None)  # type: ignore[arg-type]
    events.record(Verb.BRAND_CREATED, brand_id=brand.id, actor=agent, handle=brand.handle)
    _event(brand, Verb.AGENT_ADDED, agent, agent, role=agent.role, via="setup")
    return agent


# --- several brands (issue 16): memberships and switching ------------------------------------


def brands_of(agent: Agent) -> list[Brand]:
    """The brands `agent` may work in: their memberships and the brand they are in now."""
    return brands.brands_of(agent)


def administered_brands(actor: Agent) -> list[Brand]:
    """The brands `actor` administers: theirs (brands_of) when they are an admin."""
    return brands_of(actor) if actor.is_admin else []


def _require_administers(actor: Agent, brand_id: int) -> Brand:
    _require(actor.is_admin, gettext("Only admins give or take a brand."))
    brand = next((b for b in administered_brands(actor) if b.id == brand_id), None)
    _require(
        brand is not None, gettext("You can only give or take a brand you administer yourself.")
    )
    return brand  # type: ignore[return-value]


@transaction.atomic(durable=True)
def do_grant_brand(agent_id: int, brand_id: int, *, actor: Agent) -> Membership:
    """An admin lets an employee of their brand work in another brand they administer too
    (Event agent_brand_given, in that brand's trail)."""
    brand = _require_administers(actor, brand_id)
    from agents.access import access_member

    agent = access_member(actor, agent_id, lock=True)
    membership, created = Membership.objects.get_or_create(agent=agent, brand_id=brand_id)
    Membership.objects.get_or_create(agent=agent, brand_id=agent.brand_id)
    if created:
        _event(brand, Verb.AGENT_BRAND_GIVEN, actor, agent, brand_handle=brand.handle)
    return membership


@transaction.atomic(durable=True)
def do_take_brand(agent_id: int, brand_id: int, *, actor: Agent) -> bool:
    """An admin takes a brand they administer from an employee (Event agent_brand_taken);
    False when the employee did not have it. Refused for the brand the employee works in
    right now: they switch to another first (their claims there must go back first)."""
    brand = _require_administers(actor, brand_id)
    from agents.access import access_member

    agent = access_member(actor, agent_id, lock=True)
    _require(
        agent.brand_id != brand_id,
        gettext(
            "%(name)s works in @%(handle)s right now: they switch to another of their brands "
            "first (My profile → Brand), then it can be taken."
        )
        % {"name": agent.name, "handle": brand.handle},
    )
    deleted, _ = Membership.objects.filter(agent=agent, brand_id=brand_id).delete()
    if deleted:
        _event(brand, Verb.AGENT_BRAND_TAKEN, actor, agent, brand_handle=brand.handle)
    return bool(deleted)


@transaction.atomic(durable=True)
def do_switch_brand(agent: Agent, brand_id: int) -> Agent:
    """The agent works in `brand_id` from now on (one of theirs): every page, queue, query
    and answer is that brand's, as Agent.brand decides them everywhere. Their claims in the
    brand they leave go back to its queue. Refused, with the reason, when the brand is not
    theirs or another employee there holds their employee id, handle or credit code."""
    locked = Agent.objects.select_for_update().get(id=agent.id)
    if locked.brand_id == brand_id:
        return locked
    allowed = Membership.objects.filter(agent=locked, brand_id=brand_id).exists()
    target = Brand.objects.filter(id=brand_id, training_for__isnull=True).first()
    if not allowed or target is None:
        raise ActionError(
            gettext("You do not work for that brand, so you were not switched to it.")
        )
    _lock_roster(target)
    there = Agent.objects.filter(brand=target).exclude(id=locked.id)
    clash = (
        there.filter(employee_id=locked.employee_id).exists()
        or there.filter(x_handle__iexact=locked.x_handle).exists()
        or (bool(locked.credit_code) and there.filter(credit_code=locked.credit_code).exists())
    )
    _require(
        not clash,
        _(
            "@%(handle)s has another employee with your employee id, X handle or credit code: "
            "ask its admin to sort it out first."
        )
        % {"handle": target.handle},
    )
    do_release_all(locked, actor=locked, reason="switched brand")
    # The brand left stays theirs (a row, not only Agent.brand), so they can come back.
    Membership.objects.get_or_create(agent=locked, brand_id=locked.brand_id)
    before, locked.brand = locked.brand_id, target
    locked.save(update_fields=["brand"])
    _event(target, Verb.AGENT_SWITCHED_BRAND, locked, locked, before=before, after=target.id)
    user_id = locked.user_id
    transaction.on_commit(lambda: sessions.forget_live_brand(user_id))
    return locked


def do_set_time_zone(agent: Agent, zone: str) -> Agent:
    """Issue 21: the employee's own time zone ("" for the brand's), already checked
    (agents.forms.TimeZoneForm). A preference of theirs alone: no audit Event."""
    agent.time_zone = zone
    agent.save(update_fields=["time_zone"])
    return agent


def do_set_language(agent: Agent, code: str) -> Agent:
    """Issue 21: the employee's own language ("" for their browser's), already checked
    (agents.forms.LanguageForm). A preference of theirs alone: no audit Event."""
    agent.language = code
    agent.save(update_fields=["language"])
    return agent
