from django.apps import AppConfig


class StudiesConfig(AppConfig):
    """The base layer: studies, scenarios, consent, participants and the step
    table. It imports no feature app; features register with it."""

    name = "studies"
    verbose_name = "Studies and participants"

    def ready(self):
        # Registration needs the app registry ready, so the import waits for it.
        from studies import participant_data

        participant_data.register()
