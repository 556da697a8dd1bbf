from __future__ import annotations

from django.contrib import admin

from agents.models import Agent


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["name", "employee_id", "x_handle", "credit_code", "role", "state"]
    list_filter = ["role", "state"]
    search_fields = ["name", "employee_id", "x_handle", "credit_code"]
    raw_id_fields = ["user", "approved_by"]
    # State, role and credit change through agents.actions (the team pages), which write
    # Events and keep the role's group in step; not here.
    readonly_fields = [
        "state",
        "role",
        "credit_code",
        "x_user_id",
        "approved_by",
        "approved_at",
        "deactivated_at",
    ]


# django-otp registers its devices in the Django admin, with pages that show a user's
# secret key as a QR code. Two-factor is managed in the app (agents.twofactor: enrol,
# recovery codes, an admin's reset), so the keys never appear in the Django admin.
def _without_device_admins() -> None:
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_without_device_admins()
