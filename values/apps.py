from django.apps import AppConfig


class ValuesConfig(AppConfig):
    name = "values"
    verbose_name = "Values cards and canonical values"

    def ready(self):
        from values import offline

        offline.register()
