from django.core.management.base import BaseCommand, CommandError

from interviews import grading
from studies import selectors


class Command(BaseCommand):
    help = (
        "Grade finished interview transcripts on the paper's nine criteria (A.4) and print mean scores per "
        "interviewer prompt version."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="Study slug.")
        parser.add_argument("--regrade", action="store_true", help="Grade again interviews already graded.")
        parser.add_argument("--limit", type=int, default=None, help="Grade at most this many interviews.")

    def handle(self, *args, study, regrade=False, limit=None, **options):
        study_obj = selectors.get_study(study)
        if study_obj is None:
            raise CommandError(f"No study with slug {study!r}.")
        result = grading.grade_study(study_obj, regrade=regrade, limit=limit)
        self.stdout.write(f"Graded {result['graded']} interviews ({result['failed']} failed).")
        table = grading.summary(study_obj)
        if not table:
            self.stdout.write("No graded interviews yet.")
            return
        versions = list(table)
        header = f"{'criterion':<26}" + "".join(f"{'interviewer v' + v:>18}" for v in versions)
        self.stdout.write(header)
        self.stdout.write(f"{'interviews':<26}" + "".join(f"{table[v]['n']:>18}" for v in versions))
        for name in grading.CRITERIA:
            self.stdout.write(f"{name:<26}" + "".join(f"{table[v][name]:>18.2f}" for v in versions))
