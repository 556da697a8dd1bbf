# Search (inbox.search): full-text GIN indexes over the customers' messages, our replies
# and the notes, in the same expression as search's queries (to_tsvector('english', text)),
# and trigram indexes for customers' handles and names.
#
# pg_trgm is a contrib extension: the system PostgreSQL (docker-compose, CI, production)
# has it, the embedded server of the demo (pgserver's wheel) does not. Where it cannot be
# created, the trigram indexes are left out and handle search still answers (the same
# ILIKE, read without an index: a demo's few customers). Neither index is in the models'
# state: nothing else depends on them.

import django.contrib.postgres.indexes
import django.db.models.deletion
import django.contrib.postgres.search
from django.db import migrations, models

TRIGRAM = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'pg_trgm not created (no privilege): handle search reads without an index';
      RETURN;
    END;
    -- The expressions of Django's icontains: UPPER(col::text) LIKE UPPER('%...%').
    CREATE INDEX IF NOT EXISTS customer_handle_trgm
      ON inbox_customer USING gin (UPPER(handle::text) gin_trgm_ops);
    CREATE INDEX IF NOT EXISTS customer_name_trgm
      ON inbox_customer USING gin (UPPER(name::text) gin_trgm_ops);
  END IF;
END
$$;
"""

UNDO_TRIGRAM = """
DROP INDEX IF EXISTS customer_handle_trgm;
DROP INDEX IF EXISTS customer_name_trgm;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0003_permissions_and_x_user_id'),
        ('inbox', '0021_integrations'),
    ]

    operations = [
        # Verb gains follow_up_claimed and reopened_by_staff (inbox.actions).
        migrations.AlterField(
            model_name='event',
            name='verb',
            field=models.CharField(choices=[('claimed', 'Claimed'), ('released', 'Released'), ('lease_expired', 'Claim expired'), ('reassigned', 'Reassigned'), ('replied', 'Replied'), ('moved_to_dm', 'Moved to DM'), ('closed', 'Closed'), ('reopened', 'Reopened'), ('noted', 'Note added'), ('dismissed', 'Dismissed as noise'), ('muted', 'Muted'), ('blocked', 'Blocked'), ('tagged', 'Customer tagged'), ('untagged', 'Customer untagged'), ('reply_posted', 'Reply posted'), ('reply_failed', 'Reply failed'), ('reply_retried', 'Reply retried'), ('reply_discarded', 'Reply discarded'), ('auto_replied', 'Auto-reply queued'), ('auto_reply_posted', 'Auto-reply posted'), ('proposed', 'Tweet proposed'), ('proposal_approved', 'Proposal approved'), ('proposal_rejected', 'Proposal rejected'), ('proposal_posted', 'Proposal posted'), ('proposal_failed', 'Proposal failed'), ('proposal_retried', 'Proposal retried'), ('proposal_discarded', 'Proposal discarded'), ('relay_ignored', 'Relay ignored'), ('relay_too_long', 'Relay too long'), ('brand_settings_changed', 'Brand settings changed'), ('agent_registered', 'Employee registered'), ('agent_added', 'Employee added'), ('agent_approved', 'Employee approved'), ('agent_rejected', 'Registration rejected'), ('agent_role_changed', 'Role changed'), ('agent_deactivated', 'Employee deactivated'), ('agent_reactivated', 'Employee reactivated'), ('agent_training_started', 'Sent to training'), ('agent_ready', 'Marked ready'), ('follow_up_claimed', 'Claimed for a follow-up'), ('reopened_by_staff', 'Reopened by an employee')], max_length=32),
        ),
        # After the answer (inbox.actions.do_claim_follow_up, do_reopen).
        migrations.AddField(
            model_name='thread',
            name='follow_up',
            field=models.BooleanField(db_default=False, default=False),
        ),
        # The conversation around a tweet: each customer of a conversation has a thread of
        # their own (one live per customer), a later one linked to the first.
        migrations.AddField(
            model_name='thread',
            name='joined',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='joiners', to='inbox.thread'),
        ),
        migrations.RemoveConstraint(
            model_name='thread',
            name='thread_one_live_per_conversation',
        ),
        migrations.AddConstraint(
            model_name='thread',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'closed'), _negated=True), fields=('brand', 'channel', 'conversation_id', 'customer'), name='thread_one_live_per_customer'),
        ),
        # Triage (inbox.rules.triage): what the customer wants, per message and thread.
        migrations.AddField(
            model_name='message',
            name='intent',
            field=models.CharField(blank=True, db_default='', default='', max_length=12),
        ),
        # Images (inbox.rules.media): X's attachments of a tweet or DM.
        migrations.AddField(
            model_name='message',
            name='media',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='thread',
            name='intent',
            field=models.CharField(blank=True, db_default='', default='', max_length=12),
        ),
        migrations.AddIndex(
            model_name='message',
            index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.search.SearchVector('text', config='english'), name='message_text_search'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(models.F('brand'), models.OrderBy(models.F('sent_at'), descending=True), models.OrderBy(models.F('id'), descending=True), condition=models.Q(('direction', 'in')), name='message_search_recent'),
        ),
        migrations.AddIndex(
            model_name='note',
            index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.search.SearchVector('text', config='english'), name='note_text_search'),
        ),
        migrations.AddIndex(
            model_name='reply',
            index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.search.SearchVector('text', config='english'), name='reply_text_search'),
        ),
        migrations.RunSQL(TRIGRAM, UNDO_TRIGRAM),
    ]
