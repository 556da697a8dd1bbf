"""The brand's settings page (admins): business hours, time zone, auto-reply on/off and text,
and the relay hashtag (inbox.relay): saving it turns the brand's relay Source on, emptying it
turns the Source off.

The form parses and normalises; the view saves in one transaction with an Event for the
audit trail ("brand_settings_changed", before and after).
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from agents.access import ADMINS, AgentRequest, role_required
from inbox import autoreply, relay, sla
from inbox.models import Brand, Event, Source
from inbox.text import MAX_WEIGHTED_LENGTH

FIELDS = ("timezone", "business_hours", "auto_reply_enabled", "auto_reply_text", "relay_hashtag")
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
        if typed and not relay.is_hashtag(tag):
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


def _initial(brand: Brand) -> dict[str, object]:
    return {
        "timezone": brand.timezone,
        "business_hours": json.dumps(brand.business_hours) if brand.business_hours else "",
        "auto_reply_enabled": brand.auto_reply_enabled,
        "auto_reply_text": brand.auto_reply_text or DEFAULT_TEXT,
        "relay_hashtag": relay.hashtag(brand),
    }


@require_http_methods(["GET", "POST"])
@role_required(ADMINS)
def settings_page(request: AgentRequest) -> HttpResponse:
    brand = request.agent.brand
    form = BrandSettingsForm(request.POST or None, initial=_initial(brand))
    if request.method == "POST" and form.is_valid():
        save(brand, form.cleaned_data, actor=request.agent)
        messages.success(request, "Saved the brand's settings.")
        return redirect("inbox:brand_settings")
    context = {"form": form, "brand": brand, "hours": sla.hours_for(brand)}
    return render(request, "inbox/brand_settings.html", context)


@transaction.atomic(durable=True)
def save(brand: Brand, data: dict[str, object], *, actor) -> Brand:
    brand = Brand.objects.select_for_update().get(id=brand.id)
    before = {name: getattr(brand, name) for name in FIELDS}
    for name in FIELDS:
        setattr(brand, name, data[name])
    brand.save(update_fields=list(FIELDS))
    after = {name: getattr(brand, name) for name in FIELDS}
    changed = {name: [before[name], after[name]] for name in FIELDS if before[name] != after[name]}
    Event.objects.create(brand=brand, actor=actor, verb="brand_settings_changed", detail=changed)
    _relay_source(brand, changed)
    return brand


def _relay_source(brand: Brand, changed: dict) -> None:
    """The brand's relay Source (its query is built from the hashtag by inbox.relay) is
    active exactly while a hashtag is set; a new hashtag is polled at once."""
    tag = brand.relay_hashtag
    source = Source.objects.filter(brand=brand, kind=Source.Kind.RELAY, query="").first()
    if source is None:
        if tag:
            Source.objects.create(brand=brand, kind=Source.Kind.RELAY)
        return
    if not tag:
        Source.objects.filter(id=source.id).update(active=False)
    elif not source.active or "relay_hashtag" in changed:
        # A hashtag put right un-parks the Source its old value had parked.
        Source.objects.filter(id=source.id).update(active=True, next_poll_after=None, last_error="")
