from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self):
        # Registration needs the app registry ready, so these imports wait for it.
        from studies import steps
        from studies.models import Step
        from surveys import participant_data, services, views

        steps.on_enter(Step.SURVEY, services.on_enter_survey)
        steps.page(Step.SURVEY, views.survey_page)
        participant_data.register()
