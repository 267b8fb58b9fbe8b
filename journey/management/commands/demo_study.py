from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from journey import simulation


class Command(BaseCommand):
    help = (
        "Fill a demo study (slug 'demo') with N simulated participants through the whole journey, rate their "
        "transcripts and build its moral graph, so the explorer and the report have something to show. "
        "Tops up to N; safe to run again. A demo filled by an earlier generator is set aside and built again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=simulation.DEMO_SIZE)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--prepare",
            action="store_true",
            help="only create the demo study (or set aside an outdated one) and print its report "
            "link; fill it with a later run",
        )

    def handle(self, *args, n, seed, prepare, **options):
        if n < 1:
            raise CommandError("--n must be at least 1.")
        if prepare:
            study = simulation.demo_study()
            self.stdout.write(f"Demo study '{study.slug}' ready to fill.")
            self.stdout.write("Report: " + reverse("admin:studies_study_report", args=[study.pk]) + "?simulated=1")
            return

        def progress(done, total):
            if done % 10 == 0 or done == total:
                self.stdout.write(f"  {done}/{total} simulated participants", ending="\n")
                self.stdout.flush()

        out = simulation.populate_demo(n, seed=seed, progress=progress)
        study, snapshot = out["study"], out["snapshot"]
        made = out["simulated"]
        if out["busy"]:
            self.stdout.write(f"Demo study '{study.slug}' is being built by another process; nothing done.")
        else:
            summary = snapshot.summary if snapshot else {}
            self.stdout.write(
                f"Demo study '{study.slug}': "
                + (
                    f"{made.participants} participants simulated in {made.seconds:.0f} s"
                    if made
                    else "already populated"
                )
                + (
                    f"; moral graph built ({summary.get('values', 0)} values, {summary.get('edges_kept', 0)} edges "
                    f"kept over {len({c for e in snapshot.edges if e['kept'] for c in e['contexts']})} contexts, "
                    f"{summary.get('cycles', 0)} cycles)"
                    if snapshot
                    else ""
                )
            )
        self.stdout.write("Report: " + reverse("admin:studies_study_report", args=[study.pk]) + "?simulated=1")
