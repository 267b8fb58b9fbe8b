"""Disputes: a participant contesting, in their own words, how the study
represents them (the merge of their card into a shared value, a transition
story's depiction of their value, their value's place in the moral graph),
and a coordinator's decision on it. Here, in the orchestration layer,
because a dispute points at values cards, transition stories and graph
snapshots alike."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models

TEXT_MAX_CHARS = 2000
REASON_MAX_CHARS = 2000


@pghistory.track()
class Dispute(models.Model):
    class Kind(models.TextChoices):
        MERGE = "merge", "Merge of my card into a shared value"
        STORY = "story", "A story's depiction of my value"
        PLACE = "place", "My value's place in the graph"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        UPHELD = "upheld", "Upheld"
        REJECTED = "rejected", "Rejected"

    class Via(models.TextChoices):
        THANK_YOU = "thank_you", "Thank-you page"
        FOLLOW_UP = "follow_up", "Follow-up link"

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="disputes")
    participant = models.ForeignKey("studies.Participant", on_delete=models.CASCADE, related_name="disputes")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    via = models.CharField(max_length=16, choices=Via.choices)
    text = models.TextField(help_text="The participant's own words.")
    # What is contested (the value as it was when the dispute was opened).
    target = models.CharField(max_length=64, help_text="What is contested, e.g. card:12, story:7, value:3.")
    card = models.ForeignKey("values.ValuesCard", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    value = models.ForeignKey(
        "values.CanonicalValue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    story = models.ForeignKey(
        "graph.TransitionStory", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snapshot = models.ForeignKey(
        "graph.GraphSnapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, help_text="The coordinator's reason, shown to the participant.")
    outcome = models.JSONField(
        default=dict, blank=True, help_text="What upholding did: the new value, the archived story, the build job."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A double submit (or a second tab) makes one dispute.
            models.UniqueConstraint(
                fields=["participant", "target"],
                condition=models.Q(status="open"),
                name="journey_one_open_dispute_per_target",
            ),
        ]

    def __str__(self):
        return f"Dispute #{self.pk} ({self.get_kind_display()}, {self.get_status_display()})"
