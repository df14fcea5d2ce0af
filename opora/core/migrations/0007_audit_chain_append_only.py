"""The audit log becomes a hash chain and append-only (issue 15).

Each event gets its number in the chain (`seq`, in the order of the ids), the previous event's hash
and its own keyed hash (`core.audit_chain`), and the actor's username and role as text
(`actor_label`) so that the event keeps naming them; a user with events can no longer be deleted
(PROTECT). The events written before this migration are chained as they are found: the chain
vouches for them from here on, not for what happened to them before. The events of migration
0006 (a rename of event types by UPDATE) came before, so they are part of a valid chain; a later
rename must not rewrite rows (docs/SECURITY.md, "Audit trail").

Last, triggers refuse UPDATE and DELETE of events (and DELETE of the chain head) on PostgreSQL
and SQLite.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from opora.core.audit_chain import GENESIS, audit_chain_key, chain_hash, normalised_extra

BATCH = 2000

PG_TRIGGERS = """
CREATE OR REPLACE FUNCTION opora_audit_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION opora_audit_refuse();
CREATE TRIGGER core_auditchainhead_kept BEFORE DELETE ON core_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION opora_audit_refuse();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;
DROP TRIGGER IF EXISTS core_auditchainhead_kept ON core_auditchainhead;
DROP FUNCTION IF EXISTS opora_audit_refuse();
"""
SQLITE_TRIGGERS = [
    "CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END",
    "CREATE TRIGGER core_auditevent_no_delete BEFORE DELETE ON core_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END",
    "CREATE TRIGGER core_auditchainhead_no_delete BEFORE DELETE ON core_auditchainhead "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_update",
    "DROP TRIGGER IF EXISTS core_auditevent_no_delete",
    "DROP TRIGGER IF EXISTS core_auditchainhead_no_delete",
]


def chain_existing_events(apps, schema_editor):
    AuditEvent = apps.get_model("core", "AuditEvent")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    db = schema_editor.connection.alias
    key = audit_chain_key()
    labels = {}
    seq, prev_hash, last_id = 0, GENESIS, 0
    while True:
        batch = list(AuditEvent.objects.using(db).filter(id__gt=last_id).order_by("id")[:BATCH])
        if not batch:
            break
        wanted = {e.actor_id for e in batch if e.actor_id and e.actor_id not in labels}
        for user in User.objects.using(db).filter(pk__in=wanted):
            role = getattr(user, "role", "") or ("superuser" if user.is_superuser else "")
            labels[user.pk] = f"{user.username} ({role})" if role else user.username
        for event in batch:
            seq += 1
            event.seq = seq
            event.actor_label = labels.get(event.actor_id, "")
            event.extra = normalised_extra(event.extra)
            event.prev_hash = prev_hash
            event.hash = chain_hash(
                key=key,
                seq=seq,
                created_at=event.created_at,
                actor_id=event.actor_id,
                actor_label=event.actor_label,
                event_type=event.event_type,
                subject_type=event.subject_type,
                subject_id=event.subject_id,
                extra=event.extra,
                prev_hash=prev_hash,
            )
            prev_hash = event.hash
        AuditEvent.objects.using(db).bulk_update(
            batch, ["seq", "actor_label", "extra", "prev_hash", "hash"]
        )
        last_id = batch[-1].id
    AuditChainHead.objects.using(db).update_or_create(
        pk=1, defaults={"seq": seq, "hash": prev_hash if seq else ""}
    )


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_TRIGGERS, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_TRIGGERS:
            schema_editor.execute(sql)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_audit_request_viewed_one_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField(default=0)),
                ("hash", models.CharField(blank=True, max_length=64)),
            ],
            options={
                "verbose_name": "audit chain head",
                "verbose_name_plural": "audit chain head",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="audit_chain_head_one_row"
                    )
                ],
            },
        ),
        migrations.AlterModelOptions(
            name="auditevent",
            options={
                "ordering": ["-seq"],
                "verbose_name": "audit event",
                "verbose_name_plural": "audit events",
            },
        ),
        migrations.AddField(
            model_name="auditevent",
            name="actor_label",
            field=models.CharField(blank=True, max_length=200, verbose_name="actor"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(null=True, verbose_name="number in the chain"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(unique=True, verbose_name="number in the chain"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["actor", "created_at"], name="core_audit_actor_time"),
        ),
        # Last: on SQLite an AlterField rebuilds the table, which would drop the triggers.
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
