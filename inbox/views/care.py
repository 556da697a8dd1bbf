"""Care tools' pages: canned answers (managed by supervisors and admins, picked from the
reply box by any agent) and internal notes on a thread."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from agents.access import ANY_EMPLOYEE, SUPERVISORS, AgentRequest, role_required
from inbox import actions, queries
from inbox.forms import CannedAnswerForm, NoteForm
from inbox.models import CannedAnswer
from inbox.rules import canned
from inbox.views import acted, go

# --- canned answers: management (supervisors, admins) -----------------------------------


@require_GET
@role_required(SUPERVISORS)
def canned_list(request: AgentRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    answers = canned.search(request.agent.brand, query, limit=200)
    return render(request, "inbox/canned_list.html", {"answers": answers, "q": query})


@require_http_methods(["GET", "POST"])
@role_required(SUPERVISORS)
def canned_new(request: AgentRequest) -> HttpResponse:
    form = CannedAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        answer = CannedAnswer(brand=request.agent.brand, created_by=request.agent)
        if _save(form, answer):
            messages.success(request, _("Saved “%(title)s”.") % {"title": answer.title})
            return redirect("inbox:canned_list")
    return render(request, "inbox/canned_form.html", {"form": form, "answer": None})


@require_http_methods(["GET", "POST"])
@role_required(SUPERVISORS)
def canned_edit(request: AgentRequest, canned_id: int) -> HttpResponse:
    answer = get_object_or_404(CannedAnswer, id=canned_id, brand_id=request.agent.brand_id)
    initial = {"title": answer.title, "text": answer.text}
    form = CannedAnswerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and _save(form, answer):
        messages.success(request, _("Saved “%(title)s”.") % {"title": answer.title})
        return redirect("inbox:canned_list")
    return render(request, "inbox/canned_form.html", {"form": form, "answer": answer})


@require_POST
@role_required(SUPERVISORS)
def canned_delete(request: AgentRequest, canned_id: int) -> HttpResponse:
    answer = get_object_or_404(CannedAnswer, id=canned_id, brand_id=request.agent.brand_id)
    answer.delete()
    messages.info(request, _("Deleted “%(title)s”.") % {"title": answer.title})
    return redirect("inbox:canned_list")


def _save(form: CannedAnswerForm, answer: CannedAnswer) -> bool:
    """Save; False (with the form's error) when the brand has that title already."""
    answer.title = form.cleaned_data["title"]
    answer.text = form.cleaned_data["text"]
    try:
        with transaction.atomic():
            answer.save()
    except IntegrityError:
        form.add_error("title", _("There is already a canned answer with this title."))
        return False
    return True


# --- canned answers: the picker in the reply box (any employee) -------------------------


@require_GET
@role_required(ANY_EMPLOYEE)
@vary_on_headers("HX-Request")
def canned_picker(request: AgentRequest, thread_id: int) -> HttpResponse:
    """Answers matching ?q=, rendered for this thread's customer and this agent."""
    thread = queries.access_thread(request.agent, thread_id)
    query = request.GET.get("q", "").strip()
    results = [
        (answer, canned.render(answer.text, thread=thread, agent=request.agent))
        for answer in canned.search(request.agent.brand, query)
    ]
    context = {"thread": thread, "results": results, "q": query}
    template = "inbox/canned_picker.html#results" if request.htmx else "inbox/canned_picker.html"
    return render(request, template, context)


# --- internal notes ---------------------------------------------------------------------


@require_POST
@role_required(ANY_EMPLOYEE)
def add_note(request: AgentRequest, thread_id: int) -> HttpResponse:
    """Any employee may leave a note on a thread of the brand, claimed or not."""
    queries.access_thread(request.agent, thread_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("text", [_("The note is empty.")])))
    else:
        text = form.cleaned_data["text"]
        note = partial(actions.do_add_note, thread_id, agent=request.agent, text=text)
        acted(request, note, _("Note added. Only colleagues see it."))
    return go(request, reverse("inbox:thread", args=[thread_id]))
