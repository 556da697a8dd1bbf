"""Customer data duties (issue 19): the audit becomes append-only and sealable.

The trigger refuses every UPDATE or DELETE of an inbox_event row, whoever issues it (a
SQL shell included), but for the two writes inbox.events makes: sealing (the seal
columns set once, from NULL, nothing else changed) and a customer's erasure (`detail`
alone, in a transaction that set twelp.erasure on: inbox.events.erase_details). TRUNCATE
is not a row operation and still works (the test suite empties tables with it).
"""

import django.db.models.deletion
from django.db import migrations, models

APPEND_ONLY = """
CREATE FUNCTION inbox_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND (NEW.id, NEW.brand_id, NEW.actor_id, NEW.verb, NEW.thread_id, NEW.at)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.brand_id, OLD.actor_id, OLD.verb, OLD.thread_id, OLD.at)
    THEN
        -- Sealing: the seal columns, once, and nothing else.
        IF OLD.seal_seq IS NULL AND NEW.seal_seq IS NOT NULL
            AND NEW.detail IS NOT DISTINCT FROM OLD.detail
        THEN
            RETURN NEW;
        END IF;
        -- Erasure: the detail alone, in the erasure's own transaction.
        IF current_setting('twelp.erasure', true) = 'on'
            AND (NEW.seal_seq, NEW.seal, NEW.detail_digest)
                IS NOT DISTINCT FROM (OLD.seal_seq, OLD.seal, OLD.detail_digest)
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'inbox_event is append-only: % of event % refused', TG_OP, OLD.id
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Events are never changed or deleted (migration 0020_data_duties).';
END
$$;
CREATE TRIGGER inbox_event_append_only BEFORE UPDATE OR DELETE ON inbox_event
    FOR EACH ROW EXECUTE FUNCTION inbox_event_append_only();
"""

UNDO = """
DROP TRIGGER IF EXISTS inbox_event_append_only ON inbox_event;
DROP FUNCTION IF EXISTS inbox_event_append_only();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0003_permissions_and_x_user_id'),
        ('inbox', '0017_budgets'),
    ]

    operations = [
        migrations.CreateModel(
            name='ComplianceJob',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=8)),
                ('x_job_id', models.BigIntegerField(blank=True, null=True)),
                ('status', models.CharField(choices=[('uploaded', 'Ids uploaded; X is working'), ('applied', 'Results applied'), ('failed', 'Failed')], default='uploaded', max_length=16)),
                ('attempt', models.PositiveSmallIntegerField(default=1)),
                ('download_url', models.TextField(blank=True)),
                ('ids_sent', models.IntegerField(default=0)),
                ('lines', models.IntegerField(default=0, help_text='Result lines read.')),
                ('removed', models.IntegerField(default=0)),
                ('hidden', models.IntegerField(default=0)),
                ('unknown', models.IntegerField(default=0, help_text='Ids of the file Twelp does not hold.')),
                ('malformed', models.IntegerField(default=0, help_text='Lines that were not a result.')),
                ('last_error', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.CreateModel(
            name='RetentionRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('threads', models.IntegerField(default=0, help_text='Closed threads emptied.')),
                ('messages', models.IntegerField(default=0, help_text='Messages removed with them.')),
                ('raw_payloads', models.IntegerField(default=0, help_text='Raw payloads emptied.')),
                ('quarantined', models.IntegerField(default=0, help_text='Quarantine rows deleted.')),
                ('batches', models.IntegerField(default=0)),
                ('longest_batch_ms', models.FloatField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name='brand',
            name='retain_closed_threads',
            field=models.DurationField(blank=True, help_text="Closed threads' messages and notes; then anonymised.", null=True),
        ),
        migrations.AddField(
            model_name='brand',
            name='retain_quarantine',
            field=models.DurationField(blank=True, help_text='Payloads X sent that Twelp could not use.', null=True),
        ),
        migrations.AddField(
            model_name='brand',
            name='retain_raw_payloads',
            field=models.DurationField(blank=True, help_text="X's raw JSON of each message; then emptied.", null=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='erased_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='x_hidden',
            field=models.CharField(blank=True, db_default='', default='', max_length=16),
        ),
        migrations.AddField(
            model_name='event',
            name='detail_digest',
            field=models.CharField(blank=True, db_default='', default='', editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='event',
            name='seal',
            field=models.CharField(blank=True, db_default='', default='', editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='event',
            name='seal_seq',
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='message',
            name='x_hidden',
            field=models.CharField(blank=True, db_default='', default='', max_length=16),
        ),
        migrations.AddField(
            model_name='thread',
            name='purged_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='thread',
            name='x_hidden',
            field=models.CharField(blank=True, db_default='', default='', max_length=16),
        ),
        migrations.AlterField(
            model_name='event',
            name='brand',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='inbox.brand'),
        ),
        migrations.AlterField(
            model_name='event',
            name='thread',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='inbox.thread'),
        ),
        migrations.AlterField(
            model_name='event',
            name='verb',
            field=models.CharField(choices=[('claimed', 'Claimed'), ('released', 'Released'), ('lease_expired', 'Claim expired'), ('reassigned', 'Reassigned'), ('replied', 'Replied'), ('moved_to_dm', 'Moved to DM'), ('closed', 'Closed'), ('reopened', 'Reopened'), ('noted', 'Note added'), ('dismissed', 'Dismissed as noise'), ('muted', 'Muted'), ('blocked', 'Blocked'), ('tagged', 'Customer tagged'), ('untagged', 'Customer untagged'), ('reply_posted', 'Reply posted'), ('reply_failed', 'Reply failed'), ('reply_retried', 'Reply retried'), ('reply_discarded', 'Reply discarded'), ('auto_replied', 'Auto-reply queued'), ('auto_reply_posted', 'Auto-reply posted'), ('proposed', 'Tweet proposed'), ('proposal_approved', 'Proposal approved'), ('proposal_rejected', 'Proposal rejected'), ('proposal_posted', 'Proposal posted'), ('proposal_failed', 'Proposal failed'), ('proposal_retried', 'Proposal retried'), ('proposal_discarded', 'Proposal discarded'), ('relay_ignored', 'Relay ignored'), ('relay_too_long', 'Relay too long'), ('brand_settings_changed', 'Brand settings changed'), ('agent_registered', 'Employee registered'), ('agent_added', 'Employee added'), ('agent_approved', 'Employee approved'), ('agent_rejected', 'Registration rejected'), ('agent_role_changed', 'Role changed'), ('agent_deactivated', 'Employee deactivated'), ('agent_reactivated', 'Employee reactivated'), ('agent_training_started', 'Sent to training'), ('agent_ready', 'Marked ready'), ('customer_exported', 'Customer data exported'), ('customer_erased', 'Customer erased'), ('retention_swept', 'Retention sweep'), ('x_compliance_applied', 'X compliance applied')], max_length=32),
        ),
        migrations.AlterField(
            model_name='quarantine',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True, db_index=True),
        ),
        migrations.AddIndex(
            model_name='event',
            index=models.Index(condition=models.Q(('seal_seq__isnull', True)), fields=['id'], name='event_unsealed'),
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('raw', {}), _negated=True), fields=['brand', 'ingested_at'], name='message_raw_held'),
        ),
        migrations.AddIndex(
            model_name='thread',
            index=models.Index(condition=models.Q(('status', 'closed'), models.Q(('purged_at__isnull', True), ('purged_at__lt', models.F('closed_at')), _connector='OR')), fields=['brand', 'closed_at'], name='thread_retention'),
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.UniqueConstraint(condition=models.Q(('seal_seq__isnull', False)), fields=('brand', 'seal_seq'), name='event_seal_chain'),
        ),
        migrations.AddIndex(
            model_name='compliancejob',
            index=models.Index(condition=models.Q(('status', 'uploaded')), fields=['created_at'], name='compliancejob_open'),
        ),
        migrations.AddField(
            model_name='retentionrun',
            name='brand',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.brand'),
        ),
        migrations.AddIndex(
            model_name='retentionrun',
            index=models.Index(fields=['brand', '-started_at'], name='retentionrun_latest'),
        ),
        migrations.RunSQL(APPEND_ONLY, UNDO),
    ]
