"""The journey's share of a participant's data: their disputes. On
withdrawal (under the delete-content policy) the disputes and their
audit-trail copies go with everything else the participant wrote; on the
participant's admin page they are a table of the trail."""

from journey.models import Dispute
from studies.contributions import TrailSection, admin_link, iso, participant_content, participant_trail


def _delete(participant) -> dict[str, int]:
    return {"disputes": Dispute.objects.filter(participant=participant).delete()[0]}


def _audit_copies(participant) -> dict[str, list]:
    return {"journey.DisputeEvent": list(Dispute.objects.filter(participant=participant).values_list("pk", flat=True))}


def _texts(participant):
    return Dispute.objects.filter(participant=participant).values_list("text", flat=True)


def _trail(participant) -> list[TrailSection]:
    rows = [
        [
            admin_link(d, f"#{d.pk}"),
            d.get_kind_display(),
            d.text,
            d.get_status_display(),
            d.reason,
            iso(d.created_at),
            iso(d.decided_at),
        ]
        for d in Dispute.objects.filter(participant=participant).order_by("created_at", "pk")
    ]
    return [
        TrailSection(
            "Disputes",
            ["dispute", "about", "their words", "status", "coordinator's reason", "opened", "decided"],
            rows,
            empty="No disputes.",
        )
    ]


def register() -> None:
    participant_content(_delete, _audit_copies, _texts)
    participant_trail(_trail)
