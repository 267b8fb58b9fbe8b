import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from mgeplatform.triggers import no_truncate


class DomainEvent(models.Model):
    """A research-relevant event (consent given, withdrawal, export...).

    Row-level history is kept by pghistory triggers; these events say *why* a
    change happened in the study's own words. Append-only: a trigger forbids
    updates and deletes, so not even a superuser can rewrite the log.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=64, db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_participant = models.UUIDField(null=True, blank=True, db_index=True)
    study_slug = models.CharField(max_length=64, blank=True, db_index=True)
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        triggers = [
            pgtrigger.Protect(name="domain_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            no_truncate(),
        ]

    def __str__(self):
        return f"{self.kind} @ {self.created_at:%Y-%m-%d %H:%M:%S}"

    @property
    def actor(self) -> str:
        if self.actor_user_id:
            return f"staff:{self.actor_user}"
        if self.actor_participant:
            return f"participant:{self.actor_participant}"
        return "system"


# No row history: a log in itself, written once per call and never edited, except
# that withdrawal blanks the answers written for the participant, which a row
# history would keep (docs/architecture.md, Audit trail).
class LLMCall(models.Model):
    """One call to a language model or embedding model, successful or not.

    Enough to answer an auditor: which prompt (name, version, hash), which
    provider and model, for whom, what was sent (system prompt and messages,
    long texts shortened), what it cost, how long it took, what came back,
    and what went wrong.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    purpose = models.CharField(max_length=64, db_index=True, help_text="e.g. interview.reply, values.articulate")
    # The study's id, not a foreign key: the platform layer has no relation to
    # the studies app above it (scripts/check_layers.py); studies name
    # themselves here through mgeplatform.admin.register_study_names. The
    # column is the one the foreign key had (migration 0009).
    study_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    participant = models.UUIDField(null=True, blank=True, db_index=True)
    content_of = ArrayField(
        models.UUIDField(),
        default=list,
        blank=True,
        help_text="The participants whose words the call carried (their messages, cards, or values worded from their "
        "cards), whether or not the call was made for them: what a withdrawal redacts.",
    )
    provider = models.CharField(max_length=32, db_index=True)
    model = models.CharField(max_length=100, db_index=True)
    prompt_name = models.CharField(max_length=64, blank=True, db_index=True)
    prompt_version = models.CharField(max_length=32, blank=True)
    prompt_hash = models.CharField(max_length=64, blank=True)
    request_system = models.TextField(blank=True, help_text="The system prompt sent (shortened when very long).")
    request_messages = models.JSONField(
        default=list,
        blank=True,
        help_text="[{role, content, tool_calls?, tool_call_id?}] as sent, in order; the texts embedded for an "
        "embedding call. Long texts are shortened and very long conversations keep their ends.",
    )
    input_tokens = models.PositiveIntegerField(default=0)
    cached_input_tokens = models.PositiveIntegerField(default=0, help_text="Input tokens read from the prompt cache.")
    cache_write_input_tokens = models.PositiveIntegerField(
        default=0, help_text="Input tokens written to the prompt cache (Anthropic prices them above plain input)."
    )
    output_tokens = models.PositiveIntegerField(default=0)
    usage_estimated = models.BooleanField(
        default=False, help_text="The provider reported no token counts; they were counted from the texts."
    )
    latency_ms = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=1)
    estimated_cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    ok = models.BooleanField(default=True, db_index=True)
    error = models.TextField(blank=True)
    response_text = models.TextField(blank=True)
    response_tool_calls = models.JSONField(default=list, blank=True)
    stop_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "LLM call"
        indexes = [GinIndex(fields=["content_of"], name="llmcall_content_of_gin")]

    def __str__(self):
        return f"{self.purpose} {self.provider}/{self.model} @ {self.created_at:%Y-%m-%d %H:%M:%S}"
