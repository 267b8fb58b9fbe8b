"""pghistory_context (who and where, for every row event) is append-only.

A context may gain keys while it is open (pghistory upserts it as nested
contexts add metadata) but never change or lose one, and it is never deleted
or truncated. Plain SQL rather than pgtrigger: the table is pghistory's, and
these triggers are not meant to be ignorable. Only the owner's `flush` (tests)
may truncate it, through the mge.allow_truncate setting."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION mge_context_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF current_setting('mge.allow_truncate', true) = 'on' THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id AND NEW.created_at = OLD.created_at AND NEW.metadata @> OLD.metadata THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'pghistory_context is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER mge_context_append_only BEFORE UPDATE OR DELETE ON pghistory_context
    FOR EACH ROW EXECUTE FUNCTION mge_context_append_only();
CREATE TRIGGER mge_context_no_truncate BEFORE TRUNCATE ON pghistory_context
    FOR EACH STATEMENT EXECUTE FUNCTION mge_context_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS mge_context_append_only ON pghistory_context;
DROP TRIGGER IF EXISTS mge_context_no_truncate ON pghistory_context;
DROP FUNCTION IF EXISTS mge_context_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("mgeplatform", "0006_llmcall_request_messages_llmcall_request_system"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
