from django.conf import settings
from django.db import models

import pgtrigger


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
