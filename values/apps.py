from django.apps import AppConfig


class ValuesConfig(AppConfig):
    name = "values"
    verbose_name = "Values cards and canonical values"

    def ready(self):
        # Registration needs the app registry ready, so these imports wait for it.
        from studies import steps
        from studies.models import Step
        from values import offline, participant_data, views

        offline.register()
        steps.interstitial(views.approval_page, at=(Step.RELEVANCE, Step.STORIES, Step.SURVEY))
        participant_data.register()
