"""Values cards (paper 4.1) and, with the deduplication issue, canonical values."""

import pghistory
from django.contrib.postgres.fields import ArrayField
from django.db import models


@pghistory.track()
class ValuesCard(models.Model):
    """One revision of a participant's values card.

    Every change (by the articulator, by the participant's chat request, by a
    direct edit) is a new row; the highest revision is the current card.
    """

    class Source(models.TextChoices):
        ARTICULATOR = "articulator", "Written by the articulator"
        PARTICIPANT_EDIT = "participant_edit", "Edited by the participant"

    interview = models.ForeignKey("interviews.Interview", on_delete=models.CASCADE, related_name="cards")
    revision = models.PositiveIntegerField()
    title = models.CharField(max_length=120)
    description = models.CharField(max_length=400, help_text="One line: what an assistant with this value does.")
    policies = ArrayField(models.CharField(max_length=300), help_text="Attentional policies, in order.")
    source = models.CharField(max_length=32, choices=Source.choices)
    llm_call = models.ForeignKey("mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted = models.BooleanField(default=False, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["interview", "-revision"]
        constraints = [models.UniqueConstraint(fields=["interview", "revision"], name="card_revision_unique")]

    def __str__(self):
        return f"{self.title} (rev {self.revision})"

    def as_dict(self) -> dict:
        return {
            "id": self.pk,
            "revision": self.revision,
            "title": self.title,
            "description": self.description,
            "policies": list(self.policies),
            "source": self.source,
            "submitted": self.submitted,
        }
