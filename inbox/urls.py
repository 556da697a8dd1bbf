from __future__ import annotations

from django.urls import path

from inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("claim-next/", views.claim_next, name="claim_next"),
    path("t/<int:thread_id>/", views.thread_page, name="thread"),
    path("t/<int:thread_id>/claim/", views.claim, name="claim"),
    path("t/<int:thread_id>/renew/", views.renew, name="renew"),
    path("t/<int:thread_id>/reply/", views.reply, name="reply"),
    path("t/<int:thread_id>/close/", views.close, name="close"),
    path("t/<int:thread_id>/release/", views.release, name="release"),
]
