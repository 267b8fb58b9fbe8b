from django.apps import AppConfig


class AlignmentConfig(AppConfig):
    name = "alignment"
    verbose_name = "Alignment target"

    def ready(self):
        # Registration needs the app registry ready, so the import waits for it.
        from alignment import offline, participant_data, playground
        from graph import explorer

        offline.register()
        participant_data.register()
        # The graph's pages link to the playground for whoever may open it.
        explorer.register_page_link("Playground", "alignment:playground", playground.may_open)
