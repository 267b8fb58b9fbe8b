from django.conf import settings
from django.db import models

from studies.models import Participant, Study


class WeightingRun(models.Model):
    """One computation of a study's survey weights, with its parameters and report."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="weighting_runs")
    target = models.CharField(max_length=300)  # a shipped target's name or the file's name
    target_spec = models.JSONField(default=dict)  # the target as validated, so the run can be read again
    trim = models.FloatField(null=True, blank=True)
    missing_policy = models.CharField(max_length=40, default="left_out")
    report = models.JSONField(default=dict)  # counts and scores only, never weights by participant
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]


class ParticipantWeight(models.Model):
    run = models.ForeignKey(WeightingRun, on_delete=models.CASCADE, related_name="weights")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="survey_weights")
    weight = models.FloatField()
    cell = models.CharField(max_length=500)  # "Age=30-44 | Sex=Female | ..."

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "participant"], name="one_weight_per_run")]
