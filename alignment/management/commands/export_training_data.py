"""Export SFT and preference training data from a study's moral graph
(docs/alignment-target.md, Training data)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from alignment import training
from graph.models import GraphSnapshot
from graph.selectors import latest_snapshot
from studies import selectors as study_selectors


class Command(BaseCommand):
    help = (
        "Write sft.jsonl, preferences.jsonl and dataset_card.md from a study's moral graph for its scenarios' "
        'prompts and any in --prompts (JSONL {"prompt": ...} lines, or CSV with a prompt column). Running '
        "it again with the same prompts and snapshot resumes the run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="the study's slug")
        parser.add_argument("--prompts", help="further prompts: JSONL or .csv")
        parser.add_argument("--out", required=True, help="the output directory")
        parser.add_argument("--snapshot", type=int, help="a graph snapshot id (default: the study's latest)")
        parser.add_argument("--limit", type=int, help="stop after this many examples (run again to resume)")
        parser.add_argument("--estimate-only", action="store_true", help="print the cost estimate and stop")

    def handle(self, *args, study, out, prompts=None, snapshot=None, limit=None, estimate_only=False, **options):
        study_obj = study_selectors.get_study(study)
        if study_obj is None:
            raise CommandError(f"No study with slug {study!r}.")
        if snapshot is not None:
            graph = GraphSnapshot.objects.filter(study=study_obj, pk=snapshot).first()
            if graph is None:
                raise CommandError(f"Study {study!r} has no graph snapshot {snapshot}.")
        else:
            graph = latest_snapshot(study_obj)
            if graph is None:
                raise CommandError(f"Study {study!r} has no graph snapshot yet: build the moral graph first.")
        extra = []
        if prompts:
            try:
                text = Path(prompts).read_text(encoding="utf-8")
            except OSError as err:
                raise CommandError(f"Cannot read {prompts}: {err}") from err
            extra, problems = training.read_prompts(text, Path(prompts).name)
            for problem in problems:
                self.stderr.write(problem)
        prompt_set = training.prompt_set(study_obj, extra)
        if not prompt_set:
            raise CommandError("No prompts: the study has no active scenario prompts and no file was given.")
        run = training.start_run(study_obj, graph, prompt_set)
        self.stdout.write(f"Training run {run.pk}: {len(prompt_set)} prompt(s), snapshot {graph.pk}.")
        self.stdout.write("Cost estimate: " + training.estimate(run).describe())
        if estimate_only:
            return
        progress = training.process(run, limit=limit)
        paths = training.write_files(run, out)
        run.refresh_from_db()
        c = run.counts
        dropped = sum(c.get("dropped", {}).values())
        self.stdout.write(
            f"{c.get('sft', 0)} SFT example(s), {c.get('pairs', 0)} preference pair(s), "
            f"{dropped} dropped; written to {paths['sft']}, {paths['preferences']}, {paths['card']}."
        )
        if progress.stopped:
            self.stdout.write(f"Stopped: {progress.stopped}. Run the same command again to resume.")
