"""Values cards (paper 4.1) and canonical values (paper 4.5)."""

import pghistory
from django.contrib.postgres.fields import ArrayField
from django.db import models
from pgvector.django import HnswIndex, VectorField

EMBEDDING_DIMENSIONS = 384


class Embedded(models.Model):
    """A vector of the card's attentional policies, and the model that made
    it: vectors are only ever compared with vectors of the same model."""

    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    class Meta:
        abstract = True


@pghistory.track(exclude=["embedding"])
class CanonicalValue(Embedded):
    """A value that several participants' cards may share (paper 4.5)."""

    class Origin(models.TextChoices):
        SEED = "seed", "Seeded by clustering"
        BATCH = "batch", "Batch deduplication"
        MANUAL = "manual", "Made by a coordinator"

    study = models.ForeignKey("interviews.Study", on_delete=models.PROTECT, related_name="canonical_values")
    title = models.CharField(max_length=120)
    description = models.CharField(max_length=400)
    policies = ArrayField(models.CharField(max_length=300))
    origin = models.CharField(max_length=16, choices=Origin.choices)
    representative_card = models.ForeignKey("ValuesCard", null=True, blank=True, on_delete=models.SET_NULL,
                                            related_name="+", help_text="The card whose wording this value took.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [HnswIndex(name="canonical_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                             opclasses=["vector_cosine_ops"])]

    def __str__(self):
        return self.title


@pghistory.track(exclude=["embedding"])
class ValuesCard(Embedded):
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
    canonical = models.ForeignKey(CanonicalValue, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="cards", help_text="The canonical value this card was matched to.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["interview", "-revision"]
        constraints = [models.UniqueConstraint(fields=["interview", "revision"], name="card_revision_unique")]
        indexes = [HnswIndex(name="card_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                             opclasses=["vector_cosine_ops"])]

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
