from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from alignment import selectors, services, training
from alignment.models import AnswerAudit, AnswerAuditItem, PlaygroundConversation, PlaygroundTurn, TrainingRun
from graph import selectors as graph_selectors
from graph.models import GraphSnapshot
from graph.selectors import latest_snapshot
from mgeplatform import inputs
from mgeplatform.admin import ReadOnlyAdminMixin
from studies.models import Study


def _link(model_name: str, pk, label) -> str:
    if pk is None:
        return "–"
    url = reverse(f"admin:{model_name}_change", args=[pk])
    return format_html('<a href="{}">{}</a>', url, label)


class AuditForm(forms.Form):
    study = forms.ModelChoiceField(queryset=Study.objects.order_by("slug"))
    snapshot = forms.ModelChoiceField(
        queryset=GraphSnapshot.objects.select_related("study"),
        required=False,
        help_text="Blank: the study's latest moral graph.",
    )
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 90}), max_length=20_000)
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 10, "cols": 90}), max_length=20_000)

    def clean(self):
        data = super().clean()
        if data.get("snapshot") and data.get("study") and data["snapshot"].study_id != data["study"].pk:
            self.add_error("snapshot", "This moral graph belongs to another study.")
        return data


class AnswerAuditItemInline(admin.TabularInline):
    model = AnswerAuditItem
    extra = 0
    can_delete = False
    fields = [
        "context",
        "position",
        "value_link",
        "context_score",
        "rank_interval",
        "adherence_text",
        "quotes_text",
        "call_link",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # django-stubs types the two lists apart; same names

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="value")
    def value_link(self, obj):
        return _link("values_canonicalvalue", obj.value_id, obj.value_title)

    @admin.display(description="95% rank interval")
    def rank_interval(self, obj):
        return "–" if obj.rank_low is None else f"{obj.rank_low}–{obj.rank_high}"

    @admin.display(description="adherence (0–10)")
    def adherence_text(self, obj):
        return f"judge failed: {obj.error}" if obj.judge_failed else obj.adherence

    @admin.display(description="what in the answer attends to each policy")
    def quotes_text(self, obj):
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><b>{}</b>: {}</li>",
                ((q["policy"], f"“{q['quote']}”" if q.get("quote") else "nothing in the answer") for q in obj.quotes),
            ),
        )

    @admin.display(description="judge's call")
    def call_link(self, obj):
        return _link("mgeplatform_llmcall", obj.llm_call_id, f"LLM call {obj.llm_call_id}")


@admin.register(AnswerAudit)
class AnswerAuditAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Which of the moral graph's values an answer follows, per moral context
    of its prompt. Coordinators run audits here or with `audit_answers`."""

    list_display = ["created_at", "study", "prompt_start", "contexts_text", "outcome", "created_by"]
    list_filter = ["study"]
    search_fields = ["prompt", "answer"]
    change_list_template = "alignment/admin/answeraudit_change_list.html"
    fields = [
        "study",
        "snapshot",
        "lineage",
        "created_at",
        "created_by",
        "prompt",
        "answer",
        "contexts_text",
        "context_reason",
        "context_error",
        "context_call_link",
        "outcome",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # django-stubs types the two lists apart; same names
    inlines = [AnswerAuditItemInline]

    @admin.display(description="lineage")
    def lineage(self, obj):
        if obj.snapshot_id is None:
            return "–"
        return (
            graph_selectors.lineage(obj.snapshot)["text"]
            or "No participant whose data the snapshot used has withdrawn."
        )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("study", "created_by").prefetch_related("contexts")

    @admin.display(description="prompt")
    def prompt_start(self, obj):
        return obj.prompt[:80] + ("…" if len(obj.prompt) > 80 else "")

    @admin.display(description="contexts")
    def contexts_text(self, obj):
        if obj.context_error:
            return "could not be found"
        return "; ".join(c.text for c in obj.contexts.all()) or "none applies"

    @admin.display(description="contexts' call")
    def context_call_link(self, obj):
        return _link("mgeplatform_llmcall", obj.context_call_id, f"LLM call {obj.context_call_id}")

    @admin.display(description="follows the graph's winner?")
    def outcome(self, obj):
        if not obj.verdicts:
            return "–"
        return format_html_join("; ", "{}", ((self._verdict(v),) for v in obj.verdicts))

    @staticmethod
    def _verdict(v) -> str:
        if v["winner"] is None:
            return "the graph ranks no value here"
        if v["follows_best"] is None:
            return f"follows none (winner: {v['winner_title']})"
        if v["follows_winner"]:
            return f"yes: {v['winner_title']}"
        return f"no: follows {v['follows_best_title']} (winner: {v['winner_title']})"

    def has_run_permission(self, request):
        return request.user.has_perm("alignment.add_answeraudit")

    def get_urls(self):
        return [
            path("run/", self.admin_site.admin_view(self.run_view), name="alignment_answeraudit_run"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_run": self.has_run_permission(request)}
        return super().changelist_view(request, extra_context)

    def run_view(self, request):
        if not self.has_run_permission(request):
            return HttpResponse("You may not run audits.", status=403)
        form = AuditForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            audit = services.audit_answer(
                data["study"], data["prompt"], data["answer"], data["snapshot"], user=request.user
            )
            return redirect(reverse("admin:alignment_answeraudit_change", args=[audit.pk]))
        return render(
            request,
            "alignment/admin/run_audit.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "title": "Audit an answer",
                "opts": self.model._meta,
            },
        )


# --- the playground's conversations (read-only: written by alignment/playground.py) ---------


class PlaygroundTurnInline(admin.StackedInline):
    model = PlaygroundTurn
    extra = 0
    can_delete = False
    fields = [
        "position",
        "message",
        "contexts",
        "values",
        "reply_plain",
        "reply_constitution",
        "reply_graph",
        "context_call",
        "plain_call",
        "constitution_call",
        "graph_call",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # django-stubs types the two lists apart; same names

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PlaygroundConversation)
class PlaygroundConversationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Conversations of the wise-response playground, with every turn's three
    replies and their model calls. Written only by the playground's pages."""

    list_display = ["pk", "created_at", "study", "snapshot", "created_by", "turn_count", "page_link"]
    list_filter = ["study"]
    fields = ["study", "snapshot", "created_at", "created_by", "constitution", "page_link"]
    readonly_fields = fields  # type: ignore[assignment]  # django-stubs types the two lists apart; same names
    inlines = [PlaygroundTurnInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("study", "created_by").prefetch_related("turns")

    @admin.display(description="turns")
    def turn_count(self, obj):
        return len(obj.turns.all())

    @admin.display(description="page")
    def page_link(self, obj):
        url = reverse("alignment:playground_conversation", args=[obj.study.slug, obj.pk])
        return format_html('<a href="{}">open in the playground</a>', url)


# --- training-data exports (alignment/training.py): started here as background jobs ------

PLAN_SALT = "alignment.training-export-plan"
PLAN_MAX_AGE = 3600  # seconds an estimate stays good for its confirm button
MAX_PROMPT_FILE = 2 * 1024 * 1024  # the confirm page carries the prompts back, signed
MAX_PROMPTS = 10_000


class StartExportForm(forms.Form):
    study = forms.ModelChoiceField(queryset=Study.objects.order_by("slug"))
    snapshot = forms.ModelChoiceField(
        queryset=GraphSnapshot.objects.select_related("study").order_by("-pk"),
        required=False,
        help_text="Blank: the study's latest moral graph.",
    )
    prompts = forms.FileField(
        required=False,
        label="Further prompts",
        help_text='Optional: JSONL with {"prompt": "..."} on each line, or a .csv with a '
        "prompt column (at most 2 MB). The study's active scenarios' prompts are "
        "always used.",
    )
    limit = forms.IntegerField(
        required=False, min_value=1, help_text="Optional: stop after this many examples (start it again to resume)."
    )

    def clean(self):
        data = super().clean()
        study, snapshot = data.get("study"), data.get("snapshot")
        if study is None:
            return data
        if snapshot is not None and snapshot.study_id != study.pk:
            self.add_error("snapshot", "This moral graph belongs to another study.")
            return data
        data["snapshot"] = snapshot or latest_snapshot(study)
        if data["snapshot"] is None:
            self.add_error("study", "This study has no moral graph yet: build it first.")
            return data
        extra, data["problems"] = [], []
        upload = data.get("prompts")
        if upload is not None:
            if upload.size > MAX_PROMPT_FILE:
                self.add_error("prompts", "The file is larger than 2 MB.")
                return data
            try:
                text = inputs.check_text(upload.read().decode("utf-8-sig"), what="The prompt file")
            except UnicodeDecodeError:
                self.add_error("prompts", "The file is not UTF-8 text.")
                return data
            except inputs.BadInput as err:
                self.add_error("prompts", err.message)
                return data
            extra, data["problems"] = training.read_prompts(text, upload.name)
        data["prompt_set"] = training.prompt_set(study, extra)
        if not data["prompt_set"]:
            self.add_error(None, "No prompts: the study has no active scenario prompts and no file was given.")
        elif len(data["prompt_set"]) > MAX_PROMPTS:
            self.add_error("prompts", f"At most {MAX_PROMPTS:,} prompts per run.")
        return data


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Training-data exports: their progress, and the files they made.
    Coordinators start them ("Start a training-data export") and download
    the files; auditors follow them read-only."""

    list_display = [
        "pk",
        "created_at",
        "study",
        "snapshot",
        "status",
        "progress_text",
        "kept_text",
        "dropped_text",
        "cost_text",
    ]
    list_filter = ["status", "study"]
    list_per_page = 25
    change_list_template = "alignment/admin/trainingrun_change_list.html"
    change_form_template = "alignment/admin/trainingrun_change_form.html"
    fields = [
        "study",
        "snapshot",
        "status",
        "stop_reason",
        "created_at",
        "updated_at",
        "created_by",
        "limit",
        "job_link",
        "prompt_sources",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # django-stubs types the two lists apart; same names

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("study", "snapshot", "created_by")

    # What a list row shows is read from the run's examples (a few queries per row, 25 rows a page).
    @staticmethod
    def _progress(obj):
        if not hasattr(obj, "_progress"):  # once per row, not per column
            obj._progress = selectors.training_progress(obj)
        return obj._progress

    @admin.display(description="examples done / planned")
    def progress_text(self, obj):
        return progress_words(self._progress(obj))

    @admin.display(description="kept (SFT + pairs)")
    def kept_text(self, obj):
        p = self._progress(obj)
        return f"{p.sft} + {p.pairs}"

    @admin.display(description="dropped")
    def dropped_text(self, obj):
        return self._progress(obj).dropped

    @admin.display(description="cost so far")
    def cost_text(self, obj):
        return f"${self._progress(obj).cost_usd:.4f}"

    @admin.display(description="background job")
    def job_link(self, obj):
        if obj.job_id is None:
            return "– (run with the export_training_data command)"
        status = training.job_status(obj) or "gone"
        url = reverse("admin:procrastinate_procrastinatejob_change", args=[obj.job_id])
        return format_html('<a href="{}">job {}</a> ({})', url, obj.job_id, status)

    @admin.display(description="prompts")
    def prompt_sources(self, obj):
        scenarios = sum(1 for p in obj.prompts if p["source"].startswith("scenario:"))
        rest = len(obj.prompts) - scenarios
        return f"{len(obj.prompts)} ({scenarios} from the study's scenarios, {rest} from a file)"

    # --- permissions: coordinators start exports and download files
    def may_start(self, request) -> bool:
        return request.user.has_perm("alignment.add_trainingrun")

    def may_download(self, request) -> bool:
        return request.user.has_perm("alignment.change_trainingrun")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("start/", view(self.start_view), name="alignment_trainingrun_start"),
            path("<int:pk>/live/", view(self.live_view), name="alignment_trainingrun_live"),
            path("<int:pk>/rerun/", view(self.rerun_view), name="alignment_trainingrun_rerun"),
            path("<int:pk>/download/<str:name>", view(self.download_view), name="alignment_trainingrun_download"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_start": self.may_start(request)}
        return super().changelist_view(request, extra_context)

    def _live_context(self, request, run) -> dict:
        progress = selectors.training_progress(run)
        return {
            "run": run,
            "progress": progress,
            "progress_words": progress_words(progress),
            "running": run.status == TrainingRun.Status.RUNNING,
            "job_status": training.job_status(run),
            "files": [
                {"name": name, "url": reverse("admin:alignment_trainingrun_download", args=[run.pk, name])}
                for name in training.FILES
            ]
            if self.may_download(request)
            else [],
            "dropped": sorted(training.counts(run)["dropped"].items()),
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        if run is not None and self.has_view_permission(request, run):
            rebuilt = graph_selectors.newest_rebuild(run.snapshot)
            extra_context = {
                **(extra_context or {}),
                **self._live_context(request, run),
                "live_url": reverse("admin:alignment_trainingrun_live", args=[run.pk]),
                "lineage": graph_selectors.lineage(run.snapshot),
                "rebuilt": rebuilt,
                "rerun_url": (
                    reverse("admin:alignment_trainingrun_rerun", args=[run.pk])
                    if rebuilt is not None and self.may_start(request)
                    else ""
                ),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _run_or_denied(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(TrainingRun.objects.select_related("study", "snapshot"), pk=pk)

    def live_view(self, request, pk: int):
        """The run page's changing part, fetched by the page while the run is running."""
        run = self._run_or_denied(request, pk)
        return TemplateResponse(request, "alignment/admin/trainingrun_live.html", self._live_context(request, run))

    def download_view(self, request, pk: int, name: str):
        if not self.may_download(request):
            raise PermissionDenied
        run = self._run_or_denied(request, pk)
        if name not in training.FILES:
            raise Http404("No such file.")
        kind = training.FILES[name]
        response: HttpResponse | StreamingHttpResponse
        if kind is None:
            response = HttpResponse(training.dataset_card(run), content_type="text/markdown; charset=utf-8")
        else:
            response = StreamingHttpResponse(
                training.jsonl_lines(run, kind), content_type="application/jsonl; charset=utf-8"
            )
        response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-{name}"'
        return response

    def rerun_view(self, request, pk: int):
        """The same prompts on the newest snapshot built again from the run's
        (without the participants who withdrew since): the confirmation page,
        with the estimate, before anything is queued."""
        if not self.may_start(request):
            raise PermissionDenied
        run = self._run_or_denied(request, pk)
        snapshot = graph_selectors.newest_rebuild(run.snapshot)
        if snapshot is None:
            messages.warning(
                request, f"Snapshot {run.snapshot_id} has not been built again: there is nothing newer to run on."
            )
            return redirect("admin:alignment_trainingrun_change", run.pk)
        return self._confirm(request, run.study, snapshot, list(run.prompts), [], run.limit)

    def _confirm(self, request, study, snapshot, prompts, problems, limit):
        context = {**self.admin_site.each_context(request), "opts": self.model._meta}
        existing = training.existing_run(study, snapshot, prompts)
        done = (
            set(existing.examples.values_list("kind", "prompt_index", "context_id", "edge"))
            if existing
            else frozenset()
        )
        plan = signing.dumps(
            {"study": study.pk, "snapshot": snapshot.pk, "prompts": prompts, "limit": limit},
            salt=PLAN_SALT,
            compress=True,
        )
        context.update(
            {
                "title": "Confirm the training-data export",
                "study": study,
                "snapshot": snapshot,
                "prompts": prompts,
                "problems": problems,
                "limit": limit,
                "estimate": training.estimate_for(study, snapshot, prompts, done),
                "existing": existing,
                "plan": plan,
                "scenario_prompts": sum(1 for p in prompts if p["source"].startswith("scenario:")),
            }
        )
        return TemplateResponse(request, "alignment/admin/trainingrun_confirm.html", context)

    def start_view(self, request):
        """Pick study, snapshot, prompt file and limit; see the cost estimate;
        confirm to queue the job."""
        if not self.may_start(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Start a training-data export",
            "opts": self.model._meta,
        }
        if request.method == "POST" and "plan" in request.POST:
            try:
                plan = signing.loads(request.POST["plan"], salt=PLAN_SALT, max_age=PLAN_MAX_AGE)
            except signing.BadSignature:
                messages.error(request, "That estimate is too old or was changed: make it again.")
                return redirect("admin:alignment_trainingrun_start")
            study = get_object_or_404(Study, pk=plan["study"])
            snapshot = get_object_or_404(GraphSnapshot, pk=plan["snapshot"], study=study)
            try:
                run = training.queue_export(study, snapshot, plan["prompts"], limit=plan["limit"], user=request.user)
            except training.AlreadyQueued as err:
                messages.warning(request, f"Not queued: {err}.")
                run = training.existing_run(study, snapshot, plan["prompts"])
            else:
                messages.success(request, f"Queued training run {run.pk} (job {run.job_id}).")
            return redirect("admin:alignment_trainingrun_change", run.pk)
        form = StartExportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            return self._confirm(
                request, data["study"], data["snapshot"], data["prompt_set"], data["problems"], data.get("limit")
            )
        context["form"] = form
        return TemplateResponse(request, "alignment/admin/trainingrun_start.html", context)


def progress_words(p) -> str:
    if p.exact:
        return f"{p.done} / {p.planned}"
    return f"{p.done} / at most {p.planned_at_most} ({p.prompts - p.prompts_read} of {p.prompts} prompts not read yet)"
