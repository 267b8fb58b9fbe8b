from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from mgeplatform.audit import system_context
from studies import services


class Command(BaseCommand):
    help = "Create or update the paper's case study: three scenarios, consent text, Prolific codes. Safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default=None, help="Study slug (default: case-study).")
        parser.add_argument(
            "--languages",
            default="",
            help="Comma-separated languages of a new study, e.g. es,ar (English, the case study's own, is always "
            "first: the pivot). Default: English only. An existing study keeps its languages.",
        )

    def handle(self, *args, slug=None, languages="", **options):
        codes = [c for c in (languages or "").split(",") if c.strip()]
        try:
            wanted = services.case_study_languages(codes) if codes else None
        except ValidationError as err:
            raise CommandError(" ".join(err.messages)) from err
        with system_context("seed_case_study"):
            study, created = services.seed_case_study(slug=slug, study_languages=wanted)
        verb = "Created" if created else "Up to date:"
        self.stdout.write(
            f"{verb} study '{study.slug}' with {study.scenarios.count()} scenarios in {', '.join(study.languages)}."
        )
        if wanted and not created and list(study.languages) != wanted:
            self.stdout.write(f"It keeps its languages; --languages applies to a new study ({', '.join(wanted)}).")
