from django.apps import AppConfig


class GraphConfig(AppConfig):
    name = "graph"
    verbose_name = "Moral graph"

    def ready(self):
        # Registration needs the app registry ready, so these imports wait for it.
        from graph import offline, participant_data, services, views
        from studies import steps
        from studies.models import Step

        offline.register()
        steps.on_enter(Step.STORIES, services.on_enter_stories)
        steps.page(Step.STORIES, views.stories_page)
        participant_data.register()
