"""`flush` (also what the test runner calls after a transactional test): only
the owner may truncate, and the audit tables' no_truncate triggers are
ignored for this one command."""

import pgtrigger
from django.core.management.commands.flush import Command as DjangoFlush

from mgeplatform import dbroles


class Command(DjangoFlush):
    def handle(self, **options):
        database = options["database"]
        uris = [
            f"{model._meta.label}:{trigger.name}"
            for model, trigger in pgtrigger.registered()
            if trigger.name == "no_truncate"
        ]
        with (
            dbroles.as_owner(database),
            pgtrigger.ignore(*uris, databases=[database]),
            dbroles.context_truncate_allowed(database),
        ):
            return super().handle(**options)
