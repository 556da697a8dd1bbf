from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms
from django.conf import settings
from django.utils.dates import WEEKDAYS
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop, pgettext_lazy
from django.utils.translation import gettext as _

from inbox.ingest import autoreply
from inbox.models import Brand, Channel, Customer, Source, ThreadStatus, Verb
from inbox.rules import sla
from inbox.rules.canned import TemplateError, check_template
from inbox.rules.routing import LANGUAGES
from inbox.rules.text import MAX_WEIGHTED_LENGTH, is_hashtag
from inbox.search.find import Filters as SearchFilters
from inbox.search.terms import Refused, Terms
from inbox.search.terms import parse as parse_terms

if TYPE_CHECKING:
    from agents.models import Agent


class ReplyForm(forms.Form):
    """Parses the reply box. Length with the credit is checked by the action (it knows
    the agent's credit); the cap here only stops absurd payloads."""

    text = forms.CharField(
        label=gettext_lazy("Reply"),
        max_length=2000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "data-counter": "reply"}),
    )
    # One per rendered form: a double submit or a stale resubmit posts once.
    client_token = forms.UUIDField(widget=forms.HiddenInput)
    # The digest of the personal data the agent was warned about and confirmed as public
    # (inbox.rules.pii): a confirmation covers exactly what was shown, not a later edit.
    confirm_personal_data = forms.CharField(required=False, max_length=64)
    # Issue 15: the newest message of the thread when the form was drawn (or re-drawn after
    # "@kim wrote again"): a newer one holds Send until the agent has seen it.
    written_against = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class CannedAnswerForm(forms.Form):
    title = forms.CharField(max_length=100)
    text = forms.CharField(
        max_length=1000,
        error_messages={"required": gettext_lazy("A canned answer needs some text.")},
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Placeholders: {customer} (their first name), {agent} (yours)."),
    )

    def clean_text(self) -> str:
        try:
            return check_template(self.cleaned_data["text"])
        except TemplateError as error:
            raise forms.ValidationError(str(error)) from None


class NoteForm(forms.Form):
    prefix = "note"  # the thread page has the reply box's "text" too
    text = forms.CharField(
        label=gettext_lazy("Internal note"),
        max_length=2000,
        error_messages={"required": gettext_lazy("The note is empty.")},
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": gettext_lazy("Only colleagues see this.")}
        ),
    )


class ProposalForm(forms.Form):
    text = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
        label=gettext_lazy("Your tweet"),
        help_text=gettext_lazy(
            "Posted from the brand with your credit once a supervisor approves it."
        ),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False)


class AuditFilter(forms.Form):
    """The audit trail's filters: who, what, which thread, when (in the brand's time
    zone); inbox.queries.audit_events applies them."""

    actor = forms.ChoiceField(required=False, label=gettext_lazy("Who"))
    verb = forms.ChoiceField(required=False, label=gettext_lazy("What happened"))
    thread = forms.IntegerField(required=False, min_value=1, label=gettext_lazy("Thread #"))
    since = forms.DateTimeField(
        required=False,
        label=gettext_lazy("Since"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = forms.DateTimeField(
        required=False,
        label=gettext_lazy("Until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, data: object, *, agents: list[Agent]) -> None:
        super().__init__(data)
        self.fields["actor"].choices = [
            ("", _("Anyone")),
            ("system", _("System (poller, sweeps)")),
            *[(str(a.id), f"{a.name} ^{a.credit_code or a.initials}") for a in agents],
        ]
        self.fields["verb"].choices = [("", _("Any")), *sorted(Verb.choices, key=lambda c: c[1])]

    def filters(self) -> dict[str, object]:
        """The valid filters; none at all when any is invalid (the whole trail shows)."""
        return self.cleaned_data if self.is_valid() else {}

    def query_string(self) -> str:
        """The filters as given, for the "More" row and the CSV link."""
        keep = {k: v for k, v in (self.data or {}).items() if k in self.fields and v}
        return urlencode(keep)


# --- the brand's settings (inbox.brand_settings) -------------------------------------

EXAMPLE_HOURS = '{"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]}'
DEFAULT_TEXT = (
    "Thanks for writing! Our team is away right now; a person will answer you {next_open}."
)


# Django's own day names (django.utils.dates: lazy, translated by Django's catalogue).
DAY_NAMES = dict(zip(sla.DAYS, (WEEKDAYS[i] for i in range(7)), strict=True))


def _zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


def _retention_days(label: str, help_text: str) -> forms.IntegerField:
    """A brand's retention in days (1..3650); empty: the deployment's default."""
    return forms.IntegerField(
        required=False, min_value=1, max_value=3650, label=label, help_text=help_text
    )


class BrandSettingsForm(forms.Form):
    """The brand page posts the weekly editor (hours_editor=1, per day hours-<day>-open,
    -start, -end and -more, the day's further spans as JSON); business_hours as JSON is
    still read when the editor is not in the post."""

    timezone = forms.CharField(
        max_length=64,
        label=gettext_lazy("Time zone"),
        widget=forms.Select(choices=_zone_choices),
        help_text=gettext_lazy("Business hours and the auto-reply's times are in this zone."),
    )
    business_hours = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=format_lazy(
            gettext_lazy(
                "JSON, days mon…sun, each a list of [start, end] in 24-hour HH:MM; e.g. {hours}. "
                "A day left out is closed; empty means always open."
            ),
            hours=EXAMPLE_HOURS,
        ),
    )
    auto_reply_enabled = forms.BooleanField(
        required=False,
        label=gettext_lazy("Auto-reply (opt-in)"),
        help_text=(
            gettext_lazy(
                "Off until you turn it on. X's automation rules require a person's explicit "
                "consent before automated replies or DMs, so it answers only someone who wrote "
                "to the brand themselves (mentioned it or replied to it), once per customer per "
                "window, in public, when closed or when nobody is online; it never sends anyone "
                "a DM and never answers a listening match."
            )
        ),
    )
    auto_reply_text = forms.CharField(
        required=False,
        max_length=280,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            gettext_lazy(
                "Posted after the customer's @handle. {next_open} becomes when a person will "
                "answer (e.g. “tomorrow at 09:00 CET”, or “shortly” when open)."
            )
        ),
    )

    x_access = forms.ChoiceField(
        choices=Brand.XAccess.choices,
        required=False,  # left out: self-serve, X's default access
        label=gettext_lazy("X access level"),
        help_text=(
            gettext_lazy(
                "Your X developer access. Self-serve apps may reply in public only to posts that "
                "mentioned or quoted the brand (X's rule since 23 Feb 2026): on other threads "
                "the reply box offers a DM and says why. Enterprise is exempt."
            )
        ),
    )

    relay_hashtag = forms.CharField(
        required=False,
        max_length=50,
        label=gettext_lazy("Relay hashtag"),
        help_text=(
            gettext_lazy(
                "Employees who tag their own answer to a customer with it (e.g. #AcmeHelp) get "
                "it reposted from the brand with their credit. Empty turns the relay off."
            )
        ),
    )

    survey_enabled = forms.BooleanField(
        required=False,
        label=gettext_lazy("Satisfaction survey"),
        help_text=(
            gettext_lazy(
                "After a close, send the customer one DM with a link to rate the conversation "
                "1-5 (only where a DM conversation with them exists)."
            )
        ),
    )

    # Data retention (inbox.data.retention): days, or empty for the deployment's default.
    retain_closed_threads = _retention_days(
        gettext_lazy("Keep closed threads' messages and notes (days)"),
        gettext_lazy("Then the daily sweep deletes them; the thread, replies and audit stay."),
    )
    retain_raw_payloads = _retention_days(
        gettext_lazy("Keep X's raw payloads (days)"),
        gettext_lazy("The JSON X sent with each message; then emptied."),
    )
    retain_quarantine = _retention_days(
        gettext_lazy("Keep quarantined payloads (days)"),
        gettext_lazy("What X sent that Twelp could not use; then deleted."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for kind, days in settings.RETENTION_DEFAULT_DAYS.items():
            field = self.fields[f"retain_{kind}"]
            field.widget.attrs["placeholder"] = str(days)
            field.help_text += f" Empty: this deployment's default, {days} days."

    def _clean_days(self, name: str) -> timedelta | None:
        days = self.cleaned_data[name]
        return timedelta(days=days) if days else None

    def clean_retain_closed_threads(self) -> timedelta | None:
        return self._clean_days("retain_closed_threads")

    def clean_retain_raw_payloads(self) -> timedelta | None:
        return self._clean_days("retain_raw_payloads")

    def clean_retain_quarantine(self) -> timedelta | None:
        return self._clean_days("retain_quarantine")

    def clean_relay_hashtag(self) -> str:
        typed = self.cleaned_data["relay_hashtag"].strip()
        tag = typed.removeprefix("#")
        if typed and not is_hashtag(tag):
            raise forms.ValidationError(
                _(
                    "Not a hashtag X knows: use letters, digits and _ (no spaces), not only "
                    "digits, at most 49 characters, e.g. AcmeHelp."
                )
            )
        return tag

    def clean_x_access(self) -> str:
        return self.cleaned_data["x_access"] or Brand.XAccess.SELF_SERVE

    def clean_timezone(self) -> str:
        name = self.cleaned_data["timezone"].strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            name = None
        if not name or name not in available_timezones():
            raise forms.ValidationError(
                _("Unknown time zone; use a name such as Europe/Paris or America/New_York.")
            )
        return name

    def clean_business_hours(self) -> dict:
        if self.data.get("hours_editor"):
            return self._hours_from_editor()
        raw = self.cleaned_data["business_hours"].strip()
        if not raw:
            return {}
        try:
            hours = json.loads(raw)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                _("Not valid JSON: %(msg)s (line %(lineno)s).")
                % {"msg": error.msg, "lineno": error.lineno}
            ) from None
        if not isinstance(hours, dict):
            raise forms.ValidationError(
                _("Expected an object such as %(EXAMPLE_HOURS)s.")
                % {"EXAMPLE_HOURS": EXAMPLE_HOURS}
            )
        return {day: _spans(day, spans) for day, spans in hours.items()}

    def _hours_from_editor(self) -> dict:
        if self.data.get("hours-always"):
            return {}  # no business hours: always open
        hours = {day: _editor_day(self.data, day) for day in sla.DAYS}
        hours = {day: _spans(day, spans) for day, spans in hours.items() if spans}
        if not hours:
            raise forms.ValidationError(_("Tick the days you are open, or choose “Always open”."))
        return hours

    def always_open(self) -> bool:
        if self.is_bound and self.data.get("hours_editor"):
            return bool(self.data.get("hours-always"))
        return not self.initial.get("business_hours")

    def editor_days(self) -> list[dict[str, object]]:
        """The weekly editor's rows: each day's first span, and its further ones kept."""
        if self.is_bound and self.data.get("hours_editor"):
            return [
                {
                    "key": day,
                    "name": DAY_NAMES[day],
                    "open": bool(self.data.get(f"hours-{day}-open")),
                    "start": self.data.get(f"hours-{day}-start") or "09:00",
                    "end": self.data.get(f"hours-{day}-end") or "17:00",
                    "more": self.data.get(f"hours-{day}-more") or "",
                }
                for day in sla.DAYS
            ]
        raw = self.initial.get("business_hours") or ""
        hours = json.loads(raw) if raw else {}
        rows = []
        for day in sla.DAYS:
            spans = hours.get(day) or []
            first = spans[0] if spans else ["09:00", "17:00"]
            rows.append(
                {
                    "key": day,
                    "name": DAY_NAMES[day],
                    "open": bool(spans) or not hours,
                    "start": first[0],
                    "end": first[1],
                    "more": json.dumps(spans[1:]) if len(spans) > 1 else "",
                }
            )
        if not hours:  # always open: the days below are a starting point (Mon-Fri, 9-5)
            for row in rows:
                row["open"] = row["key"] not in ("sat", "sun")
        return rows

    def clean(self) -> dict:
        data = super().clean()
        text = (data.get("auto_reply_text") or "").strip()
        if data.get("auto_reply_enabled") and not text:
            self.add_error("auto_reply_text", _("Write the auto-reply, or turn auto-reply off."))
        elif text and autoreply.PLACEHOLDER not in text:
            self.add_error(
                "auto_reply_text",
                _("Include %(PLACEHOLDER)s so customers know when a person will answer.")
                % {"PLACEHOLDER": autoreply.PLACEHOLDER},
            )
        elif text and (length := autoreply.longest_length(text)) > MAX_WEIGHTED_LENGTH:
            over = length - MAX_WEIGHTED_LENGTH
            self.add_error(
                "auto_reply_text",
                _(
                    "Too long for X by %(over)s at its longest (%(length)s/%(limit)s, "
                    "counting a 15-character @handle and the longest opening time)."
                )
                % {"over": over, "length": length, "limit": MAX_WEIGHTED_LENGTH},
            )
        data["auto_reply_text"] = text
        return data


def _editor_day(data, day: str) -> list[list[str]]:
    if not data.get(f"hours-{day}-open"):
        return []
    start, end = data.get(f"hours-{day}-start", ""), data.get(f"hours-{day}-end", "")
    if not start or not end:
        raise forms.ValidationError(
            _("%(day)s: give an opening and a closing time.") % {"day": DAY_NAMES[day]}
        )
    try:
        more = json.loads(data.get(f"hours-{day}-more") or "[]")
    except json.JSONDecodeError:
        more = []
    return [[start[:5], end[:5]], *(more if isinstance(more, list) else [])]


def _spans(day: str, spans: object) -> list[list[str]]:
    if day not in sla.DAYS:
        raise forms.ValidationError(
            _("“%(day)s” is not a day; use %(DAYS)s.") % {"day": day, "DAYS": ", ".join(sla.DAYS)}
        )
    if not isinstance(spans, list):
        raise forms.ValidationError(
            _("%(day)s: expected a list of [start, end] pairs.") % {"day": day}
        )
    out = []
    for span in spans:
        if not (isinstance(span, list) and len(span) == 2):
            raise forms.ValidationError(
                _('%(day)s: each span is [start, end]: ["09:00", "17:00"].') % {"day": day}
            )
        start, end = (_minutes(day, value) for value in span)
        if start >= 24 * 60 or end <= start:
            raise forms.ValidationError(
                _("%(day)s: %(span)s–%(span2)s must end after it starts.")
                % {"day": day, "span": span[0], "span2": span[1]}
            )
        out.append([str(span[0]), str(span[1])])
    out.sort()
    for before, after in zip(out, out[1:], strict=False):
        if _minutes(day, after[0]) < _minutes(day, before[1]):
            raise forms.ValidationError(
                _("%(day)s: %(before)s and %(after)s overlap.")
                % {"day": day, "before": before, "after": after}
            )
    return out


def _minutes(day: str, value: object) -> int:
    text = str(value)
    try:
        hours, minutes = (int(part) for part in text.split(":"))
    except ValueError:
        hours = minutes = -1
    if len(text) != 5 or not (0 <= minutes < 60 and 0 <= hours <= 24) or (hours == 24 and minutes):
        raise forms.ValidationError(
            _("%(day)s: “%(text)s” is not a time; use HH:MM (00:00–24:00).")
            % {"day": day, "text": text}
        )
    return hours * 60 + minutes


class CustomerDataForm(forms.Form):
    """An admin's export or erasure of one customer (inbox.data.erasure)."""

    who = forms.CharField(
        max_length=32,
        label=gettext_lazy("X handle or X user id"),
        help_text=gettext_lazy("For example @kim or 42."),
    )
    action = forms.ChoiceField(
        choices=[("export", gettext_lazy("Export (JSON)")), ("erase", gettext_lazy("Erase"))],
        widget=forms.RadioSelect,
    )
    confirm = forms.BooleanField(
        required=False,
        label=gettext_lazy("Yes, erase this customer's messages, profile and tags for good."),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if data.get("action") == "erase" and not data.get("confirm"):
            self.add_error(
                "confirm", _("Tick the box to confirm the erasure: it cannot be undone.")
            )
        return data


class ApiTokenForm(forms.Form):
    """An admin's new API token (inbox.integrations.tokens)."""

    name = forms.CharField(
        max_length=100, help_text=gettext_lazy("The system that will use it, e.g. “CRM”.")
    )
    scope = forms.ChoiceField(
        choices=[
            ("read", gettext_lazy("Read only")),
            ("write", gettext_lazy("Read, and add notes and tags")),
        ]
    )
    expires_in_days = forms.IntegerField(
        min_value=1, max_value=3650, required=False, help_text=gettext_lazy("Empty: until revoked.")
    )
    dms = forms.BooleanField(
        required=False,
        label=gettext_lazy("Include direct messages"),
        help_text=gettext_lazy(
            "Unticked: the token never sees DM threads (list, read, search, events)."
        ),
    )


class WebhookForm(forms.Form):
    """An admin's new webhook endpoint (inbox.integrations.webhooks checks the address)."""

    url = forms.URLField(max_length=500, label=gettext_lazy("Endpoint URL"), assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, label=gettext_lazy("Send these events")
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        from inbox.integrations.webhooks import EVENT_TYPES

        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["event_types"].choices = EVENT_TYPES


_SCORES = [(n, str(n)) for n in range(1, 6)]


class ReviewForm(forms.Form):
    """A supervisor's score of one answer (inbox.quality.review.RUBRIC)."""

    accuracy = forms.TypedChoiceField(
        choices=_SCORES,
        coerce=int,
        widget=forms.RadioSelect,
        label=gettext_lazy("Right and complete"),
    )
    tone = forms.TypedChoiceField(
        choices=_SCORES,
        coerce=int,
        widget=forms.RadioSelect,
        label=gettext_lazy("Human, kind, in the brand's voice"),
    )
    policy = forms.TypedChoiceField(
        choices=_SCORES,
        coerce=int,
        widget=forms.RadioSelect,
        label=gettext_lazy("No personal data in public; a DM offered where needed"),
    )
    feedback = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class SampleForm(forms.Form):
    """Which answers to sample for review."""

    agent = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    days = forms.IntegerField(min_value=1, max_value=90, initial=7, required=False)
    channel = forms.ChoiceField(
        choices=[
            ("", gettext_lazy("Both")),
            ("tweet", gettext_lazy("Public tweets")),
            ("dm", gettext_lazy("Direct messages")),
        ],
        required=False,
    )
    count = forms.IntegerField(min_value=1, max_value=50, initial=10, required=False)

    def __init__(self, *args: object, agents: list[Agent], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["agent"].choices = [("", _("Anyone")), *((a.id, a.name) for a in agents)]


# --- search (inbox.search) -----------------------------------------------------------


def _later(message: str, **values: object) -> str:
    """`message` translated when shown (these fields are built at import time), its
    values put in then too (they may be lazy words themselves)."""
    return lazy(lambda: gettext(message) % {k: str(v) for k, v in values.items()}, str)()


def _search_date(label: str) -> forms.DateField:
    return forms.DateField(
        required=False,
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
        error_messages={
            "invalid": _later(
                gettext_noop("“%(label)s” is not a day: write it as YYYY-MM-DD."), label=label
            )
        },
    )


def _search_choice(label: str, what: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        required=False,
        label=label,
        error_messages={
            "invalid_choice": _later(
                gettext_noop("There is no %(what)s “%%(value)s” to search by."), what=what
            )
        },
    )


class SearchForm(forms.Form):
    """The search page's box and filters, and the API's (inbox.api.v1.search): `terms()`
    and `filters()` once valid. The box itself is checked by inbox.search.terms (length,
    nothing searchable). Every filter that cannot be searched is an error naming it (a
    date that is no day or out of FIRST_DAY..LAST_DAY, "until" before "since", a status,
    channel, source or employee not in the lists, another brand's customer), never an
    exception deeper down."""

    FIRST_DAY = date(2006, 3, 21)  # X's first tweet: nothing to find before it
    LAST_DAY = date(2999, 12, 31)  # far past any tweet, short of datetime's year 9999

    q = forms.CharField(required=False, strip=False, label=gettext_lazy("Search"))
    status = _search_choice(gettext_lazy("Status"), gettext_lazy("status"))
    source = _search_choice(pgettext_lazy("search filter", "From"), gettext_lazy("source"))
    channel = _search_choice(gettext_lazy("Channel"), gettext_lazy("channel"))
    lang = _search_choice(gettext_lazy("Language"), gettext_lazy("language"))
    agent = _search_choice(gettext_lazy("Employee"), gettext_lazy("employee"))
    since = _search_date(gettext_lazy("Since"))
    until = _search_date(gettext_lazy("Until"))
    customer = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        widget=forms.HiddenInput,
        error_messages={
            "invalid": gettext_lazy("“customer” is not a customer's number."),
            "min_value": gettext_lazy("“customer” is not a customer's number."),
            "max_value": gettext_lazy("“customer” is not a customer's number."),
        },
    )
    has_image = forms.BooleanField(required=False, label=gettext_lazy("With images"))

    def __init__(
        self, data: object, *, agents: list[Agent], sources: list[Source], brand_id: int
    ) -> None:
        super().__init__(data)
        self.brand_id = brand_id
        self.customer: Customer | None = None  # the customer scoped to, once valid
        self.fields["q"].validators.clear()  # NUL: dropped by inbox.search.terms, rule 3
        self.fields["status"].choices = [("", _("Any status")), *ThreadStatus.choices]
        self.fields["source"].choices = [
            ("", _("Any source")),
            *[(str(s.id), str(s)) for s in sources],
        ]
        self.fields["channel"].choices = [("", _("Tweets and DMs")), *Channel.choices]
        self.fields["lang"].choices = [
            ("", _("Any language")),
            *sorted(LANGUAGES.items(), key=lambda item: item[1]),
        ]
        self.fields["agent"].choices = [
            ("", _("Anyone")),
            *[(str(a.id), f"{a.name} ^{a.credit_code or a.initials}") for a in agents],
        ]

    def clean_since(self) -> date | None:
        return self._day("since", _("Since"))

    def clean_until(self) -> date | None:
        return self._day("until", _("Until"))

    def _day(self, name: str, label: str) -> date | None:
        day = self.cleaned_data[name]
        if day is not None and not self.FIRST_DAY <= day <= self.LAST_DAY:
            raise forms.ValidationError(
                _("“%(label)s” must be a day from %(FIRST_DAY)s to %(LAST_DAY)s.")
                % {
                    "label": label,
                    "FIRST_DAY": format(self.FIRST_DAY, "%Y-%m-%d"),
                    "LAST_DAY": format(self.LAST_DAY, "%Y"),
                }
            )
        return day

    def clean_customer(self) -> int | None:
        customer_id = self.cleaned_data["customer"]
        if customer_id is None:
            return None
        # another brand's customer is "no such customer" here, as everywhere
        self.customer = Customer.objects.filter(id=customer_id, brand_id=self.brand_id).first()
        if self.customer is None:
            raise forms.ValidationError(_("There is no such customer to search by."))
        return customer_id

    def clean_q(self) -> Terms:
        try:
            return parse_terms(self.cleaned_data["q"])
        except Refused as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self) -> dict[str, object]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("“Until” is before “since”."))
        return data

    def terms(self) -> Terms:
        return self.cleaned_data["q"]

    def filters(self) -> SearchFilters:
        data = self.cleaned_data
        return SearchFilters(
            status=data["status"],
            source_id=int(data["source"]) if data["source"] else None,
            channel=data["channel"],
            agent_id=int(data["agent"]) if data["agent"] else None,
            since=data["since"],
            until=data["until"],
            customer_id=data["customer"],
            has_image=data["has_image"],
            lang=data["lang"],
        )

    def asked(self) -> bool:
        """Anything typed or chosen: an empty page shows the form alone."""
        return any(self.data.get(name) for name in self.fields)

    def query_string(self) -> str:
        """The search as given, for the "More" row."""
        keep = {k: v for k, v in (self.data or {}).items() if k in self.fields and v}
        return urlencode(keep)


# --- administration in the app (inbox.configure) ---------------------------------------------

SOURCE_KINDS = [
    ("mentions", "Mentions of the brand"),
    ("search", "Listening query (X's search syntax)"),
    ("dms", "Direct messages"),
]


class SourceForm(forms.Form):
    kind = forms.ChoiceField(choices=SOURCE_KINDS)
    query = forms.CharField(
        required=False,
        max_length=2000,  # X's 512 is checked with X's reason (inbox.rules.xquery)
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
        help_text=(
            gettext_lazy(
                'Listening queries only, in X\'s syntax, e.g. acme -is:retweet or "acme support".'
            )
        ),
    )
    interval_seconds = forms.IntegerField(
        min_value=5,
        max_value=3600,
        initial=15,
        label=gettext_lazy("Poll every (seconds)"),
        help_text=(
            gettext_lazy(
                "Each poll is one request from this endpoint's 15-minute budget "
                "(and one per extra page)."
            )
        ),
    )
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: object, kinds: list[tuple[str, str]] | None = None, **kw: object):
        super().__init__(*args, **kw)
        if kinds is not None:
            self.fields["kind"].choices = kinds

    def clean(self) -> dict:
        from inbox.rules import xquery

        data = super().clean()
        if data.get("kind") == "search":
            try:
                data["query"] = xquery.check(data.get("query") or "")
            except xquery.QueryError as error:
                self.add_error("query", str(error))
        else:
            data["query"] = ""
        return data


class RulesForm(forms.Form):
    sla_first_response_minutes = forms.IntegerField(
        min_value=1, max_value=7 * 24 * 60, label=gettext_lazy("First response target (minutes)")
    )
    sla_resolution_minutes = forms.IntegerField(
        min_value=1, max_value=30 * 24 * 60, label=gettext_lazy("Resolution target (minutes)")
    )
    urgent_keywords = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One per line or comma-separated; a tweet with one ranks higher (+50)."
        ),
    )
    credit_format = forms.ChoiceField(choices=[])
    employee_id_pattern = forms.CharField(
        max_length=200,
        label=gettext_lazy("Employee-id pattern"),
        help_text=gettext_lazy(
            r"A regular expression every employee id must match, e.g. ^E-\d{4}$."
        ),
    )

    def __init__(self, *args: object, **kw: object) -> None:
        from inbox.models import Brand

        super().__init__(*args, **kw)
        self.fields["credit_format"].choices = Brand.CreditFormat.choices

    def clean_urgent_keywords(self) -> list[str]:
        raw = self.cleaned_data["urgent_keywords"].replace("\n", ",")
        words = []
        for word in (w.strip().lower() for w in raw.split(",")):
            if word and word not in words:
                if len(word) > 50:
                    raise forms.ValidationError(
                        _("“%(word)s…” is over 50 characters.") % {"word": word[:20]}
                    )
                words.append(word)
        return words

    def clean_employee_id_pattern(self) -> str:
        import re

        pattern = self.cleaned_data["employee_id_pattern"].strip()
        try:
            re.compile(pattern)
        except re.error as error:
            raise forms.ValidationError(
                _("Not a regular expression: %(error)s.") % {"error": error}
            ) from None
        return pattern

    def clean(self) -> dict:
        from datetime import timedelta

        data = super().clean()
        first, resolution = (
            data.get("sla_first_response_minutes"),
            data.get("sla_resolution_minutes"),
        )
        if first and resolution and resolution < first:
            self.add_error(
                "sla_resolution_minutes",
                _("The resolution target cannot be before the first response."),
            )
        if first:
            data["sla_first_response"] = timedelta(minutes=first)
        if resolution:
            data["sla_resolution"] = timedelta(minutes=resolution)
        return data
