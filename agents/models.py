from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q, Value
from django.utils.translation import gettext_lazy


class Role(models.TextChoices):
    AGENT = "agent", gettext_lazy("Agent")
    SUPERVISOR = "supervisor", gettext_lazy("Supervisor")
    ADMIN = "admin", gettext_lazy("Admin")


class AgentState(models.TextChoices):
    PENDING = "pending", gettext_lazy("Waiting for approval")
    ACTIVE = "active", gettext_lazy("Active")
    REJECTED = "rejected", gettext_lazy("Rejected")
    DEACTIVATED = "deactivated", gettext_lazy("Deactivated")


class Agent(models.Model):
    """An employee who answers from the brand account, credited by their own code."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent"
    )
    brand = models.ForeignKey("inbox.Brand", on_delete=models.PROTECT, related_name="agents")
    employee_id = models.CharField(max_length=64)
    name = models.CharField(max_length=150)
    x_handle = models.CharField(
        max_length=15, help_text=gettext_lazy("Their own X handle, without @.")
    )
    x_user_id = models.BigIntegerField(null=True, blank=True)
    initials = models.CharField(max_length=4)
    # The public credit on every reply (`^JD`, `^JD2`): unique among the brand's employees,
    # assigned at approval, kept after deactivation so past credits stay meaningful.
    credit_code = models.CharField(max_length=8, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    state = models.CharField(max_length=16, choices=AgentState.choices, default=AgentState.PENDING)
    approved_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    # Threads they may hold at once; None: the brand's Brand.max_held (inbox.routing).
    max_held = models.PositiveSmallIntegerField(null=True, blank=True)
    # The languages they answer in (X's codes, inbox.rules.routing.LANGUAGES): a thread in
    # one of them is offered to them first, to anyone after Brand.language_wait.
    languages = ArrayField(
        models.CharField(max_length=8), default=list, db_default=Value([]), blank=True
    )
    # Issue 15, work that comes to you (inbox.routing.assign): since when they are
    # Available (None: not), and when a thread was last assigned to them automatically
    # (the least recently assigned available agent is served first).
    available_since = models.DateTimeField(null=True, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    # In line for one thread: Claim next found nothing for them, so the next thread of
    # their teams comes to them (Available for that one; the assignment that gives it, or
    # a claim of their own, ends it). False: Available until they go away.
    available_once = models.BooleanField(default=False, db_default=False)
    # A confirmed TOTP device (agents.twofactor): every login must pass the second factor.
    # Kept on the row loaded with the user, so the check costs no query on a hot page.
    two_factor = models.BooleanField(default=False)
    # Their subject (`sub`) at the company's identity provider (agents.sso), once they
    # signed in with it: the provider's id for them, never reused for someone else.
    oidc_subject = models.CharField(max_length=255, blank=True, default="", db_default="")
    # Issue 21: the IANA zone their pages show dates and times in ("Europe/Madrid"); empty:
    # the brand's (Brand.timezone). Activated per request (twelp.middleware.AgentTimezone).
    time_zone = models.CharField(max_length=64, blank=True, db_default="")
    # Issue 21: the language of their pages (settings.LANGUAGES); empty: their browser's
    # (Accept-Language). Activated per request by role_required (twelp.i18n).
    language = models.CharField(
        max_length=8, choices=settings.LANGUAGES, blank=True, default="", db_default=""
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Each role's Django group holds a set of these (agents.access.ROLE_PERMISSIONS).
        permissions = [
            ("work_queue", "Work the queue: claim, answer, close"),
            ("supervise", "See dashboards; reassign and release others' claims"),
            ("approve_agents", "Approve or reject self-registrations"),
            ("manage_agents", "Register, import, change roles of, deactivate employees"),
            ("manage_brand", "Change the brand's settings"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["brand", "employee_id"], name="agent_employee_id_uniq"),
            models.UniqueConstraint(
                "brand", models.functions.Lower("x_handle"), name="agent_x_handle_uniq"
            ),
            models.UniqueConstraint(
                fields=["brand", "credit_code"],
                condition=~Q(credit_code=""),
                name="agent_credit_code_uniq",
            ),
            # One X account, one employee: a renamed handle cannot register a second time.
            models.UniqueConstraint(
                fields=["oidc_subject"],
                condition=~Q(oidc_subject=""),
                name="agent_oidc_subject_uniq",
            ),
            models.UniqueConstraint(
                fields=["brand", "x_user_id"],
                condition=Q(x_user_id__isnull=False),
                name="agent_x_user_id_uniq",
            ),
        ]
        indexes = [
            # The team page: one state, by name, keyset-paginated.
            models.Index(fields=["brand", "state", "name", "id"], name="agent_team_order"),
            # Auto-assignment's turn order: the brand's available agents, least recently
            # assigned first, then who became Available (or joined the line) first
            # (inbox.routing.assign).
            models.Index(
                "brand",
                models.F("last_assigned_at").asc(nulls_first=True),
                "available_since",
                "id",
                condition=Q(available_since__isnull=False),
                name="agent_available_turn",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.credit_code or self.initials})"

    @property
    def is_active(self) -> bool:
        return self.state == AgentState.ACTIVE

    @property
    def is_supervisor(self) -> bool:
        return self.is_active and self.role in (Role.SUPERVISOR, Role.ADMIN)

    @property
    def zone(self) -> ZoneInfo:
        """Where their pages show dates and times (issue 21): their own zone, else the
        brand's, else UTC (a zone no longer known is skipped, never an error)."""
        for name in (self.time_zone, self.brand.timezone):
            if name:
                try:
                    return ZoneInfo(name)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return ZoneInfo("UTC")

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN


class Membership(models.Model):
    """Issue 16: an employee may work for several brands (a main handle and a regional one).
    `Agent.brand` is the brand they work in now, always one of theirs; they switch with
    agents.actions.do_switch_brand. An agent without Membership rows belongs to
    Agent.brand alone (every agent made before this table)."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="memberships")
    brand = models.ForeignKey("inbox.Brand", on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "brand"], name="membership_agent_brand_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.agent} in {self.brand}"
