"""The surveys' share of a participant's data: answers in the export; on
withdrawal, answers and the follow-up link, with their audit-trail copies."""

from studies.contributions import export_table, participant_content
from surveys import selectors
from surveys.models import FollowUpLink, SurveyResponse


def _delete(participant) -> dict[str, int]:
    answers = SurveyResponse.objects.filter(participant=participant).delete()[0]
    FollowUpLink.objects.filter(participant=participant).delete()
    return {"survey_answers": answers}


def _audit_copies(participant) -> dict[str, list]:
    return {
        "surveys.SurveyResponseEvent": list(SurveyResponse.objects.filter(participant=participant)
                                            .values_list("pk", flat=True)),
        "surveys.FollowUpLinkEvent": list(FollowUpLink.objects.filter(participant=participant)
                                          .values_list("pk", flat=True)),
    }


def register() -> None:
    export_table("survey_answers.csv", ["participant", "item", "bank_version", "kind", "answer", "created_at",
                                        "updated_at"], lambda study, pids: selectors.export_rows(pids))
    participant_content(_delete, _audit_copies)
