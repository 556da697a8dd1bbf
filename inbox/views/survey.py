"""The public satisfaction page (inbox.quality.survey): one question, no login, reached only
by the signed one-time link a customer got by DM."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from agents.access import anyone
from inbox.errors import ActionError
from inbox.quality import survey


class AnswerForm(forms.Form):
    score = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        label=gettext_lazy("1 (poor) to 5 (great)"),
    )
    comment = forms.CharField(
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=gettext_lazy("Anything to add? (optional)"),
    )


@anyone
@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, link: str) -> HttpResponse:
    try:
        found = survey.survey_for(link)
    except survey.LinkRefused as why:
        return _closed(request, str(why), status=404)
    if found.answered_at is not None:
        return _closed(request, _("This survey has been answered already. Thank you!"), status=200)
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            survey.answer(link, **form.cleaned_data)
        except ActionError as why:
            return _closed(request, str(why), status=200)
        return _closed(request, _("Thank you! Your answer helps us help you."), status=200)
    context = {"form": form, "brand": found.brand}
    response = render(request, "inbox/survey.html", context)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the link is the credential
    return response


def _closed(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    response = render(request, "inbox/survey_done.html", {"message": message}, status=status)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
