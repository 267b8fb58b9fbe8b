"""`makemigrations` reads the migration history of every database to check
it is consistent; that table is the owner's (the application role may only
read it once `migrate` has granted it), so the command runs as the owner,
like `migrate`."""

from django.core.management.commands.makemigrations import Command as DjangoMakemigrations

from mgeplatform import dbroles


class Command(DjangoMakemigrations):
    def handle(self, *app_labels, **options):
        with dbroles.as_owner("default"):
            return super().handle(*app_labels, **options)
