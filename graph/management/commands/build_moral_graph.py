import json

from django.core.management.base import BaseCommand, CommandError

from graph import aggregation, bridging, explorer, reports, selectors, services
from graph.management.commands._common import study_or_error


class Command(BaseCommand):
    help = (
        "Build a moral graph snapshot for a study: aggregate votes, filter edges, remove cycles, rank values by "
        "PageRank and estimate rank intervals by bootstrap. Parameters default to the original implementation's."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="Study slug.")
        parser.add_argument("--include-simulated", action="store_true", help="Count simulated participants' votes.")
        defaults = aggregation.Parameters()
        parser.add_argument("--min-wiser", type=int, default=defaults.min_wiser)
        parser.add_argument("--min-likelihood", type=float, default=defaults.min_likelihood)
        parser.add_argument("--max-entropy", type=float, default=defaults.max_entropy)
        parser.add_argument(
            "--entropy-over",
            choices=["five", "answers"],
            default=defaults.entropy_over,
            help="five: over the four answer counts and impressions (original); answers: answers only.",
        )
        parser.add_argument(
            "--cycle-policy",
            choices=aggregation.CYCLE_POLICIES,
            default=defaults.cycle_policy,
            help="drop: every edge on a cycle (original); keep: all; break_weakest: remove the "
            "lowest-likelihood edge of each cycle until none is left.",
        )
        parser.add_argument("--bootstrap-samples", type=int, default=defaults.bootstrap_samples)
        parser.add_argument("--seed", type=int, default=defaults.bootstrap_seed)
        parser.add_argument(
            "--bridging-attribute",
            default=bridging.DEFAULT_ATTRIBUTE,
            help="Column of the imported Prolific demographics that groups participants for "
            f"bridging (default {bridging.DEFAULT_ATTRIBUTE!r}); case does not matter.",
        )
        parser.add_argument(
            "--bridging-min-votes",
            type=int,
            default=bridging.DEFAULT_MIN_VOTES,
            help="Votes a group must cast on an edge for its verdict to count.",
        )
        parser.add_argument(
            "--exclude-flagged",
            action="store_true",
            help="Build a second snapshot without the participants the coordinated-voting detector "
            "flags (each listed in it with the reason) and print how the winners moved.",
        )
        parser.add_argument(
            "--quick",
            action="store_true",
            help="Edges and PageRank scores only, from the pair counts: no bootstrap intervals, "
            "other aggregators, bridging or coordinated-voting detection (the snapshot says "
            "which stages it skipped). Seconds at a million votes.",
        )

        parser.add_argument(
            "--weighting",
            type=int,
            metavar="RUN_ID",
            help="Count each vote with its participant's survey weight from this weighting run (weight_study); "
            "participants the run gave no weight are left out. Not with --quick.",
        )

    def handle(self, *args, **o):
        study = study_or_error(o["study"])
        try:
            params = aggregation.Parameters.from_dict(
                {
                    "min_wiser": o["min_wiser"],
                    "min_likelihood": o["min_likelihood"],
                    "max_entropy": o["max_entropy"],
                    "entropy_over": o["entropy_over"],
                    "cycle_policy": o["cycle_policy"],
                    "bootstrap_samples": o["bootstrap_samples"],
                    "bootstrap_seed": o["seed"],
                }
            )
        except ValueError as err:
            raise CommandError(str(err)) from err
        if o["bridging_min_votes"] < 1:
            raise CommandError("--bridging-min-votes must be at least 1")
        bridging_options = {
            "bridging_attribute": o["bridging_attribute"],
            "bridging_min_votes": o["bridging_min_votes"],
        }
        if o["weighting"] is not None:
            bridging_options["weighting"] = o["weighting"]
            if o["quick"]:
                raise CommandError("--weighting needs every vote with its voter, which --quick does not read")
        if o["quick"] and o["exclude_flagged"]:
            raise CommandError("--exclude-flagged needs the coordinated-voting detection that --quick skips")
        if o["exclude_flagged"]:
            everyone, snapshot = services.build_without_flagged(
                study, parameters=params, include_simulated=o["include_simulated"], **bridging_options
            )
            self._report(everyone, study, o)
            self.stdout.write("")
            self._report(snapshot, study, o)
            self.stdout.write(f"Left out {len(snapshot.scores['coordination']['excluded'])} flagged participant(s):")
            for e in snapshot.scores["coordination"]["excluded"]:
                self.stdout.write(f"  {e['participant']}: {e['reason']}")
            for block in reports.winners_diff(everyone, snapshot):
                changed = " (first place changed)" if block["winner_changed"] else ""
                self.stdout.write(
                    f"Winners, {block['title']}{changed}: "
                    + "; ".join(f"{r['title']} {r['before'] or '–'} → {r['after'] or '–'}" for r in block["rows"])
                )
            return
        try:
            snapshot = services.build_snapshot(
                study, parameters=params, include_simulated=o["include_simulated"], quick=o["quick"], **bridging_options
            )
        except ValueError as err:
            raise CommandError(str(err)) from err
        self._report(snapshot, study, o)

    def _report(self, snapshot, study, o):
        s = snapshot.summary
        self.stdout.write(
            f"Snapshot {snapshot.pk}: {s['values']} values, {s['votes']} votes, {s['pairs']} pairs, "
            f"{s['edges_kept']} edges kept, dropped {json.dumps(s['dropped'])}, {s['cycles']} cycles."
        )
        if not o["include_simulated"]:
            left_out = selectors.simulated_vote_count(study)
            if left_out:
                self.stdout.write(
                    f"Left out {left_out} votes of simulated participants; add --include-simulated to count them."
                )
        if snapshot.weighting_run_id is not None:
            left = snapshot.weighting.get("left_out", {})
            self.stdout.write(
                f"Weighted by run {snapshot.weighting_run_id} ({snapshot.weighting.get('target')}): "
                f"{snapshot.weighting.get('voters')} weighted voters; left out "
                f"{left.get('unweighted_participants', 0)} participant(s) without a weight "
                f"({left.get('unweighted_votes', 0)} votes) and {left.get('imported_votes', 0)} imported votes."
            )
            for row in snapshot.scores.get("weighting", {}).get("winners", []):
                if row["differ"]:
                    where = "whole graph" if row["scope"] == "global" else f"{row['scope']} {row['id']}"
                    self.stdout.write(
                        f"  {where}: first weighted {self._title(snapshot, row['weighted'])}, "
                        f"unweighted {self._title(snapshot, row['unweighted'])}"
                    )
        if s.get("skipped_stages"):
            self.stdout.write("Quick build, skipped: " + ", ".join(s["skipped_stages"]) + ".")
        else:
            self._robustness(snapshot)
        self.stdout.write("Stages (s): " + ", ".join(f"{k} {v}" for k, v in snapshot.stage_seconds.items()))
        top = sorted(snapshot.scores["global"].items(), key=lambda kv: -kv[1])[:5]
        votes = explorer.value_votes(snapshot)
        for vid, score in top:
            b = snapshot.bootstrap.get(vid, {})
            interval = f" (95% rank interval {b['rank_low']}-{b['rank_high']})" if b else ""
            if votes.get(vid, 0) < explorer.min_votes():
                interval = f" ({explorer.TOO_FEW_VOTES}: {votes.get(vid, 0)})"
            self.stdout.write(f"  {score:.4f}  {snapshot.values[vid]['title']}{interval}")

    @staticmethod
    def _title(snapshot, value_id):
        return snapshot.values.get(value_id, {}).get("title", value_id) if value_id else "–"

    def _robustness(self, snapshot):
        b = snapshot.scores["bridging"]
        found = f"column {b['column']!r}" if b["column"] else "no participant has it: everyone is 'unknown'"
        self.stdout.write(
            f"Bridging by {b['attribute']!r} ({found}): "
            + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in b["kinds"].items())
            + " of the kept edges; groups "
            + ", ".join(f"{g['name']} ({g['participants']} voters)" for g in b["groups"])
            + "."
        )
        flagged = snapshot.summary.get("flagged_participants", 0)
        self.stdout.write(f"Coordinated voting: {flagged} participant(s) flagged.")
