"""Database triggers the audit trail shares between apps."""

import pgtrigger


def no_truncate() -> pgtrigger.Trigger:
    """Refuse TRUNCATE on an audit table. pgtrigger's Protect covers rows only;
    this is the statement-level guard (the application role also lacks the
    TRUNCATE privilege; the owner's `flush` ignores it in tests)."""
    return pgtrigger.Trigger(
        name="no_truncate",
        when=pgtrigger.Before,
        operation=pgtrigger.Truncate,
        level=pgtrigger.Statement,
        func="RAISE EXCEPTION 'pgtrigger: % is append-only, TRUNCATE refused', TG_TABLE_NAME "
        "USING ERRCODE = 'insufficient_privilege'; RETURN NULL;",
    )
