from django.apps import AppConfig


class ValuesConfig(AppConfig):
    name = "values"
    verbose_name = "Values cards and canonical values"

    def ready(self):
        # Registration needs the app registry ready, so these imports wait for it.
        from studies import steps
        from studies.models import Step
        from values import offline, participant_data, relevance, views

        offline.register()
        steps.on_enter(Step.RELEVANCE, relevance.on_enter_relevance)
        steps.page(Step.RELEVANCE, views.relevance_page)
        steps.interstitial(views.approval_page, at=(Step.RELEVANCE, Step.STORIES, Step.SURVEY))
        participant_data.register()
