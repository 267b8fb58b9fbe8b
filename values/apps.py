from django.apps import AppConfig


class ValuesConfig(AppConfig):
    name = "values"
    verbose_name = "Values cards and canonical values"

    def ready(self):
        # Registration needs the app registry ready, so these imports wait for it.
        from interviews import card_store
        from studies import steps
        from studies.models import Step
        from values import offline, participant_data, services, translation, views

        offline.register()
        card_store.register(
            card_store.CardStore(
                create=services.add_card_revision,
                submitted=translation.queue_card_translation,
                match_in_chat=services.match_card_in_chat_async,
            )
        )
        steps.interstitial(views.approval_page, at=(Step.RELEVANCE, Step.STORIES, Step.SURVEY))
        participant_data.register()
