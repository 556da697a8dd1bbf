from __future__ import annotations

from django.urls import path

from inbox.views import (
    brand,
    care,
    customers,
    noise,
    proposals,
    queue,
    supervision,
    thread,
    viewers,
)

app_name = "inbox"

urlpatterns = [
    # --- the queue and a thread (inbox.views.queue, inbox.views.thread) ---
    path("", queue.queue, name="queue"),
    path("claim-next/", queue.claim_next, name="claim_next"),
    path("t/<int:thread_id>/", thread.thread_page, name="thread"),
    path("t/<int:thread_id>/claim/", thread.claim, name="claim"),
    path("t/<int:thread_id>/renew/", thread.renew, name="renew"),
    path("t/<int:thread_id>/reply/", thread.reply, name="reply"),
    path("t/<int:thread_id>/reply/check/", thread.check_reply, name="check_reply"),
    path("t/<int:thread_id>/move-to-dm/", thread.move_to_dm, name="move_to_dm"),
    path("t/<int:thread_id>/close/", thread.close, name="close"),
    path("t/<int:thread_id>/release/", thread.release, name="release"),
    path("t/<int:thread_id>/canned/", care.canned_picker, name="canned_picker"),
    path("t/<int:thread_id>/note/", care.add_note, name="add_note"),
    # --- care tools (inbox.views.care) ---
    path("canned/", care.canned_list, name="canned_list"),
    path("canned/new/", care.canned_new, name="canned_new"),
    path("canned/<int:canned_id>/", care.canned_edit, name="canned_edit"),
    path("canned/<int:canned_id>/delete/", care.canned_delete, name="canned_delete"),
    # --- who else has a thread open, or is typing (inbox.views.viewers) ---
    path("viewers/", viewers.queue_viewers, name="queue_viewers"),
    path("t/<int:thread_id>/viewers/", viewers.thread_viewers, name="thread_viewers"),
    path("t/<int:thread_id>/typing/", viewers.typing, name="typing"),
    # --- admins: business hours and auto-reply (inbox.views.brand) ---
    path("brand/", brand.settings_page, name="brand_settings"),
    # --- proposed brand tweets (inbox.views.proposals) ---
    path("proposals/", proposals.propose, name="proposals"),
    path("sup/proposals/", proposals.pending, name="proposals_pending"),
    path("sup/proposals/<int:proposal_id>/approve/", proposals.approve, name="approve_proposal"),
    path("sup/proposals/<int:proposal_id>/reject/", proposals.reject, name="reject_proposal"),
    path("sup/proposals/t/<int:tweet_id>/retry/", proposals.retry_tweet, name="retry_tweet"),
    path("sup/proposals/t/<int:tweet_id>/discard/", proposals.discard_tweet, name="discard_tweet"),
    # --- noise (inbox.views.noise) and the customer panel (inbox.views.customers) ---
    path("dismiss/", noise.dismiss, name="dismiss"),
    path("noise/", noise.noise_page, name="noise"),
    path("noise/words/", noise.mute_word, name="mute_word"),
    path("noise/<int:mute_id>/lift/", noise.lift_mute, name="lift_mute"),
    path("t/<int:thread_id>/mute/", noise.mute_customer, name="mute_customer"),
    path("t/<int:thread_id>/block/", noise.block_customer, name="block_customer"),
    path("t/<int:thread_id>/tags/", customers.customer_tags, name="customer_tags"),
    # --- supervisors (inbox.views.supervision) ---
    path("sup/", supervision.dashboard, name="dashboard"),
    path("sup/audit/", supervision.audit, name="audit"),
    path("sup/audit.csv", supervision.audit_csv, name="audit_csv"),
    path("sup/t/<int:thread_id>/", supervision.timeline, name="timeline"),
    path("sup/t/<int:thread_id>/reassign/", supervision.reassign, name="reassign"),
    path("sup/t/<int:thread_id>/release/", supervision.release, name="sup_release"),
    path("sup/r/<int:reply_id>/retry/", supervision.retry_reply, name="retry_reply"),
    path("sup/r/<int:reply_id>/discard/", supervision.discard_reply, name="discard_reply"),
]
