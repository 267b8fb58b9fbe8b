from django.core.management.base import BaseCommand

from graph import services
from graph.management.commands._common import study_or_error


class Command(BaseCommand):
    help = (
        "Count the votes and story impressions again into the pair counts a graph build reads (the database "
        "keeps them as votes are written; this is for a bulk load made with the triggers off, or a check)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", help="Study slug (default: every study).")

    def handle(self, *args, **o):
        study = study_or_error(o["study"]) if o["study"] else None
        rows = services.rebuild_pair_counts(study)
        self.stdout.write(
            f"Pair counts rebuilt: {rows} cell(s) and kind(s) of participant"
            + (f" in {study.slug}." if study else " in every study.")
        )
