from __future__ import annotations

from django.contrib import admin

from inbox import models

admin.site.register([models.Brand, models.Source, models.Customer])


@admin.register(models.Quarantine)
class QuarantineAdmin(admin.ModelAdmin):
    list_display = ["created_at", "source", "error"]
    readonly_fields = ["source", "raw", "error", "created_at"]


@admin.register(models.Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "status", "priority", "claimed_by", "waiting_since"]
    list_filter = ["status", "channel"]
    raw_id_fields = ["customer", "claimed_by", "last_answered_by", "source"]
    # Status changes go through inbox.actions only (they write Events); not here.
    readonly_fields = ["status", "claimed_by", "claim_expires_at"]


@admin.register(models.Event)
class EventAdmin(admin.ModelAdmin):
    """Read-only: the database refuses a change or deletion anyway (migration 0020)."""

    list_display = ["at", "verb", "actor", "thread", "seal_seq"]
    list_filter = ["verb"]
    raw_id_fields = ["actor", "thread"]
    readonly_fields = ["brand", "actor", "verb", "thread", "at", "detail"]
    readonly_fields += ["seal_seq", "seal", "detail_digest"]
    actions = None

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(models.RelayTweet)
class RelayTweetAdmin(admin.ModelAdmin):
    list_display = ["created_at", "author_handle", "outcome", "reason"]
    list_filter = ["outcome"]
    raw_id_fields = ["agent", "reply"]


@admin.register(models.RetentionRun, models.ComplianceJob)
class DataDutiesAdmin(admin.ModelAdmin):
    """What the retention sweep and X's compliance jobs did: written by their tasks only."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
