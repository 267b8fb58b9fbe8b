"""Values cards (paper 4.1) and canonical values (paper 4.5)."""

import hashlib
import json

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_noop
from pgvector.django import HalfVectorField, HnswIndex, VectorField

from values.contracts import DESCRIPTION_MAX, POLICY_MAX, TITLE_MAX

EMBEDDING_DIMENSIONS = 384


def wording_digest(title: str, description: str, policies) -> str:
    """Which wording of a value a rendering renders (see ValueRendering)."""
    raw = json.dumps([title, description, list(policies)], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def half_precision(field: str) -> Cast:
    """The embedding as halfvec: what the HNSW indexes hold and what a query
    must order by to use them. Half the index's size (1.2 GB at a million
    rows), the same recall; m=24 in the indexes below buys recall at a
    million rows (docs/performance.md)."""
    return Cast(field, HalfVectorField(dimensions=EMBEDDING_DIMENSIONS))


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
        IMPORTED = "imported", "Imported with a moral graph"
        FILE = "file", "Seeded from a file of cards"

    study = models.ForeignKey("studies.Study", on_delete=models.PROTECT, related_name="canonical_values")
    title = models.CharField(max_length=TITLE_MAX)
    description = models.CharField(max_length=DESCRIPTION_MAX)
    policies = ArrayField(models.CharField(max_length=POLICY_MAX))
    origin = models.CharField(max_length=16, choices=Origin.choices)
    representative_card = models.ForeignKey(
        "ValuesCard",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The card whose wording this value took.",
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        help_text="Set when a coordinator merged this value into another; kept for provenance.",
    )
    external_id = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="The value's id in the file it was imported from."
    )
    scenarios = models.ManyToManyField(
        "studies.Scenario",
        blank=True,
        related_name="+",
        help_text="Questions the value belongs to without cards of its own (a value seeded from a file). A value's "
        "cards add the questions they were written for.",
    )
    source_name = models.CharField(max_length=300, blank=True, help_text="The file the value was seeded from, if any.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who seeded the value (blank: a command or the platform itself).",
    )
    # Archived: its wording came from a card whose writer withdrew and no other card is left to word it; kept
    # (votes and stories point at it) with its text redacted, and left out of new graphs, draws and matches.
    archived_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    archived_reason = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            HnswIndex(
                OpClass(half_precision("embedding"), name="halfvec_cosine_ops"),
                name="canonical_embedding_hnsw",
                m=24,
                ef_construction=64,
            )
        ]

    def __str__(self):
        return self.title


@pghistory.track(exclude=["embedding"])
class ValuesCard(Embedded):
    """One revision of a participant's values card.

    Every change (by the articulator, by the participant's chat request, by a
    direct edit) is a new row; the highest revision is the current card.
    """

    class Translation(models.TextChoices):
        NOT_NEEDED = "", "Not needed (written in the pivot language)"
        PENDING = "pending", "Waiting for the pivot-language rendering"
        DONE = "done", "Rendered in the pivot language"
        FAILED = "failed", "Rendering failed (retried by the next job)"

    class Source(models.TextChoices):
        ARTICULATOR = "articulator", "Written by the articulator"
        PARTICIPANT_EDIT = "participant_edit", "Edited by the participant"

    interview = models.ForeignKey("interviews.Interview", on_delete=models.CASCADE, related_name="cards")
    revision = models.PositiveIntegerField()
    title = models.CharField(max_length=TITLE_MAX)
    description = models.CharField(
        max_length=DESCRIPTION_MAX, help_text="One line: what an assistant with this value does."
    )
    policies = ArrayField(models.CharField(max_length=POLICY_MAX), help_text="Attentional policies, in order.")
    source = models.CharField(max_length=32, choices=Source.choices)
    llm_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scripted = models.BooleanField(
        default=False,
        db_index=True,
        help_text="Written by the offline (scripted) interviewer, not a language model. Left out of the study's "
        "canonical values and stories unless the study includes scripted cards.",
    )
    submitted = models.BooleanField(default=False, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    canonical = models.ForeignKey(
        CanonicalValue,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cards",
        help_text="The canonical value this card was matched to.",
    )
    # The card in the study's pivot language (its first), when the participant wrote in another: what
    # deduplication embeds and compares, and what coordinators read beside the participant's own words.
    language = models.CharField(
        max_length=16, blank=True, help_text="The language the card is written in (the participant's)."
    )
    pivot_language = models.CharField(max_length=16, blank=True, editable=False)
    pivot_title = models.CharField(max_length=TITLE_MAX, blank=True, editable=False)
    pivot_description = models.CharField(max_length=DESCRIPTION_MAX, blank=True, editable=False)
    pivot_policies = ArrayField(models.CharField(max_length=POLICY_MAX), default=list, blank=True, editable=False)
    pivot_llm_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    translation = models.CharField(
        max_length=16, choices=Translation.choices, blank=True, default="", db_index=True, editable=False
    )
    translation_error = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Which round of the study this belongs to: 1 is the first elicitation, 2 and on are retest
    # rounds (studies.models.Round; docs/architecture.md, "Rounds").
    round = models.PositiveSmallIntegerField(default=1, db_index=True, editable=False)

    class Meta:
        ordering = ["interview", "-revision"]
        constraints = [models.UniqueConstraint(fields=["interview", "revision"], name="card_revision_unique")]
        triggers = [
            # A card is of its interview's round, whoever writes it (the interview services, seeding, tests).
            pgtrigger.Trigger(
                name="card_round_of_interview",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert,
                func="NEW.round := COALESCE((SELECT i.round FROM interviews_interview i "
                "WHERE i.id = NEW.interview_id), 1); RETURN NEW;",
            ),
        ]
        indexes = [
            HnswIndex(
                OpClass(half_precision("embedding"), name="halfvec_cosine_ops"),
                name="card_embedding_hnsw",
                m=24,
                ef_construction=64,
            )
        ]

    def __str__(self):
        return f"{self.title} (rev {self.revision})"

    @property
    def needs_translation(self) -> bool:
        return bool(self.language and self.pivot_language and self.language != self.pivot_language)

    def as_dict(self) -> dict:
        return {
            "id": self.pk,
            "revision": self.revision,
            "title": self.title,
            "description": self.description,
            "policies": list(self.policies),
            "source": self.source,
            "scripted": self.scripted,
            "submitted": self.submitted,
        }


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())  # updates are refused
class DeduplicationDecision(models.Model):
    """One deduplication judgement and the evidence for it (paper 4.5).

    Kept for every card looked at, matched or not, so an auditor can see
    which candidates were offered, what the model said, and what we did."""

    class Kind(models.TextChoices):
        IN_CHAT = "in_chat", "In-chat match"
        BATCH = "batch", "Batch deduplication"
        SEED = "seed", "Seeding"

    class Outcome(models.TextChoices):
        MATCHED = "matched", "Matched a canonical value"
        NO_MATCH = "no_match", "No match"
        NO_CANDIDATES = "no_candidates", "No candidates close enough"
        BAD_OUTPUT = "bad_output", "Model answer unusable (treated as no match)"
        ERROR = "error", "Model call failed (treated as no match)"

    card = models.ForeignKey(ValuesCard, on_delete=models.CASCADE, related_name="dedup_decisions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, db_index=True)
    candidates = models.JSONField(default=list, help_text="[{id, title, distance}] offered to the model.")
    matched = models.ForeignKey(CanonicalValue, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    llm_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        triggers = [pgtrigger.Protect(name="dedup_decision_immutable", operation=pgtrigger.Update)]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"


@pghistory.track()
class CanonicalApproval(models.Model):
    """A participant's answer: does this canonical value represent what they
    care about? Asked right after an in-chat match, or after a rewrite."""

    class Answer(models.TextChoices):
        WELL = "well", gettext_noop("Yes, it represents what I care about")
        PARTLY = "partly", gettext_noop("Partly")
        NOT = "not", gettext_noop("No, it does not")

    card = models.ForeignKey(ValuesCard, on_delete=models.CASCADE, related_name="approvals")
    canonical = models.ForeignKey(CanonicalValue, on_delete=models.CASCADE, related_name="approvals")
    answer = models.CharField(max_length=16, choices=Answer.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["card", "canonical"], name="one_approval_per_card_and_value")]

    def __str__(self):
        return f"{self.get_answer_display()}"


@pghistory.track()
class RelevanceDraw(models.Model):
    """The six values shown to a participant after the interview (paper 5.4)."""

    participant = models.OneToOneField("studies.Participant", on_delete=models.CASCADE, related_name="relevance_draw")
    card = models.ForeignKey(ValuesCard, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    scenario = models.ForeignKey(
        "studies.Scenario", on_delete=models.PROTECT, related_name="+", help_text="The participant's own scenario."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"draw {self.pk} for {self.participant_id}"


@pghistory.track()
class RelevanceItem(models.Model):
    """One value shown in a draw (an impression) and the participant's mark."""

    class Pool(models.TextChoices):
        HOT = "hot", "Hottest (votes / impressions)"
        NEW = "new", "Newest"

    draw = models.ForeignKey(RelevanceDraw, on_delete=models.CASCADE, related_name="items")
    canonical = models.ForeignKey(CanonicalValue, on_delete=models.PROTECT, related_name="relevance_items")
    position = models.PositiveSmallIntegerField()
    pool = models.CharField(max_length=8, choices=Pool.choices)
    source_scenario = models.ForeignKey(
        "studies.Scenario",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The scenario the value came from.",
    )
    relevant = models.BooleanField(null=True, help_text="Marked as applying to the participant's scenario.")

    class Meta:
        ordering = ["draw", "position"]
        constraints = [models.UniqueConstraint(fields=["draw", "canonical"], name="value_once_per_draw")]


@pghistory.track()
class DeduplicationRun(models.Model):
    """One run of the batch deduplicator, for coordinators to follow."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another run was in progress)"

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="dedup_runs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="cards, joined, new, failed")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"dedup run {self.pk} ({self.status})"

    def finish(self, status: str, error: str = "") -> None:
        self.status, self.error, self.finished_at = status, error, timezone.now()
        self.save(update_fields=["status", "error", "finished_at", "counts"])


@pghistory.track()
class ValueRendering(models.Model):
    """A canonical value in one of its study's languages other than the pivot
    (the value's own fields are the pivot): the representative card's own
    words when it was written in that language, else a translation of the
    pivot wording. `pivot_digest` says which pivot wording it renders, so a
    value worded again is rendered again rather than shown stale."""

    class Source(models.TextChoices):
        CARD = "card", "The representative card's own words"
        TRANSLATION = "translation", "Translated from the pivot language"

    canonical = models.ForeignKey(CanonicalValue, on_delete=models.CASCADE, related_name="renderings")
    language = models.CharField(max_length=16)
    title = models.CharField(max_length=TITLE_MAX)
    description = models.CharField(max_length=DESCRIPTION_MAX)
    policies = ArrayField(models.CharField(max_length=POLICY_MAX))
    source = models.CharField(max_length=16, choices=Source.choices)
    card = models.ForeignKey(
        ValuesCard,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The card whose words these are, or whose words the translated wording came from.",
    )
    pivot_digest = models.CharField(max_length=64, help_text="Hash of the pivot wording this renders.")
    llm_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["canonical", "language"]
        constraints = [models.UniqueConstraint(fields=["canonical", "language"], name="one_rendering_per_language")]

    def __str__(self):
        return f"{self.title} ({self.language})"
