from __future__ import annotations

from django.apps import AppConfig


class XSandboxConfig(AppConfig):
    """The X sandbox: its own tables (xsandbox_*), served as its own process."""

    name = "twelp.xsandbox"
    label = "xsandbox"
    verbose_name = "X sandbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A malformed XSANDBOX_FAULTS must stop the start, not surface on the first request.
        from twelp.xsandbox import faults

        faults.process_faults()
