from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from journey import simulation


class Command(BaseCommand):
    help = ("Fill a demo study (slug 'demo') with N simulated participants through the whole journey, rate their "
            "transcripts and build its moral graph, so the explorer and the report have something to show. "
            "Tops up to N; safe to run again.")

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=30)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, n, seed, **options):
        if n < 1:
            raise CommandError("--n must be at least 1.")

        def progress(done, total):
            if done % 10 == 0 or done == total:
                self.stdout.write(f"  {done}/{total} simulated participants")

        out = simulation.populate_demo(n, seed=seed, progress=progress)
        study, snapshot = out["study"], out["snapshot"]
        made = out["simulated"]
        self.stdout.write(
            f"Demo study '{study.slug}': "
            + (f"{made.participants} participants simulated in {made.seconds:.0f} s" if made else "already populated")
            + (f"; moral graph built ({len(snapshot.scores.get('global', {}))} values ranked)" if snapshot else ""))
        self.stdout.write("Report: " + reverse("admin:studies_study_report", args=[study.pk]) + "?simulated=1")
