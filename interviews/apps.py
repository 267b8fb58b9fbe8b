from django.apps import AppConfig


class InterviewsConfig(AppConfig):
    name = "interviews"
    verbose_name = "Values interviews"

    def ready(self):
        # Registration needs the app registry ready, so these imports wait for it.
        from interviews import offline, participant_data

        offline.register()
        participant_data.register()
