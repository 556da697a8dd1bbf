from __future__ import annotations

from django import forms

from inbox.canned import TemplateError, check_template


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
    # (inbox.pii): a confirmation covers exactly what was shown, not a later edit.
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
