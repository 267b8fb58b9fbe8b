from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studies import selectors
from values import services
from values.seed_file import SeedFileError


class Command(BaseCommand):
    help = (
        "Seed a study's canonical values from a file of cards (CSV or JSON: title, description, policies and "
        "optional scenarios), before launch, so its first participants have values to mark and stories to "
        "judge. Nothing is saved if any row is bad; titles the study already has are skipped. Other ways to "
        "seed: seed_canonical_values (from a pilot's cards) and import_moral_graph (an earlier study's graph)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="Study slug.")
        parser.add_argument("--file", required=True, help="The CSV or JSON file of cards.")

    def handle(self, *args, study, file, **options):
        study_obj = selectors.get_study(study)
        if study_obj is None:
            raise CommandError(f"No study with slug {study!r}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file {file!r}.")
        try:
            result = services.seed_values_from_file(study_obj, path)
        except SeedFileError as err:
            raise CommandError("Nothing was saved. " + "\n".join(err.problems)) from err
        for value in result["made"]:
            scenarios = ", ".join(sorted(value.scenarios.values_list("key", flat=True)))
            self.stdout.write(f"  made value {value.pk}: {value.title} ({scenarios})")
        for title in result["skipped"]:
            self.stdout.write(f"  skipped “{title}”: the study already has a value with this title")
        self.stdout.write(
            f"Made {len(result['made'])} canonical values from {result['file']}; "
            f"skipped {len(result['skipped'])}; embedded {result['embedded']}."
        )
        if result["embed_error"]:
            self.stderr.write(
                f"Embedding failed ({result['embed_error']}); run manage.py reembed --study "
                f"{study_obj.slug} --only-missing before writing stories."
            )
