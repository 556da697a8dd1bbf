from __future__ import annotations

from django.urls import path

from inbox.views import (
    administration,
    brand,
    care,
    customer_data,
    customers,
    integrations,
    noise,
    notices,
    proposals,
    queue,
    review,
    routing,
    search,
    supervision,
    thread,
    viewers,
    x_account,
)

app_name = "inbox"

urlpatterns = [
    # --- the queue and a thread (inbox.views.queue, inbox.views.thread) ---
    path("", queue.queue, name="queue"),
    path("claim-next/", queue.claim_next, name="claim_next"),
    path("available/", queue.availability, name="availability"),  # issue 15
    path("search/", search.search, name="search"),
    path("t/<int:thread_id>/", thread.thread_page, name="thread"),
    path("t/<int:thread_id>/claim/", thread.claim, name="claim"),
    path("t/<int:thread_id>/context/", thread.around, name="context"),
    path("t/<int:thread_id>/renew/", thread.renew, name="renew"),
    path("t/<int:thread_id>/reply/", thread.reply, name="reply"),
    path("t/<int:thread_id>/reply/check/", thread.check_reply, name="check_reply"),
    path("t/<int:thread_id>/move-to-dm/", thread.move_to_dm, name="move_to_dm"),
    path("t/<int:thread_id>/close/", thread.close, name="close"),
    path("t/<int:thread_id>/release/", thread.release, name="release"),
    path("t/<int:thread_id>/follow-up/", thread.follow_up, name="follow_up"),
    path("t/<int:thread_id>/reopen/", thread.reopen, name="reopen"),
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
    # --- admins: one customer's export or erasure (inbox.views.customer_data) ---
    path("brand/customer-data/", customer_data.customer_data, name="customer_data"),
    # --- admins: API tokens and webhooks (inbox.views.integrations) ---
    path("integrations/", integrations.integrations, name="integrations"),
    path(
        "integrations/tokens/<int:token_id>/revoke/",
        integrations.revoke_token,
        name="revoke_token",
    ),
    path("integrations/webhooks/", integrations.add_webhook, name="add_webhook"),
    path(
        "integrations/webhooks/<int:webhook_id>/",
        integrations.webhook_deliveries,
        name="webhook_deliveries",
    ),
    path(
        "integrations/webhooks/<int:webhook_id>/remove/",
        integrations.remove_webhook,
        name="remove_webhook",
    ),
    path(
        "integrations/webhooks/<int:webhook_id>/resume/",
        integrations.resume_webhook,
        name="resume_webhook",
    ),
    # --- admins: sources and budgets, rules, the quarantine (inbox.views.administration) ---
    path("admin/sources/", administration.source_list, name="admin_sources"),
    path("admin/sources/new/", administration.source_new, name="admin_source_new"),
    path("admin/sources/<int:source_id>/", administration.source_edit, name="admin_source_edit"),
    path("admin/sources/budget/", administration.budget_preview, name="admin_budget"),
    path("admin/rules/", administration.rules_page, name="admin_rules"),
    path("admin/quarantine/", administration.quarantine, name="admin_quarantine"),
    path(
        "admin/quarantine/<int:quarantine_id>/retry/",
        administration.quarantine_retry,
        name="admin_quarantine_retry",
    ),
    path(
        "admin/quarantine/<int:quarantine_id>/discard/",
        administration.quarantine_discard,
        name="admin_quarantine_discard",
    ),
    # --- admins: the brand's own X account (inbox.views.x_account, issue 16) ---
    path("admin/x-account/", x_account.x_account, name="admin_x_account"),
    path("admin/x-account/keys/", x_account.paste_keys, name="admin_x_account_keys"),
    path("admin/x-account/connect/", x_account.connect, name="admin_x_account_connect"),
    path("admin/x-account/callback/", x_account.callback, name="admin_x_account_callback"),
    path("admin/x-account/disconnect/", x_account.disconnect, name="admin_x_account_disconnect"),
    # --- notifications in the top bar (inbox.views.notices; issue 21) ---
    path("notifications/", notices.notification_list, name="notifications"),
    path("notifications/badge/", notices.badge, name="notifications_badge"),
    path("notifications/read/", notices.mark_read, name="notifications_read"),
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
    # --- answer review (inbox.views.review) ---
    path("sup/review/", review.sample_page, name="review"),
    path("sup/review/<int:reply_id>/", review.review_answer, name="review_answer"),
    path("sup/audit.csv", supervision.audit_csv, name="audit_csv"),
    path("sup/t/<int:thread_id>/", supervision.timeline, name="timeline"),
    path("sup/t/<int:thread_id>/reassign/", supervision.reassign, name="reassign"),
    path("sup/t/<int:thread_id>/release/", supervision.release, name="sup_release"),
    path("sup/r/<int:reply_id>/retry/", supervision.retry_reply, name="retry_reply"),
    path("sup/r/<int:reply_id>/discard/", supervision.discard_reply, name="discard_reply"),
    # --- teams and routing rules (inbox.views.routing) ---
    path("sup/routing/", routing.routing_page, name="routing"),
    path("sup/routing/teams/", routing.team_new, name="team_new"),
    path("sup/routing/teams/<int:team_id>/delete/", routing.team_delete, name="team_delete"),
    path("sup/routing/teams/<int:team_id>/member/", routing.team_member, name="team_member"),
    path("sup/routing/rules/", routing.rule_new, name="rule_new"),
    path(
        "sup/routing/agents/<int:agent_id>/languages/",
        routing.agent_languages,
        name="agent_languages",
    ),
    path("sup/routing/rules/<int:rule_id>/delete/", routing.rule_delete, name="rule_delete"),
]
