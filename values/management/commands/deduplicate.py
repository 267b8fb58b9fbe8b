from django.core.management.base import BaseCommand, CommandError

from studies import selectors
from values import services


class Command(BaseCommand):
    help = "Run the batch deduplicator once for a study (it also runs every ten minutes in the worker)."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="Study slug.")

    def handle(self, *args, study, **options):
        study_obj = selectors.get_study(study)
        if study_obj is None:
            raise CommandError(f"No study with slug {study!r}.")
        run = services.run_batch_dedup(study_obj)
        counts = run.counts
        self.stdout.write(
            f"Run {run.pk} {run.status}: {counts.get('cards', 0)} cards, {counts.get('joined', 0)} "
            f"joined existing values, {counts.get('new', 0)} became new values, "
            f"{counts.get('failed', 0)} left for the next run. {run.error}".rstrip()
        )
