from __future__ import annotations

import json
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms

from inbox.ingest import autoreply
from inbox.rules import sla
from inbox.rules.canned import TemplateError, check_template
from inbox.rules.text import MAX_WEIGHTED_LENGTH, is_hashtag


class ReplyForm(forms.Form):
    """Parses the reply box. Length with the credit is checked by the action (it knows
    the agent's credit); the cap here only stops absurd payloads."""

    text = forms.CharField(
        label="Reply",
        max_length=2000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "data-counter": "reply"}),
    )
    # One per rendered form: a double submit or a stale resubmit posts once.
    client_token = forms.UUIDField(widget=forms.HiddenInput)
    # The digest of the personal data the agent was warned about and confirmed as public
    # (inbox.rules.pii): a confirmation covers exactly what was shown, not a later edit.
    confirm_personal_data = forms.CharField(required=False, max_length=64)


class CannedAnswerForm(forms.Form):
    title = forms.CharField(max_length=100)
    text = forms.CharField(
        max_length=1000,
        error_messages={"required": "A canned answer needs some text."},
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Placeholders: {customer} (their first name), {agent} (yours).",
    )

    def clean_text(self) -> str:
        try:
            return check_template(self.cleaned_data["text"])
        except TemplateError as error:
            raise forms.ValidationError(str(error)) from None


class NoteForm(forms.Form):
    prefix = "note"  # the thread page has the reply box's "text" too
    text = forms.CharField(
        label="Internal note",
        max_length=2000,
        error_messages={"required": "The note is empty."},
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Only colleagues see this."}),
    )


class ProposalForm(forms.Form):
    text = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
        label="Your tweet",
        help_text="Posted from the brand with your credit once a supervisor approves it.",
    )


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False)


# --- the brand's settings (inbox.brand_settings) -------------------------------------

EXAMPLE_HOURS = '{"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]}'
DEFAULT_TEXT = (
    "Thanks for writing! Our team is away right now; a person will answer you {next_open}."
)


class BrandSettingsForm(forms.Form):
    timezone = forms.CharField(
        max_length=64, help_text="An IANA time zone, e.g. Europe/Paris or America/New_York."
    )
    business_hours = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=(
            f"JSON, days mon…sun, each a list of [start, end] in 24-hour HH:MM; "
            f"e.g. {EXAMPLE_HOURS}. A day left out is closed; empty means always open."
        ),
    )
    auto_reply_enabled = forms.BooleanField(
        required=False,
        label="Auto-reply",
        help_text="Answer once per customer when closed, or when nobody is online.",
    )
    auto_reply_text = forms.CharField(
        required=False,
        max_length=280,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "Posted after the customer's @handle. {next_open} becomes when a person will "
            "answer (e.g. “tomorrow at 09:00 CET”, or “shortly” when open)."
        ),
    )

    relay_hashtag = forms.CharField(
        required=False,
        max_length=50,
        label="Relay hashtag",
        help_text=(
            "Employees who tag their own answer to a customer with it (e.g. #AcmeHelp) get "
            "it reposted from the brand with their credit. Empty turns the relay off."
        ),
    )

    def clean_relay_hashtag(self) -> str:
        typed = self.cleaned_data["relay_hashtag"].strip()
        tag = typed.removeprefix("#")
        if typed and not is_hashtag(tag):
            raise forms.ValidationError(
                "Not a hashtag X knows: use letters, digits and _ (no spaces), not only "
                "digits, at most 49 characters, e.g. AcmeHelp."
            )
        return tag

    def clean_timezone(self) -> str:
        name = self.cleaned_data["timezone"].strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            name = None
        if not name or name not in available_timezones():
            raise forms.ValidationError(
                "Unknown time zone; use a name such as Europe/Paris or America/New_York."
            )
        return name

    def clean_business_hours(self) -> dict:
        raw = self.cleaned_data["business_hours"].strip()
        if not raw:
            return {}
        try:
            hours = json.loads(raw)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                f"Not valid JSON: {error.msg} (line {error.lineno})."
            ) from None
        if not isinstance(hours, dict):
            raise forms.ValidationError(f"Expected an object such as {EXAMPLE_HOURS}.")
        return {day: _spans(day, spans) for day, spans in hours.items()}

    def clean(self) -> dict:
        data = super().clean()
        text = (data.get("auto_reply_text") or "").strip()
        if data.get("auto_reply_enabled") and not text:
            self.add_error("auto_reply_text", "Write the auto-reply, or turn auto-reply off.")
        elif text and autoreply.PLACEHOLDER not in text:
            self.add_error(
                "auto_reply_text",
                f"Include {autoreply.PLACEHOLDER} so customers know when a person will answer.",
            )
        elif text and (length := autoreply.longest_length(text)) > MAX_WEIGHTED_LENGTH:
            over = length - MAX_WEIGHTED_LENGTH
            self.add_error(
                "auto_reply_text",
                f"Too long for X by {over} at its longest ({length}/{MAX_WEIGHTED_LENGTH}, "
                "counting a 15-character @handle and the longest opening time).",
            )
        data["auto_reply_text"] = text
        return data


def _spans(day: str, spans: object) -> list[list[str]]:
    if day not in sla.DAYS:
        raise forms.ValidationError(f"“{day}” is not a day; use {', '.join(sla.DAYS)}.")
    if not isinstance(spans, list):
        raise forms.ValidationError(f"{day}: expected a list of [start, end] pairs.")
    out = []
    for span in spans:
        if not (isinstance(span, list) and len(span) == 2):
            raise forms.ValidationError(f'{day}: each span is [start, end]: ["09:00", "17:00"].')
        start, end = (_minutes(day, value) for value in span)
        if start >= 24 * 60 or end <= start:
            raise forms.ValidationError(f"{day}: {span[0]}–{span[1]} must end after it starts.")
        out.append([str(span[0]), str(span[1])])
    out.sort()
    for before, after in zip(out, out[1:], strict=False):
        if _minutes(day, after[0]) < _minutes(day, before[1]):
            raise forms.ValidationError(f"{day}: {before} and {after} overlap.")
    return out


def _minutes(day: str, value: object) -> int:
    text = str(value)
    try:
        hours, minutes = (int(part) for part in text.split(":"))
    except ValueError:
        hours = minutes = -1
    if len(text) != 5 or not (0 <= minutes < 60 and 0 <= hours <= 24) or (hours == 24 and minutes):
        raise forms.ValidationError(f"{day}: “{text}” is not a time; use HH:MM (00:00–24:00).")
    return hours * 60 + minutes
