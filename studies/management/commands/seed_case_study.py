from django.core.management.base import BaseCommand

from mgeplatform.audit import system_context
from studies import services


class Command(BaseCommand):
    help = "Create or update the paper's case study: three scenarios, consent text, Prolific codes. Safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default=None, help="Study slug (default: case-study).")

    def handle(self, *args, slug=None, **options):
        with system_context("seed_case_study"):
            study, created = services.seed_case_study(slug=slug)
        verb = "Created" if created else "Up to date:"
        self.stdout.write(f"{verb} study '{study.slug}' with {study.scenarios.count()} scenarios.")
