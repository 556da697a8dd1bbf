"""Noise pages (inbox.noise): muted words, muted customers, blocked accounts, and the
queue's "Dismiss selected".

Who: supervisors and admins manage muted words and blocks, lift any mute, and dismiss
threads in bulk; any employee may mute a customer from a thread (a retweet storm is
seen first by the agents working it). A muted customer is lifted on the noise page.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from agents.access import ANY_EMPLOYEE, SUPERVISORS, AgentRequest, role_required
from inbox import actions, noise, queries
from inbox.models import Mute

DISMISS_MAX = 200  # a queue page is 50 rows; a longer list is not a form we drew


@require_GET
@role_required(SUPERVISORS)
def noise_page(request: AgentRequest) -> HttpResponse:
    mutes = (
        Mute.objects.filter(brand_id=request.agent.brand_id)
        .select_related("customer", "created_by", "lifted_by")
        .order_by("-created_at", "-id")
    )
    return render(
        request,
        "inbox/noise.html",
        {
            "live": list(mutes.filter(lifted_at__isnull=True)[:500]),
            "lifted": list(mutes.filter(~Q(lifted_at=None))[:50]),
        },
    )


@require_POST
@role_required(SUPERVISORS)
def mute_word(request: AgentRequest) -> HttpResponse:
    try:
        mute = noise.mute_word(request.POST.get("word", ""), agent=request.agent)
    except actions.ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Muted “%(word)s”: new tweets saying it stay out of the queue.")
            % {"word": mute.word},
        )
    return redirect("inbox:noise")


@require_POST
@role_required(SUPERVISORS)
def lift_mute(request: AgentRequest, mute_id: int) -> HttpResponse:
    try:
        mute = noise.lift(mute_id, agent=request.agent)
    except Mute.DoesNotExist:
        raise Http404(_("No such mute.")) from None
    messages.success(
        request, _("Lifted: %(mute)s. New tweets reach the queue again.") % {"mute": mute}
    )
    return redirect("inbox:noise")


@require_POST
@role_required(ANY_EMPLOYEE)
def mute_customer(request: AgentRequest, thread_id: int) -> HttpResponse:
    return _mute(request, thread_id, block=False)


@require_POST
@role_required(SUPERVISORS)
def block_customer(request: AgentRequest, thread_id: int) -> HttpResponse:
    return _mute(request, thread_id, block=True)


def _mute(request: AgentRequest, thread_id: int, *, block: bool) -> HttpResponse:
    thread = queries.access_thread(request.agent, thread_id)
    handle = thread.customer.handle
    try:
        noise.mute_customer(thread.customer, agent=request.agent, block=block)
    except actions.ActionError as error:
        messages.error(request, str(error))
    else:
        if block:
            messages.success(
                request,
                _("Blocked @%(handle)s; their open threads are dismissed.") % {"handle": handle},
            )
        else:
            messages.success(
                request,
                _("Muted @%(handle)s: their new tweets stay out of the queue.")
                % {"handle": handle},
            )
    return redirect("inbox:thread", thread_id)


@require_POST
@role_required(SUPERVISORS)
def dismiss(request: AgentRequest) -> HttpResponse:
    """The queue's "Dismiss selected": the chosen open threads close in one transaction."""
    raw = request.POST.getlist("thread")
    ids = sorted({int(v) for v in raw if v.isdigit()})[:DISMISS_MAX]
    back = reverse("inbox:queue")
    if not ids:
        messages.error(request, _("Select at least one thread to dismiss."))
        return redirect(back)
    dismissed, skipped = actions.do_dismiss(ids, agent=request.agent)
    text = ngettext(
        "Dismissed %(dismissed)s thread.", "Dismissed %(dismissed)s threads.", dismissed
    ) % {"dismissed": dismissed}
    if skipped:
        text += " " + _("Skipped %(n)s, changed since you looked:") % {"n": len(skipped)}
        text += " " + "; ".join(skipped) + "."
    (messages.warning if skipped else messages.success)(request, text)
    return redirect(back)
