from __future__ import annotations

from django.urls import path

from inbox import (
    brand_settings,
    care,
    customers,
    noise_views,
    proposals,
    supervision,
    viewers,
    views,
)

app_name = "inbox"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("claim-next/", views.claim_next, name="claim_next"),
    path("t/<int:thread_id>/", views.thread_page, name="thread"),
    path("t/<int:thread_id>/claim/", views.claim, name="claim"),
    path("t/<int:thread_id>/renew/", views.renew, name="renew"),
    path("t/<int:thread_id>/reply/", views.reply, name="reply"),
    path("t/<int:thread_id>/reply/check/", views.check_reply, name="check_reply"),
    path("t/<int:thread_id>/move-to-dm/", views.move_to_dm, name="move_to_dm"),
    path("t/<int:thread_id>/canned/", care.canned_picker, name="canned_picker"),
    path("t/<int:thread_id>/note/", care.add_note, name="add_note"),
    # --- care tools (inbox.care) ---
    path("canned/", care.canned_list, name="canned_list"),
    path("canned/new/", care.canned_new, name="canned_new"),
    path("canned/<int:canned_id>/", care.canned_edit, name="canned_edit"),
    path("canned/<int:canned_id>/delete/", care.canned_delete, name="canned_delete"),
    # --- who else has a thread open, or is typing (inbox.viewers) ---
    path("viewers/", viewers.queue_viewers, name="queue_viewers"),
    path("t/<int:thread_id>/viewers/", viewers.thread_viewers, name="thread_viewers"),
    path("t/<int:thread_id>/typing/", viewers.typing, name="typing"),
    path("t/<int:thread_id>/close/", views.close, name="close"),
    path("t/<int:thread_id>/release/", views.release, name="release"),
    # --- admins: business hours and auto-reply (inbox.brand_settings) ---
    path("brand/", brand_settings.settings_page, name="brand_settings"),
    # --- proposed brand tweets (inbox.proposals) ---
    path("proposals/", proposals.propose, name="proposals"),
    path("sup/proposals/", proposals.pending, name="proposals_pending"),
    path("sup/proposals/<int:proposal_id>/approve/", proposals.approve, name="approve_proposal"),
    path("sup/proposals/<int:proposal_id>/reject/", proposals.reject, name="reject_proposal"),
    path("sup/proposals/t/<int:tweet_id>/retry/", proposals.retry_tweet, name="retry_tweet"),
    path("sup/proposals/t/<int:tweet_id>/discard/", proposals.discard_tweet, name="discard_tweet"),
    # --- noise (inbox.noise_views) and the customer panel (inbox.customers) ---
    path("dismiss/", noise_views.dismiss, name="dismiss"),
    path("noise/", noise_views.noise_page, name="noise"),
    path("noise/words/", noise_views.mute_word, name="mute_word"),
    path("noise/<int:mute_id>/lift/", noise_views.lift_mute, name="lift_mute"),
    path("t/<int:thread_id>/mute/", noise_views.mute_customer, name="mute_customer"),
    path("t/<int:thread_id>/block/", noise_views.block_customer, name="block_customer"),
    path("t/<int:thread_id>/tags/", customers.customer_tags, name="customer_tags"),
    # --- supervisors (inbox.supervision) ---
    path("sup/", supervision.dashboard, name="dashboard"),
    path("sup/audit/", supervision.audit, name="audit"),
    path("sup/audit.csv", supervision.audit_csv, name="audit_csv"),
    path("sup/t/<int:thread_id>/", supervision.timeline, name="timeline"),
    path("sup/t/<int:thread_id>/reassign/", supervision.reassign, name="reassign"),
    path("sup/t/<int:thread_id>/release/", supervision.release, name="sup_release"),
    path("sup/r/<int:reply_id>/retry/", supervision.retry_reply, name="retry_reply"),
    path("sup/r/<int:reply_id>/discard/", supervision.discard_reply, name="discard_reply"),
]
