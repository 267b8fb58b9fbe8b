import json

from django.core.management.base import BaseCommand, CommandError

from studies.models import Study
from surveys import selectors


class Command(BaseCommand):
    help = (
        "Print a study's survey results as in the paper: Table 3 (Likert items, share answering each point, "
        "agree = 3 or above, and 4 or above), Table 4 (fair position) and the deduplication check (4.5)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="Study slug.")
        parser.add_argument("--include-simulated", action="store_true", help="Count simulated participants.")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def handle(self, *args, **o):
        study = Study.objects.filter(slug=o["study"]).first()
        if study is None:
            raise CommandError(f"No study with slug {o['study']!r}.")
        sim = o["include_simulated"]
        results = {
            "legitimacy": selectors.legitimacy_table(study, include_simulated=sim),
            "fairness": selectors.fairness_table(study, include_simulated=sim),
            "dedup_verification": selectors.dedup_verification_table(study, include_simulated=sim),
            "attention": selectors.attention_summary(study, include_simulated=sim),
        }
        if o["json"]:
            self.stdout.write(json.dumps(results, indent=2))
            return

        def pct(v):
            return "   –  " if v is None else f"{v:5.1f}%"

        self.stdout.write(f"{'item':<22}{'n':>5}" + "".join(f"{p:>7}" for p in range(1, 6)) + "  agree3+  agree4+")
        for row in results["legitimacy"]:
            self.stdout.write(
                f"{row['key']:<22}{row['n']:>5}"
                + "".join(f" {pct(row['distribution'][p])}" for p in range(1, 6))
                + f"  {pct(row['agree_3_or_more'])}  {pct(row['agree_4_or_more'])}"
            )
        f = results["fairness"]
        self.stdout.write(f"Fair position (Table 4): n={f['n']} yes {pct(f['yes_percent'])} no {pct(f['no_percent'])}")
        d = results["dedup_verification"]
        self.stdout.write(
            f"Merged value represents them (4.5): n={d['n']} well {pct(d['well_percent'])} "
            f"partly {pct(d['partly_percent'])} not {pct(d['not_percent'])}"
        )
        a = results["attention"]
        self.stdout.write(f"Attention checks: {a['participants']} participants answered, {a['wrong']} wrongly")
