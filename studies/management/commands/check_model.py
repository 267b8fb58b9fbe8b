"""Check what a language model supports before participants meet it.

    manage.py check_model [--study SLUG]

Without --study the platform's default model (LLM_DEFAULT_PROVIDER, ...)
is checked; with it, the study's, and the report is kept on the study.
Exits 1 when the model cannot answer at all.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mgeplatform.llm import gateway, probe
from studies import services
from studies.models import Study


class Command(BaseCommand):
    help = "Check a language model's tool calls, turn order, usage reports and embedding size."

    def add_arguments(self, parser):
        parser.add_argument("--study", help="the study's slug (default: the platform's default model)")

    def handle(self, *args, study=None, **options):
        if study:
            found = Study.objects.filter(slug=study).first()
            if found is None:
                raise CommandError(f"No study {study!r}.")
            route = gateway.resolve(found)
            report = services.check_study_model(found)
        else:
            route = gateway.resolve(None)
            report = None if route.offline else probe.probe(route, embedding_dimensions=settings.EMBEDDING_DIMENSIONS)
        if report is None:
            why = f" ({route.fallback_reason})" if route.fallback_reason else ""
            self.stdout.write(f"offline provider{why}: nothing to check")
            return
        self.stdout.write(f"{route.provider} {route.model} {route.base_url}".strip())
        self.stdout.write(
            f"  streams: {'yes' if report.streams else 'no'}; usage reported: "
            f"{'yes' if report.usage_reported else 'no (estimated)'}; tools: {report.tools}; "
            f"system role: {'yes' if report.system_role else 'no'}; assistant first: "
            f"{'yes' if report.assistant_first else 'no'}; embedding dimensions: "
            f"{report.embedding_dimensions or 'failed'}"
        )
        self.stdout.write(
            f"  uses: tool protocol {report.recommended.tool_protocol}, "
            f"{'strict' if report.recommended.strict_turns else 'ordinary'} turns"
        )
        for problem in report.problems():
            self.stdout.write(f"  - {problem}")
        if not report.usable:
            raise CommandError("The model cannot be used as configured.")
