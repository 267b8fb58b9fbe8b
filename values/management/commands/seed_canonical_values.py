from django.core.management.base import BaseCommand, CommandError

from studies import selectors
from values import services


class Command(BaseCommand):
    help = (
        "Cluster a study's unlinked submitted cards with DBSCAN (cosine) and make each cluster a canonical value "
        "worded like its best card, as chosen by the LLM. Safe to re-run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="Study slug.")
        parser.add_argument("--eps", type=float, default=0.3, help="DBSCAN neighbourhood radius (cosine distance).")
        parser.add_argument("--min-samples", type=int, default=2, help="DBSCAN: cards needed to form a cluster.")

    def handle(self, *args, study, eps, min_samples, **options):
        study_obj = selectors.get_study(study)
        if study_obj is None:
            raise CommandError(f"No study with slug {study!r}.")
        if not 0 < eps < 2 or min_samples < 1:
            raise CommandError("--eps must be between 0 and 2 and --min-samples at least 1.")
        result = services.seed_canonical_values(study_obj, eps=eps, min_samples=min_samples)
        self.stdout.write(
            f"Made {result['clusters']} canonical values from {result['clustered_cards']} cards; "
            f"{result['unclustered_cards']} cards left for batch deduplication."
        )
