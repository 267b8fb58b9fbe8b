import json

from django.core.management.base import BaseCommand, CommandError

from studies import selectors
from weights import services, targets


class Command(BaseCommand):
    help = "Weight a study's participants to a target population (raking) and print the representativeness report."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument(
            "--target", required=True, help=f"shipped ({', '.join(targets.shipped_names())}) or a CSV/JSON file"
        )
        parser.add_argument("--trim", type=float, default=None, help="cap weights at this many times the mean")
        parser.add_argument("--include-simulated", action="store_true")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, study, target, trim, include_simulated, json: bool, **options):
        study_obj = selectors.get_study(study)
        if study_obj is None:
            raise CommandError(f"No study with slug {study!r}.")
        if trim is not None and trim <= 1:
            raise CommandError("--trim must be above 1 (a multiple of the mean weight).")
        try:
            spec = targets.load(target)
            run, report = services.weigh(
                study_obj,
                spec,
                trim=trim,
                include_simulated=include_simulated,
                label=target if spec.name == target else f"{spec.name} ({target})",
            )
        except ValueError as err:
            raise CommandError(str(err)) from err
        if json:
            self.stdout.write(_dumps(report))
            return
        self.stdout.write(text_report(report, run))


def _dumps(report) -> str:
    keys = ("attributes", "missing", "tvd", "gri", "effective_n", "design_effect", "weights")
    return json.dumps({k: report[k] for k in keys}, indent=2)


def text_report(report, run) -> str:
    lines = [
        f"Weighting run {run.pk}: target {run.target}, trim {run.trim or 'none'}; "
        f"{len(report['weights'])} participants weighted. Participants missing an attribute are left out "
        f"(no weight)."
    ]
    for attribute, cats in report["attributes"].items():
        lines.append(f"\n{attribute} (missing {report['missing'][attribute]}, TVD {report['tvd'][attribute]:.3f})")
        lines.append(f"  {'category':<16}{'sample':>8}{'target':>8}{'weighted':>10}")
        for c, s in cats.items():
            lines.append(f"  {c:<16}{s['sample']:>8.3f}{s['target']:>8.3f}{s['weighted']:>10.3f}")
    lines.append(
        f"\nGRI ({report['gri_over']}): {report['gri']:.3f}; Kish effective N {report['effective_n']:.1f}; "
        f"design effect {report['design_effect']:.2f}"
    )
    return "\n".join(lines)
