"""Add an arm to a study run as an experiment.

    manage.py add_arm --study S --name NAME [--set FIELD=VALUE ...] [--weight W]

FIELD is one of studies.arm_settings.FIELDS (relevance_step=off,
stories_per_participant=5, llm_provider=openai, llm_model=gpt-4o,
scenarios=3,4, interviewer_prompt_version=2, story_prompt_version=1).
"""

from django.core.management.base import BaseCommand, CommandError

from studies import arm_settings, arms, selectors


class Command(BaseCommand):
    help = "Add an arm to a study: newcomers are randomised between its arms by weight."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True, help="the study's slug")
        parser.add_argument("--name", required=True, help="the arm's name (letters, digits, hyphens)")
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            dest="overrides",
            metavar="FIELD=VALUE",
            help="a setting the arm overrides; fields: " + ", ".join(arm_settings.FIELDS),
        )
        parser.add_argument("--weight", type=int, default=1, help="places in each block (default 1)")

    def handle(self, *args, study, name, overrides, weight, **options):
        found = selectors.get_study(study)
        if found is None:
            raise CommandError(f"No study with slug {study!r}.")
        try:
            settings = dict(arm_settings.parse_assignment(text) for text in overrides)
            arm = arms.add_arm(study=found, name=name, weight=weight, settings=settings)
        except arm_settings.ArmSettingsError as err:
            raise CommandError(str(err)) from None
        shown = ", ".join(f"{k}={v}" for k, v in arm.settings.items()) or "the study's own settings"
        self.stdout.write(f"Added arm {arm.name} (weight {arm.weight}) to {found.slug}: {shown}.")
