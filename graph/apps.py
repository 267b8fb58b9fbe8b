from django.apps import AppConfig


class GraphConfig(AppConfig):
    name = "graph"
    verbose_name = "Moral graph"

    def ready(self):
        # Registration needs the app registry ready, so these imports wait for it.
        from graph import offline, participant_data

        offline.register()
        participant_data.register()
