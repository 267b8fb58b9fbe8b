import getpass

from django.core.management.base import BaseCommand, CommandError

from mgeplatform import services


class Command(BaseCommand):
    help = "Create or update a coordinator or auditor account (email login)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=sorted(services.ROLE_GROUPS))
        parser.add_argument("--password", help="Omit to be asked (or to keep the current password).")

    def handle(self, *args, email, role, password=None, **options):
        if password is None and options.get("interactive", True):
            try:
                password = getpass.getpass("Password (blank keeps the current one): ") or None
            except (EOFError, KeyboardInterrupt):
                raise CommandError("No password given.")
        try:
            user = services.upsert_staff_user(email=email, role=role, password=password)
        except ValueError as err:
            raise CommandError(str(err))
        self.stdout.write(f"{user.email} is now a {role}.")
