from __future__ import annotations

from django.urls import path

from agents import identity_views, views

app_name = "agents"

urlpatterns = [
    path("", views.team, name="team"),
    path("approve/", views.approve, name="approve"),
    path("reject/", views.reject, name="reject"),
    path("add/", views.add_employee, name="add"),
    path("import/", views.import_employees, name="import"),
    path("me/", views.my_profile, name="me"),
    path("me/brand/", views.switch_brand, name="switch_brand"),  # issue 16
    path("me/time-zone/", views.set_time_zone, name="time_zone"),  # issue 21
    path("me/language/", views.set_language, name="language"),  # issue 21
    path("<int:agent_id>/", views.profile, name="profile"),
    path("<int:agent_id>/brands/", views.member_brands, name="brands"),  # issue 16
    path("<int:agent_id>/role/", views.change_role, name="role"),
    path("<int:agent_id>/deactivate/", views.deactivate, name="deactivate"),
    path("<int:agent_id>/reactivate/", views.reactivate, name="reactivate"),
    path("<int:agent_id>/2fa-reset/", identity_views.reset, name="two_factor_reset"),
    path("me/recovery-codes/", identity_views.new_codes, name="two_factor_codes"),
    path("me/x/", identity_views.x_start_relink, name="x_relink"),
    path("<int:agent_id>/train/", views.start_training, name="start_training"),
    path("training/", views.training, name="training"),
    path("training/<int:agent_id>/ready/", views.mark_ready, name="mark_ready"),
    path("training/<int:agent_id>/practice/", views.practice_review, name="practice_review"),
    path("practice/", views.practice, name="practice"),
]
