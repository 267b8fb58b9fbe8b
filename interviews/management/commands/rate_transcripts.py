from django.core.management.base import BaseCommand, CommandError

from interviews import ratings
from studies import selectors


class Command(BaseCommand):
    help = (
        "Rate submitted interviews for the report: ideology of the first answer (Fig. 8) and, where the "
        "scenario has an expert question, relevant life experience (Fig. 12). Ratings are kept per prompt "
        "version; already rated interviews are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--include-simulated", action="store_true")

    def handle(self, *args, study, include_simulated, **options):
        study_obj = selectors.get_study(study)
        if study_obj is None:
            raise CommandError(f"No study with slug {study!r}.")
        done = ratings.rate_study(study_obj, include_simulated=include_simulated)
        self.stdout.write(
            f"Rated {done['ideology']} first answers for ideology and {done['expert']} transcripts "
            f"for relevant experience."
        )
