from django.apps import AppConfig


class AlignmentConfig(AppConfig):
    name = "alignment"
    verbose_name = "Alignment target"

    def ready(self):
        # Registration needs the app registry ready, so the import waits for it.
        from alignment import offline

        offline.register()
