"""Legitimacy and fairness surveys (paper 5.6) and the follow-up that checks
deduplication with participants (paper 4.5).

Questions live in versioned item banks: once a bank is published its
wording is frozen (database triggers enforce it), so every answer can be
traced to the exact question asked. New wording is a new version.
"""

import pghistory
import pgtrigger
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_noop

LIKERT_LABELS = {
    "1": gettext_noop("Strongly disagree"),
    "2": gettext_noop("Disagree"),
    "3": gettext_noop("Neither agree nor disagree"),
    "4": gettext_noop("Agree"),
    "5": gettext_noop("Strongly agree"),
}
YES_NO_LABELS = {"yes": gettext_noop("Yes"), "no": gettext_noop("No")}
# Same answers as values.CanonicalApproval, asked again after the study.
DEDUP_LABELS = {
    "well": gettext_noop("Yes, it represents what I care about"),
    "partly": gettext_noop("Partly"),
    "not": gettext_noop("No, it does not"),
}


@pghistory.track()
class ItemBank(models.Model):
    """One version of a study's survey questions."""

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="item_banks")
    version = models.PositiveIntegerField()
    published = models.BooleanField(
        default=False, help_text="Published banks are asked and frozen; the newest published bank is the one used."
    )
    note = models.CharField(max_length=200, blank=True, help_text="What changed in this version.")
    attention_failures_to_flag = models.PositiveSmallIntegerField(
        default=1,
        help_text="Wrong attention checks before a participant gets the failed-attention code. Prolific: in "
        "studies of 5 minutes or longer, participants must fail at least two checks to be rejected.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "-version"]
        constraints = [models.UniqueConstraint(fields=["study", "version"], name="bank_version_unique_per_study")]
        triggers = [
            # Participants answered exactly these questions: never edit them in place.
            pgtrigger.Protect(
                name="published_bank_frozen",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__published=True),
            ),
        ]

    def __str__(self):
        return f"{self.study.slug} survey v{self.version}{'' if self.published else ' (draft)'}"


# Items of a published bank cannot be added, changed or removed.
_ITEMS_FROZEN_SQL = """
    IF EXISTS (
        SELECT 1 FROM surveys_itembank b
        WHERE b.published AND b.id IN (
            CASE WHEN TG_OP = 'DELETE' THEN OLD.bank_id ELSE NEW.bank_id END,
            CASE WHEN TG_OP = 'INSERT' THEN NEW.bank_id ELSE OLD.bank_id END)
    ) THEN
        RAISE EXCEPTION 'survey items of a published bank are frozen: make a new version'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
"""


@pghistory.track()
class SurveyItem(models.Model):
    class Kind(models.TextChoices):
        LIKERT5 = "likert5", "Likert 1-5"
        YES_NO = "yes_no", "Yes / no"
        ATTENTION_CHECK = "attention_check", "Attention check (instructed response, Likert 1-5)"
        DEDUP_VERIFICATION = "dedup_verification", "Deduplication check (well / partly / not)"
        FAIRNESS = "fairness", "Fair position in the moral graph (yes / no)"

    class When(models.TextChoices):
        JOURNEY = "journey", "In the survey step"
        FOLLOW_UP = "follow_up", "In the follow-up"

    bank = models.ForeignKey(ItemBank, on_delete=models.CASCADE, related_name="items")
    key = models.SlugField(max_length=64, help_text="Stable name across versions, e.g. clarify.")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    text = models.TextField()
    order = models.PositiveIntegerField(default=0)
    when = models.CharField(max_length=16, choices=When.choices, default=When.JOURNEY)
    expected_answer = models.CharField(
        max_length=16,
        blank=True,
        help_text='Attention checks only: the answer the question itself asks for, e.g. 5 for "choose '
        "'Strongly agree' here\". Prolific: test the question, not instructions above it; no "
        "memory or trick items.",
    )

    class Meta:
        ordering = ["bank", "when", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "key"], name="item_key_unique_per_bank"),
            models.CheckConstraint(
                name="attention_check_expects_an_answer_in_the_journey",
                condition=(
                    ~models.Q(kind="attention_check") | (~models.Q(expected_answer="") & models.Q(when="journey"))
                ),
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="items_of_published_bank_frozen",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                func=_ITEMS_FROZEN_SQL,
            ),
        ]

    def __str__(self):
        return f"{self.key} (v{self.bank.version})"

    @property
    def options(self) -> dict[str, str]:
        """{answer value: label} in the order shown."""
        if self.kind in (self.Kind.LIKERT5, self.Kind.ATTENTION_CHECK):
            return LIKERT_LABELS
        if self.kind == self.Kind.DEDUP_VERIFICATION:
            return DEDUP_LABELS
        return YES_NO_LABELS

    def clean(self):
        if self.kind == self.Kind.ATTENTION_CHECK:
            if self.expected_answer not in self.options:
                raise ValidationError({"expected_answer": "Give the answer the question asks for: 1 to 5."})
            if self.when != self.When.JOURNEY:
                raise ValidationError({"when": "Attention checks are asked in the survey step."})
        elif self.expected_answer:
            raise ValidationError({"expected_answer": "Only attention checks have an expected answer."})


@pghistory.track()
class SurveyResponse(models.Model):
    """A participant's answer to one item; a second submit updates it."""

    participant = models.ForeignKey("studies.Participant", on_delete=models.CASCADE, related_name="survey_responses")
    item = models.ForeignKey(SurveyItem, on_delete=models.PROTECT, related_name="responses")
    answer = models.CharField(max_length=16)
    shown = models.JSONField(
        default=dict, blank=True, help_text="What the question was about: canonical value, graph snapshot, neighbours."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["participant", "item__when", "item__order"]
        constraints = [models.UniqueConstraint(fields=["participant", "item"], name="one_response_per_item")]

    def __str__(self):
        return f"{self.item.key}: {self.answer}"

    @property
    def correct(self) -> bool | None:
        """For attention checks: did they give the answer asked for?"""
        if self.item.kind != SurveyItem.Kind.ATTENTION_CHECK:
            return None
        return self.answer == self.item.expected_answer


# The token is a credential: keep it out of the audit trail.
@pghistory.track(exclude=["token"])
class FollowUpLink(models.Model):
    """A signed, expiring link to the follow-up questions, one per participant,
    for coordinators to send through Prolific's messages."""

    participant = models.OneToOneField("studies.Participant", on_delete=models.CASCADE, related_name="follow_up_link")
    token = models.CharField(max_length=200, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"follow-up for {self.participant_id}"
