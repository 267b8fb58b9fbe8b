from django.apps import AppConfig


class GraphConfig(AppConfig):
    name = "graph"
    verbose_name = "Moral graph"

    def ready(self):
        from graph import offline

        offline.register()
