from django.apps import AppConfig


class WeightsConfig(AppConfig):
    name = "weights"
    verbose_name = "Survey weights"

    def ready(self):
        # Registration needs the app registry ready, so this import waits for it.
        from studies import weighting
        from weights import participant_data, reading

        participant_data.register()
        weighting.register_source(reading.read)
