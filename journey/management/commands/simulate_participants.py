from django.core.management.base import BaseCommand, CommandError

from journey import simulation
from mgeplatform.llm import gateway
from studies import arms, selectors


class Command(BaseCommand):
    help = (
        "Run N scripted participants through the whole journey with the offline models (tagged simulated; "
        "reports leave them out unless asked). For pilots and demos."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--n", type=int, default=20)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, study, n, seed, **options):
        study_obj = selectors.get_study(study)
        if study_obj is None:
            raise CommandError(f"No study with slug {study!r}.")
        if n < 1:
            raise CommandError("--n must be at least 1.")
        route = next((r for r in map(gateway.resolve, arms.every_interviewer(study_obj)) if not r.offline), None)
        if route is not None:
            raise CommandError(
                f"Study {study} uses {route.provider}; simulated participants only run against the "
                "offline models (set the study's LLM provider to offline, and its arms')."
            )
        step = max(1, n // 10)

        def progress(done, total):
            if done % step == 0 or done == total:
                self.stdout.write(f"  {done}/{total} participants")

        result = simulation.simulate(study_obj, n, seed=seed, progress=progress)
        self.stdout.write(
            f"Simulated {result.participants} participants ({result.completed} completed) in "
            f"{result.seconds:.1f} s with {result.llm_calls} offline LLM calls and "
            f"{result.story_runs} story runs."
        )
