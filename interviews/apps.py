from django.apps import AppConfig


class InterviewsConfig(AppConfig):
    name = "interviews"
    verbose_name = "Values interviews"

    def ready(self):
        # Registration needs the app registry ready, so these imports wait for it.
        from interviews import offline, participant_data, services, views
        from studies import steps
        from studies.models import Step

        offline.register()
        steps.on_enter(Step.INTERVIEW, services.start_only_scenario)
        steps.page(Step.SCENARIO, views.scenario_page)
        steps.page(Step.INTERVIEW, views.interview_page)
        participant_data.register()
