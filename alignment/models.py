"""Audits of answers against the moral graph (paper 5.3, 6.2): which moral
contexts a prompt is in, and how well an answer attends to the policies of
the values the graph ranks highest there."""

import pghistory
from django.conf import settings
from django.db import models


@pghistory.track()
class AnswerAudit(models.Model):
    """One prompt and answer, the contexts found for the prompt and, per
    context, which of the graph's values the answer follows best."""

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="answer_audits")
    snapshot = models.ForeignKey(
        "graph.GraphSnapshot",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The moral graph the answer was audited against.",
    )
    prompt = models.TextField()
    answer = models.TextField()
    contexts = models.ManyToManyField(
        "graph.MoralContext", blank=True, related_name="+", help_text="The contexts the prompt was found to be in."
    )
    context_reason = models.TextField(blank=True, help_text="Why the model chose these contexts, or none.")
    context_error = models.TextField(blank=True, help_text="Set when the contexts could not be found.")
    context_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verdicts = models.JSONField(
        default=list,
        help_text="Per context: the graph's winner, the value the answer follows best, and whether they are the same.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"audit {self.pk}: {self.prompt[:60]}"


@pghistory.track()
class AnswerAuditItem(models.Model):
    """How well the answer attends to one value's policies, for one context."""

    audit = models.ForeignKey(AnswerAudit, on_delete=models.CASCADE, related_name="items")
    context = models.ForeignKey("graph.MoralContext", on_delete=models.PROTECT, related_name="+")
    value = models.ForeignKey(
        "values.CanonicalValue",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Blank when the graph's value is no longer in the database.",
    )
    value_title = models.CharField(max_length=200, help_text="As in the graph snapshot.")
    policies = models.JSONField(default=list, help_text="As in the graph snapshot: what the judge saw.")
    position = models.PositiveSmallIntegerField(help_text="1 = the graph's winner in this context.")
    context_score = models.FloatField(help_text="The value's PageRank in this context.")
    rank_low = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=(
            "Bootstrap 95% rank interval within the context (of the global rank for snapshots built without "
            "per-context intervals)."
        ),
    )
    rank_high = models.PositiveIntegerField(null=True, blank=True)
    adherence = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0-10; blank when the judge failed.")
    quotes = models.JSONField(default=list, help_text="[{policy, quote}]; quote null when nothing attends to it.")
    judge_failed = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    llm_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["audit", "context_id", "position"]

    def __str__(self):
        return f"{self.value_title} in {self.context}"


class TrainingRun(models.Model):
    """One export of training data from a moral graph (paper 6.2): a prompt
    set and a graph snapshot. Its examples record progress, so a rerun of the
    same prompts on the same snapshot resumes rather than repeats."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Stopped (limit or budget); run again to resume"
        DONE = "done", "Done"

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="training_runs")
    snapshot = models.ForeignKey("graph.GraphSnapshot", on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=64, db_index=True, help_text="Hash of the snapshot and prompt set.")
    prompts = models.JSONField(default=list, help_text="[{text, source}] in order.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    stop_reason = models.CharField(max_length=200, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Examples to make per job before stopping (blank: all)."
    )
    job_id = models.BigIntegerField(
        null=True, blank=True, help_text="The background job last queued for it from the admin."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"training run {self.pk} ({self.status})"


class TrainingExample(models.Model):
    """One unit of a training run: the contexts of a prompt (kind detect),
    the winner-guided answer in a context (sft) or the pair of answers for
    one kept edge in a context (pair), with the line written for it."""

    class Kind(models.TextChoices):
        DETECT = "detect", "Contexts of a prompt"
        SFT = "sft", "Answer guided by the context's winner"
        PAIR = "pair", "Answers guided by an edge's less wise and wiser values"

    class Status(models.TextChoices):
        KEPT = "kept", "Kept"
        DROPPED = "dropped", "Dropped"

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="examples")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    prompt_index = models.PositiveIntegerField()
    context = models.ForeignKey("graph.MoralContext", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    edge = models.CharField(max_length=40, blank=True, help_text="'source>target' value ids; blank unless a pair.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.KEPT)
    reason = models.CharField(max_length=40, blank=True, help_text="Why it was dropped.")
    error = models.TextField(blank=True)
    line = models.JSONField(null=True, blank=True, help_text="The JSONL line written for it (kept only).")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "prompt_index", "kind", "context_id", "edge"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "kind", "prompt_index", "context", "edge"],
                nulls_distinct=False,
                name="training_example_once",
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.prompt_index}/{self.context_id}/{self.edge}"


# --- the wise-response playground (alignment/playground.py) -------------------------------


class PlaygroundConversation(models.Model):
    """A conversation in the playground: each user turn is answered three ways
    (no values, a pasted constitution, the moral graph's winning values)."""

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="playground_conversations")
    snapshot = models.ForeignKey(
        "graph.GraphSnapshot",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The moral graph the replies are guided by.",
    )
    constitution = models.TextField(blank=True, help_text="Principles pasted by the coordinator for column (b).")
    share_token = models.CharField(max_length=64, unique=True, help_text="The read-only share link's secret.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    session_key = models.CharField(max_length=64, blank=True, help_text="The visitor's session, when not signed in.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"playground conversation {self.pk}"


class PlaygroundTurn(models.Model):
    """One user message and the three replies to it, with the contexts found
    and the values (as in the snapshot) that guided the graph's reply."""

    conversation = models.ForeignKey(PlaygroundConversation, on_delete=models.CASCADE, related_name="turns")
    position = models.PositiveIntegerField()
    message = models.TextField()
    contexts = models.JSONField(default=list, help_text="[{id, text}], most important first; empty: none applies.")
    context_reason = models.TextField(blank=True)
    context_error = models.TextField(blank=True)
    values = models.JSONField(default=list, help_text="[{context, id, title, description, policies}]: the winners.")
    reply_graph = models.TextField(blank=True)
    reply_plain = models.TextField(blank=True)
    reply_constitution = models.TextField(blank=True)
    context_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    graph_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    plain_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    constitution_call = models.ForeignKey(
        "mgeplatform.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "position"]
        constraints = [models.UniqueConstraint(fields=["conversation", "position"], name="playground_turn_once")]

    def __str__(self):
        return f"turn {self.position} of conversation {self.conversation_id}"
