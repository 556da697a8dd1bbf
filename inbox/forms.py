from __future__ import annotations

from django import forms


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
