from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self):
        # Registration needs the app registry ready, so these imports wait for it.
        from surveys import participant_data

        participant_data.register()
