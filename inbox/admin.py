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
    list_display = ["at", "verb", "actor", "thread"]
    list_filter = ["verb"]
    raw_id_fields = ["actor", "thread"]

    def has_change_permission(self, request, obj=None) -> bool:  # append-only
        return False


@admin.register(models.RelayTweet)
class RelayTweetAdmin(admin.ModelAdmin):
    list_display = ["created_at", "author_handle", "outcome", "reason"]
    list_filter = ["outcome"]
    raw_id_fields = ["agent", "reply"]
