"""The persona page's forms: parse and normalise input, nothing else."""

from __future__ import annotations

from django import forms

from twelp.xsandbox import text
from twelp.xsandbox.actions import DM_MAX_LENGTH
from twelp.xsandbox.models import Account


class NewPersonaForm(forms.Form):
    username = forms.RegexField(
        regex=r"^[A-Za-z0-9_]{1,15}$",
        max_length=15,
        error_messages={"invalid": "Letters, digits and _ only, up to 15."},
    )
    name = forms.CharField(max_length=50)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if Account.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken: pick it from the list instead.")
        return username


class PickPersonaForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=Account.objects.filter(kind=Account.Kind.CUSTOMER).order_by("username"),
        empty_label=None,
    )


class TweetForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    in_reply_to = forms.IntegerField(required=False, widget=forms.HiddenInput)
    photo = forms.BooleanField(required=False, label="Attach a photo")

    def clean_text(self) -> str:
        value = self.cleaned_data["text"].strip()
        length = text.weighted_length(value)
        if length > text.MAX_WEIGHTED_LENGTH:
            raise forms.ValidationError(
                f"That is {length} characters as X counts them; the limit is 280."
            )
        return value


class DirectMessageForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=DM_MAX_LENGTH)
    photo = forms.BooleanField(required=False, label="Attach a photo")


class DirectMessageSettingsForm(forms.Form):
    """X's DM settings, as far as the brand is concerned: may it DM this persona first?"""

    follows_brand = forms.BooleanField(required=False, label="Follow the brand")
    dms_open = forms.BooleanField(required=False, label="Accept DMs from anyone")
