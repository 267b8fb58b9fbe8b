from django.core.management.base import BaseCommand, CommandError

from studies import selectors
from values import embeddings


class Command(BaseCommand):
    help = "Recompute the embeddings of a study's submitted cards and canonical values with the current model."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="Study slug.")
        parser.add_argument(
            "--only-missing", action="store_true", help="Only vectors that are missing or were made by another model."
        )

    def handle(self, *args, study, only_missing=False, **options):
        study_obj = selectors.get_study(study)
        if study_obj is None:
            raise CommandError(f"No study with slug {study!r}.")
        result = embeddings.reembed_study(study_obj, only_missing=only_missing)
        self.stdout.write(
            f"Embedded {result['cards']} cards and {result['canonical_values']} canonical values "
            f"with {result['model']}."
        )
