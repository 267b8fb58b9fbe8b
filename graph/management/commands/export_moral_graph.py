from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from graph import interchange, selectors
from graph.management.commands._common import study_or_error
from graph.models import GraphSnapshot


class Command(BaseCommand):
    help = (
        "Export a study's moral graph (the latest snapshot unless --snapshot): json (Definition 4.4 plus "
        "PageRank, the other aggregators, the cycle policy and bridging; see docs/moral-graph-format.md), "
        "graphml (kept edges) or csv (a directory: values, edges, contexts, aggregators, aggregator scopes, "
        "bridging)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--format", choices=sorted(interchange.EXPORTERS), default="json")
        parser.add_argument("--out", required=True, help="File path (json, graphml) or directory (csv).")
        parser.add_argument("--snapshot", type=int, help="Snapshot id (default: the latest).")

    def handle(self, *args, study, format, out, snapshot=None, **options):
        study_obj = study_or_error(study)
        chosen = (
            GraphSnapshot.objects.filter(study=study_obj, pk=snapshot).first()
            if snapshot
            else selectors.latest_snapshot(study_obj)
        )
        if chosen is None:
            raise CommandError("No graph snapshot to export: run build_moral_graph first.")
        path = Path(out)
        if format != "csv" and not path.parent.exists():
            raise CommandError(f"The folder {path.parent} does not exist.")
        interchange.export_snapshot(chosen, format, path)
        self.stdout.write(f"Wrote snapshot {chosen.pk} as {format} to {path}.")
