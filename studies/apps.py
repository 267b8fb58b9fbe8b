from django.apps import AppConfig


class StudiesConfig(AppConfig):
    """The base layer: studies, scenarios, consent, participants and the step
    table. It imports no feature app; features register with it."""

    name = "studies"
    verbose_name = "Studies and participants"
