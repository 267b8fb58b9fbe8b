from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.loader import render_to_string

from journey import attack
from journey.report import robustness_chart
from studies import selectors
from values.models import CanonicalValue


class Command(BaseCommand):
    help = (
        "Add a bloc of simulated voters pushing one value (inside a transaction that is rolled back), and print "
        "the value's rank before and after under PageRank and the other aggregators, and whether the "
        "coordination detector caught the bloc. --sweep tries 1%, 5%, 10%, 20% and 30% and gives the "
        "robustness curve. The results (not the votes) are kept for the study report."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="Study slug.")
        parser.add_argument("--target", required=True, type=int, help="Id of the canonical value to push.")
        parser.add_argument(
            "--bloc-share", type=float, default=0.1, help="The bloc's share of the voters once added (default 0.1)."
        )
        parser.add_argument(
            "--strategy",
            choices=attack.STRATEGIES,
            default="votes",
            help="votes: vote every story touching the target its way; cards: submit slogan cards pushing it; both.",
        )
        parser.add_argument("--sweep", action="store_true", help="Bloc shares 1%%, 5%%, 10%%, 20%%, 30%%.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--include-simulated",
            choices=["auto", "yes", "no"],
            default="auto",
            help="Count other simulated participants' votes (auto: when every counted vote is "
            "simulated, as in a demo).",
        )
        parser.add_argument("--svg", help="Also write the robustness curve as an SVG file here.")

    def handle(self, *args, **o):
        study = selectors.get_study(o["study"])
        if study is None:
            raise CommandError(f"No study with slug {o['study']!r}.")
        target = CanonicalValue.objects.filter(pk=o["target"], study=study).first()
        if target is None:
            raise CommandError(f"No value {o['target']} in study {study.slug}.")
        include = {"auto": None, "yes": True, "no": False}[o["include_simulated"]]
        shares = attack.SWEEP_SHARES if o["sweep"] else (o["bloc_share"],)
        try:
            run = attack.simulate_attack(
                study, target, shares=shares, strategy=o["strategy"], include_simulated=include, seed=o["seed"]
            )
        except attack.AttackError as err:
            raise CommandError(str(err)) from err
        self.stdout.write(
            f"Target: {target.title} (value {target.pk}); strategy {run['strategy']}; simulated "
            f"votes {'counted' if run['include_simulated'] else 'left out'}; the study was left as "
            "it was (every attack rolled back)."
        )
        for r in run["result_objects"]:
            self.stdout.write(
                f"\nBloc {r.share * 100:g}%: {r.bloc} members beside {r.voters} voters, {r.bloc_votes} "
                f"votes on {r.stories} stories, {r.cards} cards."
            )
            self.stdout.write("  rank of the target (1 = first), before → after:")
            for m in attack.methods():
                self.stdout.write(
                    f"    {attack.method_label(m):<34} {attack.fmt_rank(r.ranks_before.get(m))} → "
                    f"{attack.fmt_rank(r.ranks_after.get(m))}"
                )
            p = "–" if r.precision is None else f"{r.precision:.2f}"
            rc = "–" if r.recall is None else f"{r.recall:.2f}"
            self.stdout.write(
                f"  detector: {r.flagged} flagged, {r.flagged_in_bloc} of them in the bloc; precision {p}, recall {rc}"
            )
        self.stdout.write("\nBloc share needed to make the target first:")
        for m in attack.methods():
            self.stdout.write(f"  {attack.method_label(m):<34} {attack.fmt_share(run['share_needed'][m])}")
        self.stdout.write(f"Recorded as event {run['event']} (study.robustness_run); the study report shows it.")
        if o["svg"]:
            chart = robustness_chart(run)
            if chart is None:
                self.stdout.write("No chart: the target is ranked at no bloc share.")
            else:
                Path(o["svg"]).write_text(
                    render_to_string(
                        "includes/robustness_chart.svg",
                        {"chart": chart, "svg_id": "robustness", "title": f"Position of {target.title} by bloc share"},
                    )
                )
                self.stdout.write(f"Wrote {o['svg']}.")
