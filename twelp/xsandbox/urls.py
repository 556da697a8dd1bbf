"""The sandbox's URLs: X API v2 under /2/, operator endpoints under /_sandbox/, and the
persona page at /."""

from __future__ import annotations

from django.urls import include, path, re_path

from twelp.xsandbox import api, compliance, control, oidc_views, views
from twelp.xsandbox.api import by_method

persona_patterns = [
    path("", views.home, name="home"),
    path("persona", views.choose_persona, name="persona"),
    path("persona/forget", views.forget_persona, name="forget"),
    path("tweet", views.tweet, name="tweet"),
    path("dm", views.direct_message, name="dm"),
    path("dm/settings", views.dm_settings, name="dm_settings"),
    path("tweet/<int:tweet_id>/delete", views.delete_tweet, name="delete_tweet"),
    path("protect", views.protect, name="protect"),
]

handler404 = "twelp.xsandbox.views.not_found"

urlpatterns = [
    # OAuth 2.0 with PKCE (twelp.xsandbox.oauth2): X's consent page and token endpoint.
    path("i/oauth2/authorize", views.authorize, name="oauth2_authorize"),
    path("2/oauth2/token", views.token),
    path("2/oauth2/revoke", views.revoke),  # issue 16: a brand account disconnected
    # The company's identity provider for single sign-on (twelp.xsandbox.oidc): OpenID
    # Connect, not X; Twelp signs employees in with it (agents.sso).
    path("oidc/.well-known/openid-configuration", oidc_views.configuration),
    path("oidc/authorize", oidc_views.authorize, name="oidc_authorize"),
    path("oidc/token", oidc_views.token),
    path("oidc/userinfo", oidc_views.userinfo),
    path("oidc/jwks", oidc_views.jwks),
    path("oidc/end_session", oidc_views.end_session, name="oidc_end_session"),
    path("_sandbox/oidc/disable", oidc_views.disable),
    path("2/users/me", by_method(GET=api.users_me)),
    path("2/users/by/username/<str:username>", by_method(GET=api.user_by_username)),
    path("2/users/<str:user_id>", by_method(GET=api.user_by_id)),
    path("2/users/<str:user_id>/mentions", by_method(GET=api.mentions)),
    path("2/users/<str:user_id>/tweets", by_method(GET=api.user_tweets)),
    path("2/tweets/search/recent", by_method(GET=api.search_recent)),
    path("2/tweets", by_method(GET=api.tweets_by_ids, POST=api.create_tweet)),
    path("2/tweets/<str:tweet_id>", by_method(GET=api.tweet_by_id)),
    path("2/dm_events", by_method(GET=api.dm_events)),
    path("2/dm_conversations/with/<str:participant_id>/messages", by_method(POST=api.dm_send)),
    path(
        "2/dm_conversations/with/<str:participant_id>/dm_events",
        by_method(GET=api.dm_conversation_events),
    ),
    path(
        "2/compliance/jobs",
        by_method(GET=api.compliance_jobs, POST=api.create_compliance_job),
    ),
    path("2/compliance/jobs/<str:job_id>", by_method(GET=api.compliance_job)),
    re_path(r"^2/", api.unknown_route),
    # X's pre-signed storage URLs of a compliance job, served here (compliance.py).
    path(
        "_sandbox/compliance/<int:job_id>/upload",
        compliance.upload,
        name="xsandbox_compliance_upload",
    ),
    path(
        "_sandbox/compliance/<int:job_id>/download",
        compliance.download,
        name="xsandbox_compliance_download",
    ),
    # X's media host (pbs.twimg.com) in the sandbox: the attached photos' images.
    re_path(r"^media/(?P<key>[0-9]{1,3}_[0-9]{1,20})\.png$", views.media),
    path("_sandbox/faults", control.fault_list),
    path("_sandbox/tweets", control.tweet_list),
    path("_sandbox/rate_limits", control.rate_limit_windows),
    path("_sandbox/training", control.training_practice),
    path("", include((persona_patterns, "xsandbox"))),
]
