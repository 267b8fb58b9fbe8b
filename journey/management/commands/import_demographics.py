from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from journey import exports
from studies import selectors


class Command(BaseCommand):
    help = "Import Prolific's demographic export CSV into a study, matched by Prolific ID."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--study", required=True)

    def handle(self, *args, path, study, **options):
        study_obj = selectors.get_study(study)
        if study_obj is None:
            raise CommandError(f"No study with slug {study!r}.")
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No file at {file}.")
        try:
            summary = exports.import_demographics(study_obj, file.read_bytes(), source_name=file.name)
        except ValueError as err:
            raise CommandError(str(err)) from err
        self.stdout.write(
            f"Matched {summary['matched']} participants; {summary['unmatched']} rows had a Prolific ID "
            f"not in this study."
        )
