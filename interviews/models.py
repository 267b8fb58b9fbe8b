"""The values interview (paper 4.3): one participant's chat about one
scenario, its transcript, and the analyses of finished transcripts."""

import pghistory
from django.db import models

from studies.models import Participant, Scenario


@pghistory.track()
class Interview(models.Model):
    """One participant's values interview about one scenario (paper 4.3)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUBMITTED = "submitted", "Card submitted"
        ABANDONED = "abandoned", "Abandoned"

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="interviews")
    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="interviews")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=100)
    offline = models.BooleanField(default=False, help_text="Run by the offline scripted interviewer.")
    prompt_versions = models.JSONField(default=dict, help_text="{prompt name: {version, hash}} used in this interview.")
    # A reply being generated: who holds it and when it last showed signs of
    # life. A reply whose heartbeat stops (server restart) is taken over.
    reply_token = models.UUIDField(null=True, blank=True)
    reply_heartbeat_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Which round of the study this belongs to: 1 is the first elicitation, 2 and on are retest
    # rounds (studies.models.Round; docs/architecture.md, "Rounds").
    round = models.PositiveSmallIntegerField(default=1, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant"], condition=models.Q(status="active"), name="one_active_interview_per_participant"
            ),
        ]

    def __str__(self):
        return f"Interview {self.pk}: {self.scenario.key}, participant {str(self.participant_id)[:8]}"


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class ChatMessage(models.Model):
    """One turn of the interview transcript, in order.

    `tool` turns and `note` turns (the participant edited the card) are part
    of what the interviewer sees; participants see user and assistant text.
    """

    class Role(models.TextChoices):
        USER = "user", "Participant"
        ASSISTANT = "assistant", "Interviewer"
        TOOL = "tool", "Tool result"
        NOTE = "note", "Note to the interviewer"

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    tool_calls = models.JSONField(default=list, blank=True)
    tool_call_id = models.CharField(max_length=100, blank=True)
    client_message_id = models.CharField(
        max_length=64, blank=True, help_text="Sent by the browser; makes resends idempotent."
    )
    llm_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["interview", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["interview", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(
                fields=["interview", "client_message_id"],
                condition=~models.Q(client_message_id=""),
                name="client_message_id_unique",
            ),
        ]

    def __str__(self):
        return f"{self.get_role_display()}, turn {self.seq}"


@pghistory.track()
class DialogueGrade(models.Model):
    """The dialogue grader's verdict on one finished interview (paper A.4)."""

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="grades")
    grader_prompt_version = models.CharField(max_length=32)
    grader_prompt_hash = models.CharField(max_length=64, db_index=True)
    scores = models.JSONField(help_text="{criterion: {score 1-5, evidence}}")
    mean_score = models.FloatField()
    llm_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"grade {self.mean_score:.2f} for interview {self.interview_id}"


@pghistory.track()
class TranscriptRating(models.Model):
    """A model's rating of one interview for the analyses: how ideological
    the first answer was (paper 5.2, A.2.1) or whether the participant has
    the scenario's relevant life experience (5.5, A.2.2)."""

    class Kind(models.TextChoices):
        IDEOLOGY = "ideology", "Ideology of the first answer (1-5)"
        EXPERT = "expert", "Relevant life experience (yes/no)"

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="ratings")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1-5 for ideology.")
    is_expert = models.BooleanField(null=True, blank=True)
    question = models.CharField(max_length=300, blank=True)
    reason = models.TextField(blank=True)
    prompt_version = models.CharField(max_length=32)
    prompt_hash = models.CharField(max_length=64)
    llm_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["interview", "kind", "prompt_hash", "question"], name="one_rating_per_prompt_version"
            )
        ]
