from django.core.management.base import BaseCommand, CommandError

from graph import selectors, services
from graph.models import GraphSnapshot


class Command(BaseCommand):
    help = (
        "Build a graph snapshot again, with its parameters, without the participants whose data it used and "
        "who have withdrawn since. The new snapshot supersedes the old one, which is kept and marked."
    )

    def add_arguments(self, parser):
        parser.add_argument("--snapshot", type=int, required=True, help="Id of the snapshot to build again.")

    def handle(self, *args, snapshot, **options):
        old = GraphSnapshot.objects.select_related("study").filter(pk=snapshot).first()
        if old is None:
            raise CommandError(f"No graph snapshot with id {snapshot}.")
        lineage = selectors.lineage(old)
        if not lineage["recorded"]:
            raise CommandError(
                f"Snapshot {old.pk} was built before snapshots recorded whose data they used; "
                "build the study's graph afresh instead (build_moral_graph)."
            )
        try:
            new = services.rebuild_without_withdrawn(old)
        except ValueError as err:
            raise CommandError(str(err)) from err
        self.stdout.write(
            f"Built snapshot {new.pk} from snapshot {old.pk} without the {lineage['withdrawn']} "
            f"participant(s) who withdrew since: {new.summary.get('votes', 0)} votes counted "
            f"(snapshot {old.pk} had {old.summary.get('votes', 0)}), "
            f"{new.summary.get('edges_kept', 0)} edges kept."
        )
