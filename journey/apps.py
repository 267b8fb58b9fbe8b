from django.apps import AppConfig
from django.utils.translation import gettext_noop


class JourneyConfig(AppConfig):
    """The orchestration layer: the participant's pages from the study link to
    the completion code, withdrawal, the study report, exports and simulated
    participants. It may import every app; no app imports it."""

    name = "journey"
    verbose_name = "Participant journey"

    def ready(self):
        # Registration needs the app registry ready, so these imports wait for it.
        from graph import explorer
        from journey import participant_data, selectors, table
        from studies import links, steps
        from surveys import views as survey_views

        steps.declare(table.TABLE)
        participant_data.register()
        links.register(entry="journey:entry", consent="journey:consent", journey="journey:journey")
        survey_views.register_follow_up_link(
            gettext_noop("Something wrong with how you are represented? Dispute it"), "journey:follow_up_disputes"
        )
        explorer.register_section(selectors.explorer_disputes_section)
