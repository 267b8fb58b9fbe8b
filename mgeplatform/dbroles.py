"""The two database roles (docs/security.md, "Database roles and the audit trail").

The application connects as a role that owns no table, trigger or function:
Postgres lets only an owner (or a superuser) disable a trigger or alter a
table, and only a superuser change `session_replication_role`, so the audit
trail's triggers hold whatever the application is made to run. Schema changes
need the owner: `migrate` and `flush` (mgeplatform/management/commands) and
the test database's set-up (tests/conftest.py) switch the connection to the
credentials in `settings.DATABASE_OWNER` for their duration.

After every `migrate` the owner grants the application role what it needs and
no more (`grant_app_privileges`): reads and writes on the research tables;
on the audit trail only what appending (and withdrawal) needs.
"""

from __future__ import annotations

import contextlib

import pghistory.models
from django.apps import apps
from django.conf import settings
from django.db import connections

_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")
# The application's credentials of an alias while it is switched to the owner.
_app_credentials: dict[str, dict] = {}


def owner_credentials() -> dict:
    return dict(getattr(settings, "DATABASE_OWNER", {}) or {})


def separate_roles(alias: str = "default") -> bool:
    owner = owner_credentials()
    current = app_credentials(alias)
    return bool(owner.get("USER")) and owner["USER"] != current.get("USER")


def app_credentials(alias: str = "default") -> dict:
    if alias in _app_credentials:
        return _app_credentials[alias]
    settings_dict = connections[alias].settings_dict
    return {key: settings_dict.get(key, "") for key in _CREDENTIALS}


def switch_to_owner(alias: str = "default") -> None:
    """Reconnect the alias as the owner (no-op when there is one role)."""
    if alias in _app_credentials or not separate_roles(alias):
        return
    _app_credentials[alias] = app_credentials(alias)
    _switch(alias, owner_credentials())


def switch_to_app(alias: str = "default") -> None:
    if alias not in _app_credentials:
        return
    _switch(alias, _app_credentials.pop(alias))


def _switch(alias: str, credentials: dict) -> None:
    connection = connections[alias]
    connection.close()
    # A pool keeps handing out connections made with the old credentials:
    # drop it, and the next connection builds one with the new ones.
    if getattr(connection, "pool", None) is not None:
        connection.close_pool()  # type: ignore[attr-defined]  # psycopg's backend has it (a pool is set)
    # The settings dict is shared by every thread's connection of the alias.
    connection.settings_dict.update(credentials)
    settings.DATABASES[alias].update(credentials)


@contextlib.contextmanager
def as_owner(alias: str = "default"):
    if alias in _app_credentials or not separate_roles(alias):
        yield
        return
    switch_to_owner(alias)
    try:
        yield
    finally:
        switch_to_app(alias)


def event_tables() -> list[str]:
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event) and model._meta.managed and not model._meta.proxy
    )


# Append-only tables besides the row history: the application may read and
# insert, nothing else (their triggers refuse updates and deletes as well).
INSERT_ONLY_TABLES = ["mgeplatform_domainevent", "graph_graphsnapshot", "django_migrations"]
# ...but for these columns, which a withdrawal redacts (the table's trigger
# allows only that change, recorded in the row itself).
REDACTABLE_COLUMNS = {"graph_graphsnapshot": ["values", "redactions"]}


def grant_app_privileges(using: str = "default", **kwargs) -> None:
    """post_migrate (as the owner): the application role's privileges."""
    connection = connections[using]
    with connection.cursor() as cursor:
        # pghistory's context upsert runs as the owner, so the application
        # role needs no write privilege on pghistory_context.
        cursor.execute("ALTER FUNCTION _pgh_attach_context() SECURITY DEFINER SET search_path = pg_catalog, public")
        if not separate_roles(using):
            return
        app = connection.ops.quote_name(app_credentials(using)["USER"])
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app}")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {app}")
        # No TRUNCATE, REFERENCES or TRIGGER anywhere.
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}")
        cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {app}")
        # Row history: appended by triggers; deleted only by withdrawal (its
        # copies of the withdrawn participant's content), which the tables'
        # append_only triggers allow through pgtrigger.ignore.
        existing = set(connection.introspection.table_names(cursor))
        for table in event_tables():
            if table in existing:  # (a partial migrate may not have made them all)
                cursor.execute(f"REVOKE UPDATE ON {connection.ops.quote_name(table)} FROM {app}")
        for table in INSERT_ONLY_TABLES:
            cursor.execute(f"REVOKE UPDATE, DELETE ON {connection.ops.quote_name(table)} FROM {app}")
        for table, columns in REDACTABLE_COLUMNS.items():
            if table in existing:
                names = ", ".join(connection.ops.quote_name(c) for c in columns)
                cursor.execute(f"GRANT UPDATE ({names}) ON {connection.ops.quote_name(table)} TO {app}")
        cursor.execute(f"REVOKE INSERT, UPDATE, DELETE ON pghistory_context FROM {app}")


@contextlib.contextmanager
def context_truncate_allowed(alias: str = "default"):
    """The owner's flush may empty pghistory_context (its no-truncate trigger
    is plain SQL, outside pgtrigger; mgeplatform/migrations/0007)."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT set_config('mge.allow_truncate', 'on', false)")
    try:
        yield
    finally:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT set_config('mge.allow_truncate', 'off', false)")
