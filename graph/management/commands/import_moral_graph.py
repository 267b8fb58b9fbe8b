from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from graph import interchange
from graph.management.commands._common import study_or_error


class Command(BaseCommand):
    help = (
        "Import a moral graph JSON (the original implementation's published format, or ours) into a study: "
        "values, contexts and anonymous votes that reproduce the file's counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--study", required=True)

    def handle(self, *args, path, study, **options):
        study_obj = study_or_error(study)
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No file at {file}.")
        try:
            result = interchange.import_graph(study_obj, file.read_bytes(), source_name=file.name)
        except interchange.GraphFileError as err:
            raise CommandError(f"{file.name}: {err}") from err
        s = result.summary
        self.stdout.write(
            f"Imported {s['values']} values, {s['edges']} edges, {s['contexts']} contexts, "
            f"{s['votes']} votes and {s['impressions']} impressions."
        )
        if s["direction_mismatches"]:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(s['direction_mismatches'])} pairs whose two directions disagree (markedLessWise vs the "
                    f"reverse markedWiser); the larger count was used."
                )
            )
