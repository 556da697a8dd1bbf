from __future__ import annotations

from django.urls import path

from agents import views

app_name = "agents"

urlpatterns = [
    path("", views.team, name="team"),
    path("approve/", views.approve, name="approve"),
    path("reject/", views.reject, name="reject"),
    path("add/", views.add_employee, name="add"),
    path("import/", views.import_employees, name="import"),
    path("me/", views.my_profile, name="me"),
    path("<int:agent_id>/", views.profile, name="profile"),
    path("<int:agent_id>/role/", views.change_role, name="role"),
    path("<int:agent_id>/deactivate/", views.deactivate, name="deactivate"),
    path("<int:agent_id>/reactivate/", views.reactivate, name="reactivate"),
    path("<int:agent_id>/train/", views.start_training, name="start_training"),
    path("training/", views.training, name="training"),
    path("training/<int:agent_id>/ready/", views.mark_ready, name="mark_ready"),
    path("practice/", views.practice, name="practice"),
]
