"""The surveys' share of a participant's data: answers in the export; on
withdrawal, answers and the follow-up link, with their audit-trail copies."""

from studies.contributions import TrailSection, admin_link, export_table, iso, participant_content, participant_trail
from surveys import selectors
from surveys.models import FollowUpLink, SurveyResponse


def _delete(participant) -> dict[str, int]:
    answers = SurveyResponse.objects.filter(participant=participant).delete()[0]
    FollowUpLink.objects.filter(participant=participant).delete()
    return {"survey_answers": answers}


def _audit_copies(participant) -> dict[str, list]:
    return {
        "surveys.SurveyResponseEvent": list(
            SurveyResponse.objects.filter(participant=participant).values_list("pk", flat=True)
        ),
        "surveys.FollowUpLinkEvent": list(
            FollowUpLink.objects.filter(participant=participant).values_list("pk", flat=True)
        ),
    }


def _trail(participant) -> list[TrailSection]:
    answers = (
        SurveyResponse.objects.filter(participant=participant)
        .select_related("item__bank")
        .order_by("item__when", "item__order", "pk")
    )
    return [
        TrailSection(
            "Survey answers",
            ["question", "kind", "answer", "answered"],
            [[admin_link(r, r.item.text), r.item.get_kind_display(), r.answer, iso(r.updated_at)] for r in answers],
            empty="No answers yet.",
        )
    ]


def register() -> None:
    export_table(
        "survey_answers.csv",
        ["participant", "item", "bank_version", "kind", "answer", "created_at", "updated_at", "round"],
        lambda study, pids: selectors.export_rows(pids),
    )
    participant_content(_delete, _audit_copies)
    participant_trail(_trail)
