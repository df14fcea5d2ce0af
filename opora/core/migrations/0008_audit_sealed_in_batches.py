"""The audit chain is sealed in batches, off the writer's transaction.

Writers insert events with `seq`, `prev_hash` and `hash` NULL and no lock; the sealer
(`core.audit_chain.audit_seal`) fills them in later under the chain head's lock. The triggers
still refuse every UPDATE and DELETE of an event but one: the sealing UPDATE of an unsealed row
(OLD.hash IS NULL) that sets seq, prev_hash and hash and leaves every other column as it was.
A sealed row, or the content of an unsealed one, cannot be changed.

On SQLite the AlterFields rebuild the table (dropping its triggers), so the triggers are dropped
first and created again last.
"""

from django.db import migrations, models

# Every column but seq, prev_hash and hash: what the sealing UPDATE must leave as it was.
KEPT = ("id", "created_at", "actor_id", "actor_label", "event_type", "subject_type", "subject_id", "extra")
SEALING = (
    "OLD.hash IS NULL AND OLD.seq IS NULL AND OLD.prev_hash IS NULL "
    "AND NEW.hash IS NOT NULL AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL"
)

PG_GUARD = f"""
CREATE OR REPLACE FUNCTION opora_audit_event_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {SEALING}
        AND ({", ".join("NEW." + c for c in KEPT)}) IS NOT DISTINCT FROM
            ({", ".join("OLD." + c for c in KEPT)}) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;
CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION opora_audit_event_guard();
"""
PG_BACK = """
DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;
CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION opora_audit_refuse();
DROP FUNCTION IF EXISTS opora_audit_event_guard();
"""
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_update",
    "DROP TRIGGER IF EXISTS core_auditevent_no_delete",
    "DROP TRIGGER IF EXISTS core_auditchainhead_no_delete",
]
SQLITE_SEALING = (
    "CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent "
    f"WHEN NOT ({SEALING} AND {' AND '.join(f'NEW.{c} IS OLD.{c}' for c in KEPT)}) "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END"
)
SQLITE_OLD_UPDATE = (
    "CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END"
)
SQLITE_REST = [
    "CREATE TRIGGER core_auditevent_no_delete BEFORE DELETE ON core_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END",
    "CREATE TRIGGER core_auditchainhead_no_delete BEFORE DELETE ON core_auditchainhead "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END",
]


def _sqlite_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql)


def create_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_GUARD, params=None)
    elif vendor == "sqlite":
        for sql in [SQLITE_SEALING, *SQLITE_REST]:
            schema_editor.execute(sql)


def restore_old_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACK, params=None)
    elif vendor == "sqlite":
        for sql in [SQLITE_OLD_UPDATE, *SQLITE_REST]:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("core", "0007_audit_chain_append_only")]

    operations = [
        migrations.RunPython(_sqlite_drop, _sqlite_drop, elidable=False),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(null=True, unique=True, verbose_name="number in the chain"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(max_length=64, null=True),
        ),
        # Last: on SQLite an AlterField rebuilds the table, which would drop the triggers.
        migrations.RunPython(create_guard, restore_old_guard, elidable=False),
    ]
