"""Plain forms: parse and normalise what an employee or admin typed, nothing else.
Duplicates and the X lookup are checked by the views (agents.queries, agents.xhandles)."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agents.models import Role
from inbox.models import Brand

X_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
INITIALS = re.compile(r"^[A-Za-z]{1,4}$")


class EmployeeForm(forms.Form):
    """Who the employee is: the fields self-registration, direct registration and the CSV
    import share."""

    employee_id = forms.CharField(label=gettext_lazy("Employee id"), max_length=64)
    name = forms.CharField(label=gettext_lazy("Full name"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("Work e-mail"), max_length=254)
    x_handle = forms.CharField(
        label=gettext_lazy("Your own X handle"),
        max_length=16,
        help_text=gettext_lazy("Without @; it is checked with X."),
    )
    initials = forms.CharField(
        label=gettext_lazy("Initials"),
        max_length=4,
        help_text=gettext_lazy("1–4 letters; your credit on every reply."),
    )

    def __init__(self, *args: object, brand: Brand, **kwargs: object) -> None:
        kwargs.setdefault("label_suffix", "")  # "Password", as on the login page
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.brand = brand

    def clean_employee_id(self) -> str:
        value = self.cleaned_data["employee_id"].strip()
        try:
            matches = re.fullmatch(self.brand.employee_id_pattern, value)
        except re.error:
            raise ValidationError(
                _("The brand's employee id format is broken; ask an admin to fix it.")
            ) from None
        if not matches:
            raise ValidationError(
                _(
                    "%(value)s is not an employee id of %(name)s (expected format: "
                    "%(employee_id_pattern)s)."
                )
                % {
                    "value": value,
                    "name": self.brand.name,
                    "employee_id_pattern": self.brand.employee_id_pattern,
                }
            )
        return value

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_x_handle(self) -> str:
        value = self.cleaned_data["x_handle"].strip().removeprefix("@")
        if not X_HANDLE.match(value):
            raise ValidationError(
                _("An X handle is 1–15 letters, digits or underscores (like jane_doe).")
            )
        return value

    def clean_initials(self) -> str:
        value = self.cleaned_data["initials"].strip()
        if not INITIALS.match(value):
            raise ValidationError(_("Initials are 1–4 letters, like JD."))
        return value.upper()


class RegistrationForm(EmployeeForm):
    password1 = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=gettext_lazy("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        password = data.get("password1")
        if password and password != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        elif password:
            name = str(data.get("name", ""))
            probe = User(
                username=str(data.get("employee_id", "")),
                email=str(data.get("email", "")),
                first_name=name,
            )
            try:
                validate_password(str(password), probe)
            except ValidationError as error:
                self.add_error("password1", error)
        return data


class AddEmployeeForm(EmployeeForm):
    """An admin registers an employee directly (or one CSV row): approved at once."""

    role = forms.ChoiceField(choices=Role.choices, initial=Role.AGENT)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class IdListField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value: object) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            return sorted({int(str(item)) for item in values})
        except ValueError:
            raise ValidationError(_("Those are not registrations.")) from None


class PickForm(forms.Form):
    """One or more registrations ticked on the team page."""

    ids = IdListField(
        error_messages={"required": gettext_lazy("Tick at least one registration first.")}
    )


class ImportForm(forms.Form):
    """A CSV file to preview, or the previewed text to import."""

    file = forms.FileField(label=gettext_lazy("CSV file"), required=False)
    csv_text = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_CSV_BYTES:
                raise ValidationError(
                    _("The file is over %(MAX_CSV_BYTES)s kB.")
                    % {"MAX_CSV_BYTES": MAX_CSV_BYTES // 1000}
                )
            try:
                data["csv_text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError(
                    _("Save the file as UTF-8 CSV and upload it again.")
                ) from None
        if not data.get("csv_text"):
            raise ValidationError(_("Choose a CSV file."))
        return data


MAX_CSV_BYTES = 1_000_000


class SetupForm(RegistrationForm):
    """The first run: the brand, then its first admin (agents.bootstrap)."""

    brand_name = forms.CharField(label=gettext_lazy("Brand name"), max_length=100)
    brand_handle = forms.CharField(
        label=gettext_lazy("Brand's X handle"),
        max_length=16,
        help_text=gettext_lazy("The account every answer posts from."),
    )
    field_order = ["brand_name", "brand_handle"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, brand=Brand(), **kwargs)  # the default employee-id pattern
        self.fields["x_handle"].label = _("Your own X handle")
        self.fields["employee_id"].help_text = _("Also your username.")

    def clean_brand_handle(self) -> str:
        value = self.cleaned_data["brand_handle"].strip().removeprefix("@")
        if not X_HANDLE.match(value):
            raise ValidationError(_("An X handle is 1–15 letters, digits or underscores."))
        return value


class ProvenRegistrationForm(RegistrationForm):
    """Self-registration after Sign in with X (agents.xlink): the handle is X's, not typed."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["x_handle"]


class SSORegistrationForm(ProvenRegistrationForm):
    """Self-registration after single sign-on (agents.sso): no password (they sign in with
    the company's provider); the employee id, name and e-mail the provider vouched for are
    shown, not typed."""

    def __init__(self, *args: object, vouched: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["password1"], self.fields["password2"]
        for name in ("employee_id", "name", "email"):
            if vouched.get(name):
                self.fields[name].initial = vouched[name]
                self.fields[name].disabled = True


class TimeZoneForm(forms.Form):
    """Issue 21: the zone an employee's pages show dates and times in; empty: the brand's."""

    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"), required=False)

    def __init__(self, *args: object, brand_zone: str = "UTC", **kwargs: object) -> None:
        from zoneinfo import available_timezones

        super().__init__(*args, **kwargs)
        zones = [(name, name.replace("_", " ")) for name in sorted(available_timezones())]
        brand = ("", _("The brand's (%(zone)s)") % {"zone": brand_zone.replace("_", " ")})
        self.fields["time_zone"].choices = [brand, *zones]
        self.fields["time_zone"].error_messages["invalid_choice"] = gettext_lazy(
            "%(value)s is not a time zone we know: pick one from the list."
        )


class LanguageForm(forms.Form):
    """Issue 21: the language of an employee's pages; empty: their browser's."""

    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        required=False,
        choices=[("", gettext_lazy("My browser's language")), *settings.LANGUAGES],
    )
