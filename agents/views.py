"""Employees: self-registration, the team pages, profiles. Thin views: the decorator says
who, a form parses, an action changes, a template renders."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from agents import actions, bootstrap, imports, queries, sso, twofactor, xhandles, xlink
from agents.access import (
    ADMINS,
    ANY_EMPLOYEE,
    SUPERVISORS,
    AgentRequest,
    access_agent,
    access_member,
    anyone,
    role_required,
)
from agents.forms import (
    AddEmployeeForm,
    EmployeeForm,
    ImportForm,
    LanguageForm,
    PickForm,
    ProvenRegistrationForm,
    RoleForm,
    SetupForm,
    SSORegistrationForm,
    TimeZoneForm,
)
from agents.models import Agent, AgentState, Role
from inbox import queries as inbox_queries
from inbox import training as training_mode
from inbox.errors import ActionError
from inbox.models import Brand
from inbox.quality import review

# --- joining -------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    signed_out = ""

    """Django's login, plus how many attempts are left before django-axes locks the
    username (settings.AXES_FAILURE_LIMIT, for AXES_COOLOFF_TIME): the fifth wrong
    password should not come as a surprise."""

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["sso_enabled"] = settings.SSO_ENABLED
        context["sso_name"] = settings.OIDC_PROVIDER_NAME
        context["password_login"] = settings.PASSWORD_LOGIN
        context["signed_out"] = self.signed_out
        return context

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        # The reason a session was ended (agents.sso): its cookie is read here only, once.
        holder = HttpResponse()
        self.signed_out = sso.signed_out_reason(request, holder)
        response = super().get(request, *args, **kwargs)
        for name, cookie in holder.cookies.items():
            response.cookies[name] = cookie
        return response

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not settings.PASSWORD_LOGIN:  # single sign-on only (settings.PASSWORD_LOGIN)
            messages.error(
                request,
                _("Passwords do not log in here: sign in with %(OIDC_PROVIDER_NAME)s.")
                % {"OIDC_PROVIDER_NAME": settings.OIDC_PROVIDER_NAME},
            )
            return redirect("login")
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        username = (form.data.get("username") or "").strip()
        if username:
            failures = AxesProxyHandler.get_failures(self.request, {"username": username})
            left = settings.AXES_FAILURE_LIMIT - failures
            if 0 < left < settings.AXES_FAILURE_LIMIT:
                minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
                form.attempts_warning = ngettext(
                    "%(left)s attempt left before logging in as %(username)s locks for "
                    "%(minutes)s minutes. Forgot your password? Reset it below.",
                    "%(left)s attempts left before logging in as %(username)s locks for "
                    "%(minutes)s minutes. Forgot your password? Reset it below.",
                    left,
                ) % {"left": left, "username": username, "minutes": minutes}
        return super().form_invalid(form)


@anyone
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("inbox:queue")
    brand = queries.registration_brand()
    if brand is None:
        raise Http404(_("Registration is not open yet."))
    vouched = sso.newcomer(request)  # the company's identity provider's word (agents.sso)
    if vouched is None and not settings.PASSWORD_LOGIN:
        messages.error(
            request,
            _("Sign in with %(OIDC_PROVIDER_NAME)s first.")
            % {"OIDC_PROVIDER_NAME": settings.OIDC_PROVIDER_NAME},
        )
        return redirect("login")
    account = xlink.proven(request)  # the X account X vouched for (agents.xlink)
    if account is None:
        context = {"brand": brand, "form": None, "vouched": vouched}
        return xlink.allow_consent_page(render(request, "agents/register.html", context))
    if vouched is not None:
        return _register_sso(request, brand, account, vouched)
    form = ProvenRegistrationForm(_posted(request), brand=brand)
    if request.method == "POST" and form.is_valid():
        employee = _proven_employee(form, brand, account)
        if employee is not None:
            try:
                agent = actions.do_register(
                    brand, employee, password=form.cleaned_data["password1"]
                )
            except actions.DuplicateEmployee as error:
                _add_errors(form, error.errors)
            else:
                xlink.forget(request)
                # Logged in at once: the queue shows them "waiting for approval" until then.
                login(request, agent.user, backend="agents.backends.EmployeeBackend")
                return redirect("inbox:queue")
    context = {"form": form, "brand": brand, "account": account}
    return xlink.allow_consent_page(render(request, "agents/register.html", context))


def _register_sso(
    request: HttpRequest, brand: Brand, account: xlink.Proven, vouched: dict[str, str]
) -> HttpResponse:
    """A newcomer the provider signed in, their X account proven: no password; the
    employee id, name and e-mail are the provider's where it gives them."""
    form = SSORegistrationForm(_posted(request), brand=brand, vouched=vouched)
    if request.method == "POST" and form.is_valid():
        employee = _proven_employee(form, brand, account)
        if employee is not None:
            trusted = bool(vouched["employee_id"]) and settings.OIDC_ACTIVATE_VOUCHED
            try:
                agent = actions.do_register_sso(
                    brand, employee, subject=vouched["sub"], vouched=trusted
                )
            except actions.DuplicateEmployee as error:
                _add_errors(form, error.errors)
            else:
                xlink.forget(request)
                sso.forget_newcomer(request)
                tokens = vouched.get("tokens") or {}
                login(request, agent.user, backend="agents.sso.SSOBackend")
                claims = {"sub": vouched["sub"], "amr": vouched.get("amr") or []}
                sso.begin_session(request, claims, tokens)
                return redirect("inbox:queue")
    context = {"form": form, "brand": brand, "account": account, "vouched": vouched}
    return xlink.allow_consent_page(render(request, "agents/register.html", context))


def _proven_employee(
    form: ProvenRegistrationForm, brand: Brand, account: xlink.Proven
) -> actions.NewEmployee | None:
    """The registration with the X account X vouched for; None (reasons on the form) when
    someone has the employee id, the e-mail or that account already."""
    data = form.cleaned_data
    errors = queries.find_duplicates(
        brand,
        employee_id=data["employee_id"],
        email=data["email"],
        x_handle=account.username,
        x_user_id=account.id,
    )
    if errors:
        _add_errors(form, errors)
        return None
    return actions.NewEmployee(
        employee_id=data["employee_id"],
        name=data["name"],
        email=data["email"],
        x_handle=account.username,
        x_user_id=account.id,
        initials=data["initials"],
    )


@anyone
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest, token: str) -> HttpResponse:
    """The first run: the one-time link `manage.py bootstrap` printed (agents.bootstrap)."""
    if not bootstrap.is_valid(token):
        raise Http404(_("This setup link is unknown, used or expired; run manage.py bootstrap."))
    form = SetupForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        agent = _set_up(form)
        if agent is not None:
            bootstrap.spend(token)
            login(request, agent.user, backend="agents.backends.EmployeeBackend")
            messages.success(
                request,
                _(
                    "@%(handle)s is set up and you are its admin (^%(credit_code)s). Next: its "
                    "sources, then your team."
                )
                % {"handle": agent.brand.handle, "credit_code": agent.credit_code},
            )
            return redirect("inbox:admin_sources")
    return render(request, "agents/setup.html", {"form": form})


def _set_up(form: SetupForm) -> Agent | None:
    data = form.cleaned_data
    try:
        brand_account = xhandles.look_up(data["brand_handle"])
        own = xhandles.look_up(data["x_handle"])
    except xhandles.XUnavailable as error:
        form.add_error(None, str(error))
        return None
    for field, account in (("brand_handle", brand_account), ("x_handle", own)):
        if account is None:
            form.add_error(
                field, _("X has no user @%(field)s. Check the spelling.") % {"field": data[field]}
            )
    if brand_account is None or own is None:
        return None
    admin = actions.NewEmployee(
        employee_id=data["employee_id"],
        name=data["name"],
        email=data["email"],
        x_handle=own.username,
        x_user_id=own.id,
        initials=data["initials"],
        role=Role.ADMIN,
    )
    try:
        return actions.do_set_up_brand(
            brand_name=data["brand_name"],
            handle=brand_account.username,
            x_user_id=brand_account.id,
            admin=admin,
            password=data["password1"],
        )
    except actions.DuplicateEmployee as error:
        _add_errors(form, error.errors)
    except ActionError as error:
        form.add_error(None, str(error))
    return None


@require_http_methods(["GET", "POST"])
@role_required(ADMINS)
def add_employee(request: AgentRequest) -> HttpResponse:
    brand = request.agent.brand
    form = AddEmployeeForm(_posted(request), brand=brand)
    if request.method == "POST" and form.is_valid():
        employee = _checked_employee(form, brand)
        if employee is not None:
            try:
                agent = actions.do_add_employee(brand, employee, actor=request.agent)
            except actions.DuplicateEmployee as error:
                _add_errors(form, error.errors)
            else:
                messages.success(
                    request,
                    _(
                        "%(name)s is registered as ^%(credit_code)s; an e-mail asks them to set "
                        "a password."
                    )
                    % {"name": agent.name, "credit_code": agent.credit_code},
                )
                return redirect("agents:profile", agent.id)
    return render(request, "agents/add.html", {"form": form})


@require_http_methods(["GET", "POST"])
@role_required(ADMINS)
def import_employees(request: AgentRequest) -> HttpResponse:
    """Upload shows a preview with every row's problems; "Import" re-checks everything
    and writes all rows in one transaction, or none."""
    form = ImportForm(_posted(request), request.FILES or None)
    context: dict[str, object] = {"form": form}
    if request.method == "POST" and form.is_valid():
        brand = request.agent.brand
        csv_text = form.cleaned_data["csv_text"]
        preview = imports.preview(brand, csv_text)
        context.update(preview=preview, csv_text=csv_text)
        if "import" in request.POST and preview.ok:
            try:
                added = actions.do_import_employees(brand, preview.employees, actor=request.agent)
            except actions.DuplicateEmployee as error:
                context["import_error"] = f"Nothing was imported. {error}"
            else:
                messages.success(
                    request,
                    _("Imported %(added)s employees; each got an e-mail.") % {"added": len(added)},
                )
                return redirect("agents:team")
    return render(request, "agents/import.html", context)


def _posted(request: HttpRequest) -> QueryDict | None:
    """The form's data on POST, even an empty one (so it shows "required"); else None."""
    return request.POST if request.method == "POST" else None


def _checked_employee(form: EmployeeForm, brand: Brand) -> actions.NewEmployee | None:
    """The form's employee once no one has their id, e-mail or handle and X knows the
    handle; else None, with the reasons added to the form."""
    data = form.cleaned_data
    errors = queries.find_duplicates(
        brand, employee_id=data["employee_id"], email=data["email"], x_handle=data["x_handle"]
    )
    if errors:
        _add_errors(form, errors)
        return None
    try:
        account = xhandles.look_up(data["x_handle"], brand)
    except xhandles.XUnavailable as error:
        form.add_error("x_handle", str(error))
        return None
    if account is None:
        form.add_error(
            "x_handle",
            _("X has no user @%(x_handle)s. Check the spelling.") % {"x_handle": data["x_handle"]},
        )
        return None
    return actions.NewEmployee(
        employee_id=data["employee_id"],
        name=data["name"],
        email=data["email"],
        x_handle=account.username,
        x_user_id=account.id,
        initials=data["initials"],
        role=data.get("role", Role.AGENT),
    )


def _add_errors(form: EmployeeForm, errors: dict[str, str]) -> None:
    for field, message in errors.items():
        form.add_error(field if field in form.fields else None, message)


# --- the team page, approvals ---------------------------------------------------------------


@require_GET
@role_required(SUPERVISORS)
@vary_on_headers("HX-Request")
def team(request: AgentRequest) -> HttpResponse:
    brand = request.agent.brand
    state = request.GET.get("state", AgentState.ACTIVE)
    if state not in (AgentState.ACTIVE, AgentState.DEACTIVATED):
        state = AgentState.ACTIVE
    after = queries.NameCursor.decode(request.GET.get("after", ""))
    members, next_cursor = queries.team_page(brand, state, after)
    context = {
        "members": members,
        "state": state,
        "states": [
            (AgentState.ACTIVE, AgentState.ACTIVE.label),
            (AgentState.DEACTIVATED, AgentState.DEACTIVATED.label),
        ],
        "next_cursor": next_cursor.encode() if next_cursor else None,
        "filters": urlencode({"state": state}),
        "pending": [] if after else queries.pending_registrations(brand),
        "refused_claims": [] if after else queries.refused_x_claims(brand),
        "refused_sign_ins": [] if after else queries.refused_sign_ins(brand),
    }
    template = "agents/team.html#members" if request.htmx else "agents/team.html"
    return render(request, template, context)


@require_POST
@role_required(SUPERVISORS)
def approve(request: AgentRequest) -> HttpResponse:
    form = PickForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("ids", [_("Nothing to approve.")])))
        return redirect("agents:team")
    ids = form.cleaned_data["ids"]
    approved = actions.do_approve(ids, actor=request.agent)
    if approved:
        names = ", ".join(f"{agent.name} (^{agent.credit_code})" for agent in approved)
        messages.success(request, _("Approved: %(names)s.") % {"names": names})
    _report_skipped(request, len(ids) - len(approved))
    return redirect("agents:team")


@require_POST
@role_required(SUPERVISORS)
def reject(request: AgentRequest) -> HttpResponse:
    form = PickForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("ids", [_("Nothing to reject.")])))
        return redirect("agents:team")
    ids = form.cleaned_data["ids"]
    rejected = actions.do_reject(ids, actor=request.agent)
    if rejected:
        messages.success(
            request,
            ngettext(
                "Rejected %(rejected)s registration.",
                "Rejected %(rejected)s registrations.",
                rejected,
            )
            % {"rejected": rejected},
        )
    _report_skipped(request, len(ids) - rejected)
    return redirect("agents:team")


def _report_skipped(request: HttpRequest, skipped: int) -> None:
    if skipped:
        messages.warning(
            request,
            ngettext(
                "%(skipped)s of those was no longer waiting (someone else approved or rejected "
                "it first).",
                "%(skipped)s of those were no longer waiting (someone else approved or rejected "
                "them first).",
                skipped,
            )
            % {"skipped": skipped},
        )


# --- profiles and changes to one employee ---------------------------------------------------


@require_GET
@role_required(ANY_EMPLOYEE)
@vary_on_headers("HX-Request")
def my_profile(request: AgentRequest) -> HttpResponse:
    return _profile(request, request.agent)


@require_GET
@role_required(SUPERVISORS)
@vary_on_headers("HX-Request")
def profile(request: AgentRequest, agent_id: int) -> HttpResponse:
    return _profile(request, access_agent(request.agent, agent_id))


def _profile(request: AgentRequest, agent: Agent) -> HttpResponse:
    after = queries.TimeCursor.decode(request.GET.get("after", ""))
    credits, next_cursor = queries.credits_page(agent, after)
    context = {
        "member": agent,
        "credits": credits,
        "next_cursor": next_cursor.encode() if next_cursor else None,
        "claims": [] if after else queries.open_claims(agent),
        "role_form": RoleForm(initial={"role": agent.role}),
        "is_self": agent.id == request.agent.id,
        "mentions": queries.mentions_of(agent) if agent.id == request.agent.id else [],
        # Supervisors' reviews of this employee's answers (inbox.quality.review): theirs to
        # see, and their supervisors'.
        "reviews": [] if after or request.htmx else review.reviews_of(agent),
        # The brands they may switch between: their own profile's full page shows it.
        "brands": (
            actions.brands_of(agent)
            if agent.id == request.agent.id and not (after or request.htmx)
            else []
        ),
        # Their security keys (agents.twofactor (5)): on profiles with two-factor on.
        "keys": twofactor.keys(agent) if agent.two_factor and not request.htmx else [],
        # Issue 21: their own time zone, on their own profile.
        "zone_form": TimeZoneForm(
            initial={"time_zone": agent.time_zone}, brand_zone=agent.brand.timezone
        ),
        # Issue 21: the language of their pages, on their own profile.
        "language_form": LanguageForm(initial={"language": agent.language}),
    }
    template = "agents/profile.html#credits" if request.htmx else "agents/profile.html"
    return xlink.allow_consent_page(render(request, template, context))


@require_POST
@role_required(ANY_EMPLOYEE)
def set_time_zone(request: AgentRequest) -> HttpResponse:
    """Issue 21: the employee picks the zone their pages show times in (their own only)."""
    agent = request.agent
    form = TimeZoneForm(request.POST, brand_zone=agent.brand.timezone)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["time_zone"]))
        return redirect("agents:me")
    actions.do_set_time_zone(agent, form.cleaned_data["time_zone"])
    zone = agent.time_zone or _("the brand's, %(zone)s") % {"zone": agent.brand.timezone}
    messages.success(
        request, _("Dates and times now show in %(value)s.") % {"value": zone.replace("_", " ")}
    )
    return redirect("agents:me")


@require_POST
@role_required(ANY_EMPLOYEE)
def set_language(request: AgentRequest) -> HttpResponse:
    """Issue 21: the employee picks the language of their pages (their own only)."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["language"]))
        return redirect("agents:me")
    agent = actions.do_set_language(request.agent, form.cleaned_data["language"])
    # The confirmation already in the new language (the browser's when none is picked).
    if agent.language:
        translation.activate(agent.language)
    else:
        translation.activate(translation.get_language_from_request(request))
    messages.success(request, _("Your pages now show in this language."))
    return redirect("agents:me")


@require_POST
@role_required(ADMINS)
def change_role(request: AgentRequest, agent_id: int) -> HttpResponse:
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pick agent, supervisor or admin."))
        return redirect("agents:profile", agent_id)
    try:
        agent = actions.do_change_role(agent_id, form.cleaned_data["role"], actor=request.agent)
    except ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s is now %(lower)s.")
            % {"name": agent.name, "lower": agent.get_role_display().lower()},
        )
    return redirect("agents:profile", agent_id)


@require_POST
@role_required(ADMINS)
def deactivate(request: AgentRequest, agent_id: int) -> HttpResponse:
    try:
        released = actions.do_deactivate(agent_id, actor=request.agent)
    except ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            ngettext(
                "Deactivated: they are logged out and cannot log in; %(released)s claimed "
                "thread went back to the queue.",
                "Deactivated: they are logged out and cannot log in; %(released)s claimed "
                "threads went back to the queue.",
                released,
            )
            % {"released": released},
        )
    return redirect("agents:profile", agent_id)


@require_POST
@role_required(ADMINS)
def reactivate(request: AgentRequest, agent_id: int) -> HttpResponse:
    try:
        agent = actions.do_reactivate(agent_id, actor=request.agent)
    except ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s can log in again, as ^%(credit_code)s.")
            % {"name": agent.name, "credit_code": agent.credit_code},
        )
    return redirect("agents:profile", agent_id)


# --- several brands (issue 16): which brands an employee works for ---------------------------


@require_http_methods(["GET", "POST"])
@role_required(SUPERVISORS)
def member_brands(request: AgentRequest, agent_id: int) -> HttpResponse:
    """The employee's brands. Admins give or take a brand they administer
    (agents.actions.do_grant_brand / do_take_brand); supervisors may look; anyone else
    403, another brand's employee 404."""
    if request.method == "POST" and not request.agent.is_admin:  # the role first, as 403
        raise PermissionDenied(gettext("Only admins give or take a brand."))
    member = access_member(request.agent, agent_id)
    if request.method == "POST":
        _give_or_take(request, member)
        return redirect("agents:brands", member.id)
    theirs = {brand.id for brand in actions.brands_of(member)}
    mine = {brand.id for brand in actions.administered_brands(request.agent)}
    listed = Brand.objects.filter(id__in=theirs | mine).order_by("name", "id")
    rows = [
        {
            "brand": brand,
            "theirs": brand.id in theirs,
            "now": brand.id == member.brand_id,
            "mine": brand.id in mine,
        }
        for brand in listed
    ]
    return render(request, "agents/brands.html", {"member": member, "rows": rows})


def _give_or_take(request: AgentRequest, member: Agent) -> None:
    try:
        brand_id = int(request.POST.get("brand", ""))
    except ValueError:
        messages.error(request, gettext("Pick a brand to give or take."))
        return
    give = request.POST.get("do") == "give"
    try:
        if give:
            actions.do_grant_brand(member.id, brand_id, actor=request.agent)
        else:
            actions.do_take_brand(member.id, brand_id, actor=request.agent)
    except ActionError as error:
        messages.error(request, str(error))
        return
    handle = Brand.objects.get(id=brand_id).handle
    done = (
        gettext("%(name)s now works for @%(handle)s too.")
        if give
        else gettext("%(name)s no longer works for @%(handle)s.")
    )
    messages.success(request, done % {"name": member.name, "handle": handle})


# --- training mode (inbox.training) ------------------------------------------------------------


@require_GET
@role_required(SUPERVISORS)
def training(request: AgentRequest) -> HttpResponse:
    """The live brand's trainees, what they have practised, and "mark ready"."""
    return render(
        request, "agents/training.html", {"trainees": queries.trainees(request.agent.brand)}
    )


@require_POST
@role_required(SUPERVISORS)
def start_training(request: AgentRequest, agent_id: int) -> HttpResponse:
    try:
        agent = actions.do_start_training(agent_id, actor=request.agent)
    except ActionError as error:
        messages.error(request, str(error))
        return redirect("agents:profile", agent_id)
    messages.success(
        request,
        _(
            "%(name)s is in training: they answer simulated customers as @%(handle)s; nothing "
            "they send reaches @%(handle2)s."
        )
        % {"name": agent.name, "handle": agent.brand.handle, "handle2": request.agent.brand.handle},
    )
    return redirect("agents:training")


@require_POST
@role_required(SUPERVISORS)
def mark_ready(request: AgentRequest, agent_id: int) -> HttpResponse:
    # A trainee of the brand, or an employee of it (marked ready already: told so); anyone
    # else, of another brand or none, is a 404 as everywhere else.
    brand = request.agent.brand
    ours = Q(brand=brand) | Q(brand__training_for=brand)
    if not Agent.objects.filter(ours, id=agent_id).exists():
        raise Http404(_("No such employee."))
    try:
        agent = actions.do_mark_ready(agent_id, actor=request.agent)
    except ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s is live, credited ^%(credit_code)s.")
            % {"name": agent.name, "credit_code": agent.credit_code},
        )
    return redirect("agents:training")


@require_GET
@role_required(SUPERVISORS)
def practice_review(request: AgentRequest, agent_id: int) -> HttpResponse:
    """A trainee's practice, read-only, for the supervisors of their live brand: the
    training threads they answered, each conversation with every reply, and the rubric's
    reviews, so "mark ready" is decided on what they wrote. Anyone else's: 404."""
    trainee = (
        Agent.objects.select_related("brand")
        .filter(id=agent_id, brand__training_for=request.agent.brand_id)
        .first()
    )
    if trainee is None:
        raise Http404(_("No such trainee."))
    threads = queries.practice_threads(trainee)
    conversations = [(t, inbox_queries.conversation(t)) for t in threads]
    context = {
        "trainee": trainee,
        "conversations": conversations,
        "reviews": review.reviews_of(trainee),
    }
    return render(request, "agents/practice.html", context)


@require_POST
@role_required(ANY_EMPLOYEE)
def practice(request: AgentRequest) -> HttpResponse:
    """A trainee brings a few simulated customers to their training queue."""
    brand = request.agent.brand
    if not brand.is_training:
        raise PermissionDenied(_("Practice customers are for trainees only."))
    try:
        made = training_mode.practice(brand, seed=secrets.randbits(32))
    except ActionError as error:  # the X sandbox is down or refuses: said, never a crash page
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(made)s practice tweets are on their way to @%(handle)s (a few seconds).")
            % {"made": made, "handle": brand.handle},
        )
    return redirect("inbox:queue")


@require_POST
@role_required(ANY_EMPLOYEE)
def switch_brand(request: AgentRequest) -> HttpResponse:
    """Issue 16: work in another of one's brands (agents.actions.do_switch_brand)."""
    try:
        brand_id = int(request.POST.get("brand", ""))
    except ValueError:
        messages.error(request, _("Pick one of your brands."))
        return redirect("agents:me")
    try:
        agent = actions.do_switch_brand(request.agent, brand_id)
    except ActionError as error:
        messages.error(request, str(error))
        return redirect("agents:me")
    messages.success(request, _("You now work in @%(handle)s.") % {"handle": agent.brand.handle})
    return redirect("inbox:queue")
