from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from journey import exports
from studies import selectors


class Command(BaseCommand):
    help = (
        "Export a study's data: long-format CSV files (one row per event), participants.csv (one row per "
        "participant), the moral graph as JSON and codebook.md. Prolific IDs only with --identities-reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--out", required=True, help="Directory to write into (created if missing).")
        parser.add_argument("--include-simulated", action="store_true")
        parser.add_argument(
            "--identities-reason",
            default="",
            help="Also write prolific_identities.csv; the reason is recorded in the audit trail.",
        )

    def handle(self, *args, study, out, include_simulated, identities_reason, **options):
        study_obj = selectors.get_study(study)
        if study_obj is None:
            raise CommandError(f"No study with slug {study!r}.")
        written = exports.export_study(
            study_obj, Path(out), include_simulated=include_simulated, identities_reason=identities_reason
        )
        for name, rows in written.items():
            self.stdout.write(f"  {name}: {rows} rows")
        self.stdout.write(f"Wrote {len(written)} files and codebook.md to {out}.")
