"""`migrate` as the schema's owner (mgeplatform/dbroles.py), with every row
event it writes (data migrations, post-migrate syncs) attributed to `system`."""

import json
import uuid

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from mgeplatform import dbroles


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        database = options["database"]
        with dbroles.as_owner(database):
            # A session-wide context rather than pghistory.context, which
            # would prefix every statement, raw migration SQL included.
            with connections[database].cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('pghistory.context_id', %s, false), "
                    "set_config('pghistory.context_metadata', %s, false)",
                    [str(uuid.uuid4()), json.dumps({"actor": "system", "command": "migrate"})],
                )
            try:
                return super().handle(*args, **options)
            finally:
                with connections[database].cursor() as cursor:
                    cursor.execute("RESET pghistory.context_id; RESET pghistory.context_metadata")
