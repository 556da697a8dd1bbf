from __future__ import annotations

from django.contrib import admin

from agents.models import Agent


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["name", "employee_id", "x_handle", "credit_code", "role", "state"]
    list_filter = ["role", "state"]
    search_fields = ["name", "employee_id", "x_handle", "credit_code"]
    raw_id_fields = ["user", "approved_by"]
