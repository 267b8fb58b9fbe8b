from django.core.management.base import BaseCommand

from graph import stories
from graph.management.commands._common import study_or_error


class Command(BaseCommand):
    help = (
        "Write moral contexts (where a scenario has none) and transition stories for new candidate pairs "
        "(it also runs every 15 minutes in the worker for open studies)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--reverse", action="store_true", help="Also write each pair's reverse direction.")
        parser.add_argument("--max-stories", type=int, default=60)

    def handle(self, *args, study, reverse, max_stories, **options):
        run = stories.generate_stories(study_or_error(study), reverse=reverse, max_stories=max_stories)
        c = run.counts
        self.stdout.write(
            f"Story run {run.pk} {run.status}: {c.get('groups', 0)} groups, {c.get('pairs', 0)} pairs, "
            f"{c.get('stories', 0)} new stories, {c.get('skipped', 0)} already had one, "
            f"{c.get('rejected', 0)} model answers rejected. {run.error}".rstrip()
        )
