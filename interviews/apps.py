from django.apps import AppConfig


class InterviewsConfig(AppConfig):
    name = "interviews"
    verbose_name = "Studies and participant journey"

    def ready(self):
        from interviews import offline

        offline.register()
