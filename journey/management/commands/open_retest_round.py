"""Open a test–retest round for a seeded sample of completed participants.

    manage.py open_retest_round --study S (--n N | --fraction F) --seed K [--stratify-by arm|arm_stratum|language|none]

The sampled participants are invited through their follow-up links (made
for those who have none); export the links to send them.
"""

from django.core.management.base import BaseCommand, CommandError

from journey import retest
from studies import rounds, selectors


class Command(BaseCommand):
    help = "Open a retest round: invite a seeded, stratified sample of completed participants again."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="the study's slug")
        size = parser.add_mutually_exclusive_group(required=True)
        size.add_argument("--n", type=int, help="how many participants to invite")
        size.add_argument("--fraction", type=float, help="the share of completed participants to invite (0 to 1]")
        parser.add_argument("--seed", type=int, required=True, help="seed of the sample")
        parser.add_argument(
            "--stratify-by",
            choices=[s or "none" for s in rounds.STRATA],
            help="strata of the sample (default: by arm when the study has arms, else none)",
        )
        parser.add_argument("--days-valid", type=int, default=30, help="days the follow-up links stay valid")

    def handle(self, *args, study, n, fraction, seed, stratify_by, days_valid, **options):
        found = selectors.get_study(study)
        if found is None:
            raise CommandError(f"No study with slug {study!r}.")
        rule = None if stratify_by is None else ("" if stratify_by == "none" else stratify_by)
        try:
            opened = retest.open_retest_round(
                found, n=n, fraction=fraction, seed=seed, stratify_by=rule, days_valid=days_valid
            )
        except rounds.RoundError as err:
            raise CommandError(str(err)) from None
        self.stdout.write(opened.summary())
