from django.apps import AppConfig


class JourneyConfig(AppConfig):
    """The orchestration layer: the participant's pages from the study link to
    the completion code, withdrawal, the study report, exports and simulated
    participants. It may import every app; no app imports it."""

    name = "journey"
    verbose_name = "Participant journey"
