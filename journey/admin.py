"""The study admin: the study's settings, the live console, and the actions
that reach every feature (statistics, stories, graph build, transcript
ratings, report and export). It lives in the journey layer because it calls
all of them."""

import base64
import binascii
import io
import tempfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from graph import services as graph_services
from graph.admin import build_moral_graph_action
from graph.tasks import generate_stories
from interviews.tasks import rate_transcripts
from journey import console, retest, withdrawal
from journey import services as dispute_services
from journey.exports import export_study
from journey.models import REASON_MAX_CHARS, Dispute
from journey.report import study_report
from mgeplatform import inputs
from mgeplatform.llm import gateway
from mgeplatform.llm.probe import ProbeReport
from studies import arms as study_arms
from studies import languages as study_languages
from studies import rounds as study_rounds
from studies import selectors as study_selectors
from studies import services
from studies.admin import ArmInline, ConsentDocumentInline, ScenarioInline
from studies.models import ConsentDocument, Study
from studies.selectors import study_cost_usd
from studies.services import REVEAL_PERMISSION
from studies.tasks import check_study_model, record_study_statistics
from values import services as value_services
from values.seed_file import MAX_FILE_BYTES, SeedFileError
from weights import selectors as weight_selectors

SCRIPTED_INTERVIEWER_ERROR = (
    "Participants would be interviewed by the scripted (offline) interviewer: {why}. Configure a language model "
    "under \u201cLanguage model\u201d (or set the platform's API key), or, to try the study out with the script, "
    "tick \u201cPilot with scripted interviewer\u201d."
)


class StudyForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "languages" in self.fields:
            self.fields["languages"].required = False  # left empty: English only, as before languages existed
        if "arm_seed" in self.fields:
            self.fields["arm_seed"].required = False  # left empty: the seed as it was (0 for a new study)

    def clean_arm_seed(self):
        seed = self.cleaned_data.get("arm_seed")
        return (self.instance.arm_seed or 0) if seed is None else seed

    def clean_languages(self):
        # "zh", "es-ES" and the like become the shipped codes; the model's validator then checks them.
        return study_languages.clean_languages(self.cleaned_data.get("languages") or ["en"])

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        if status in Study.TAKING_PART and not cleaned.get("scripted_interviewer_ok"):
            # The model the study would use with the settings as submitted, not as saved.
            submitted = SimpleNamespace(
                **{name: cleaned.get(name, "") for name in ("llm_provider", "llm_model", "llm_base_url")}
            )
            # Each arm's interviewer too: an arm may use the script while the study has a model.
            arm_list = list(self.instance.arms.all()) if self.instance.pk else []
            routes = [gateway.resolve(s) for s in study_arms.every_interviewer(submitted, arm_list)]
            route = next((r for r in routes if r.offline), routes[0])
            if route.offline:
                why = route.fallback_reason or "no language model is configured"
                self.add_error("status", SCRIPTED_INTERVIEWER_ERROR.format(why=why))
        return cleaned


class RetestRoundForm(forms.Form):
    """What a retest round samples: a number or a share of the completed participants, a seed, the strata."""

    n = forms.IntegerField(label="Participants to invite", min_value=1, required=False)
    fraction = forms.FloatField(label="…or a share of them (0 to 1)", min_value=0, max_value=1, required=False)
    seed = forms.IntegerField(label="Seed", min_value=0, initial=1)
    stratify_by = forms.ChoiceField(
        label="Stratify by",
        choices=[
            ("default", "the arms, when the study has any"),
            ("arm", "arm"),
            ("arm_stratum", "arm and the stratum it was drawn in"),
            ("language", "language"),
            ("", "nothing"),
        ],
        initial="default",
        required=False,
    )
    days_valid = forms.IntegerField(label="Days the follow-up links stay valid", min_value=1, initial=30)

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        self.study = study

    def clean(self):
        data = super().clean()
        if (data.get("n") is None) == (data.get("fraction") is None):
            raise forms.ValidationError("Give a number of participants or a share, not both.")
        return data


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    form = StudyForm
    list_display = ["title", "slug", "status", "participant_count", "report_links", "created_at"]
    list_filter = ["status", "require_prolific"]
    change_form_template = "admin/studies/study/change_form.html"
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ScenarioInline, ConsentDocumentInline, ArmInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["model_check"]
    actions = [
        "record_statistics",
        "check_model",
        "seed_values",
        "generate_stories",
        "build_moral_graph",
        "rate_transcripts",
        "export_data",
        "delete_previews",
        "open_retest_round",
    ]
    fieldsets = [
        (None, {"fields": ["title", "slug", "status", "description", "languages", "require_prolific"]}),
        (
            "Taking part",
            {
                "fields": ["scripted_interviewer_ok", "budget_usd", "stuck_after_minutes"],
                "description": "Who may join and when the study stops taking people.",
            },
        ),
        (
            "Prolific completion codes",
            {
                "fields": [
                    "completion_code_completed",
                    "completion_code_no_consent",
                    "completion_code_screened_out",
                    "completion_code_failed_attention",
                    "completion_code_no_places",
                ],
                "description": "Copy each code from Prolific's study page (\u201cHow do you want to confirm "
                "participants have completed your study?\u201d); participants are sent back with it.",
            },
        ),
        (
            "Language model",
            {
                "fields": [
                    "llm_provider",
                    "llm_model",
                    "llm_base_url",
                    "llm_tool_protocol",
                    "llm_turns",
                    "model_check",
                ],
                "description": "Saving another model queues a check of what it supports (tool calls, "
                "turn order, token usage, embedding size); its report is shown here.",
            },
        ),
        ("Moral graph", {"fields": ["stories_per_participant", "graph_public", "include_scripted_cards"]}),
        ("Arms (an experiment)", {"fields": ["arm_seed", "arm_strata"], "classes": ["collapse"]}),
        ("Withdrawal", {"fields": ["withdrawal_policy"]}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "slug" in form.base_fields:
            # The model's help text has "<slug>" in it, which the admin would take for a tag.
            form.base_fields["slug"].help_text = (
                "Lowercase letters, digits and hyphens. The study link is /s/&lt;this&gt;/; "
                "the full link for Prolific is shown at the top once the study is saved."
            )
        for name, help_text in {
            "scripted_interviewer_ok": "Let participants in although no language model is configured: the offline "
            "interviewer follows a script. Needed to set a study without a model to "
            "pilot or open; only for trying the study out.",
            "include_scripted_cards": "Cards written by the scripted (offline) interviewer are usually a pilot's "
            "stand-ins, so they are left out of the canonical values and the transition "
            "stories that real participants judge. Tick to include them (a demo, a "
            "rehearsal of the whole pipeline). Simulated participants' cards always "
            "count. Each card's page says whether it was scripted.",
            "budget_usd": "Estimated model spending (USD) at which the study stops taking new participants; people "
            "already in carry on. Blank = no limit. The console shows the spending so far.",
            "stuck_after_minutes": "The live console flags a participant who has been at one step longer than this "
            "(participants take about 15 minutes for the whole study).",
            "completion_code_no_places": "Given to people who arrive after the study is paused or its budget is "
            "spent, so Prolific can tell them apart from completions.",
            "status": "Draft: only staff previews. Pilot: a first small batch (counted as pilot). Open: taking "
            "participants. Paused: nobody new, people already in carry on. Closed: nobody new.",
        }.items():
            if name in form.base_fields:
                form.base_fields[name].help_text = help_text
        return form

    def change_view(self, request, object_id, form_url="", extra_context=None):
        study = self.get_object(request, object_id)
        if study is not None:
            # The top of the page: the link to give Prolific and what the study has cost.
            extra_context = {
                **(extra_context or {}),
                "participant_link": console.participant_link(request, study),
                "preview_url": console.preview_url(study),
                "cost": study_cost_usd(study),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ConsentDocument:
            return super().save_formset(request, form, formset, change)
        # A new consent version is published through its service (with its audit
        # event); a saved one can only be switched on or off.
        for document in formset.save(commit=False):
            if document.pk is None:
                services.publish_consent(
                    study=form.instance,
                    text=document.text,
                    version_label=document.version_label,
                    irb_protocol_id=document.irb_protocol_id,
                    is_active=document.is_active,
                    user=request.user,
                )
            else:
                document.save(update_fields=["is_active"])
        for document in formset.deleted_objects:
            document.delete()
        return None

    @admin.display(description="console and report")
    def report_links(self, obj):
        return format_html(
            '<a href="{}"><strong>Live console</strong></a> · <a href="{}">Report</a> · <a href="{}">Export data</a>',
            reverse("admin:studies_study_console", args=[obj.pk]),
            reverse("admin:studies_study_report", args=[obj.pk]),
            reverse("admin:studies_study_export", args=[obj.pk]),
        )

    def get_urls(self):
        return [
            path("<int:pk>/report/", self.admin_site.admin_view(self.report_view), name="studies_study_report"),
            path("<int:pk>/export/", self.admin_site.admin_view(self.export_view), name="studies_study_export"),
            path("<int:pk>/console/", self.admin_site.admin_view(self.console_view), name="studies_study_console"),
            path(
                "<int:pk>/console/live/",
                self.admin_site.admin_view(self.console_live_view),
                name="studies_study_console_live",
            ),
            path(
                "<int:pk>/seed-values/",
                self.admin_site.admin_view(self.seed_values_view),
                name="studies_study_seed_values",
            ),
            path(
                "<int:pk>/write-stories/",
                self.admin_site.admin_view(self.write_stories_view),
                name="studies_study_write_stories",
            ),
        ] + super().get_urls()

    def console_view(self, request, pk: int):
        """The study while it runs: where participants are, who is stuck, what it costs."""
        study = self._study_or_denied(request, pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Live console: {study.title}",
            "study": study,
            "opts": self.model._meta,
            "original": study,
            "participant_link": console.participant_link(request, study),
            "preview_url": console.preview_url(study),
            "can_change": self.has_change_permission(request, study),
            **console.study_console(study),
        }
        context["site_url_warning"] = console.site_url_warning(request)
        if context["can_change"]:  # a preview writes and spends the budget: coordinators only
            context["preview_link"] = console.preview_link(request, study)
        return TemplateResponse(request, "admin/studies/study/console.html", context)

    def console_live_view(self, request, pk: int):
        """The console's changing part, fetched by the page every few seconds."""
        study = self._study_or_denied(request, pk)
        return TemplateResponse(
            request,
            "admin/studies/study/console_live.html",
            {"study": study, "can_change": self.has_change_permission(request, study), **console.study_console(study)},
        )

    def _study_to_change(self, request, pk):
        study = get_object_or_404(Study, pk=pk)
        if not self.has_change_permission(request, study):
            raise PermissionDenied
        return study

    def seed_values_view(self, request, pk: int):
        """Seed canonical values from a file of cards: upload, see every row
        and its problems, then save (nothing is saved before that, nor if
        any row is bad)."""
        study = self._study_to_change(request, pk)
        rows, problems, name, content, error = None, [], "", "", ""
        if request.method == "POST":
            upload = request.FILES.get("file")
            try:
                if upload is not None:
                    if upload.size > MAX_FILE_BYTES:
                        raise SeedFileError(
                            [f"The file is {upload.size:,} bytes; at most {MAX_FILE_BYTES:,} can be read."]
                        )
                    raw, name = upload.read(), upload.name
                else:  # the preview's "Save" sends back the file it showed
                    raw, name = (
                        base64.b64decode(request.POST.get("content", ""), validate=True),
                        request.POST.get("name", ""),
                    )
                    if not raw:
                        raise SeedFileError(["Choose a file of cards (CSV or JSON)."])
                content = base64.b64encode(raw).decode()
                if request.POST.get("save") and upload is None:
                    result = value_services.seed_values_from_file(study, (name, raw), user=request.user)
                    text = (
                        f"Made {len(result['made'])} canonical values from {result['file']}"
                        + (
                            f"; skipped {len(result['skipped'])} whose titles the study already has"
                            if result["skipped"]
                            else ""
                        )
                        + "."
                    )
                    self.message_user(request, text, messages.SUCCESS)
                    if result["embed_error"]:
                        self.message_user(
                            request,
                            f"They could not be embedded ({result['embed_error']}); run "
                            f"manage.py reembed --study {study.slug} --only-missing before "
                            "writing stories.",
                            messages.WARNING,
                        )
                    return redirect("admin:studies_study_console", study.pk)
                rows, name = value_services.check_seed_file(study, (name, raw))
                problems = [f"row {r.number}: {p}" for r in rows for p in r.problems]
            except SeedFileError as err:
                error, problems = "Nothing was saved.", err.problems
            except (binascii.Error, ValueError):
                error = "The file could not be read back; choose it again."
        context = {
            **self.admin_site.each_context(request),
            "title": f"Seed values from a file: {study.title}",
            "study": study,
            "opts": self.model._meta,
            "original": study,
            "rows": rows,
            "problems": problems,
            "error": error,
            "name": name,
            "content": content if rows is not None and not problems else "",
            "to_make": sum(1 for r in rows or [] if not r.note and not r.problems),
        }
        return TemplateResponse(
            request, "admin/studies/study/seed_values.html", context, status=400 if (problems or error) else 200
        )

    def write_stories_view(self, request, pk: int):
        """The console's "Write stories now": a story run queued for the worker."""
        study = self._study_to_change(request, pk)
        if request.method != "POST":
            return redirect("admin:studies_study_console", study.pk)
        graph_services.write_stories_ahead(study, user=request.user)
        self.message_user(
            request, "Story writing is queued; its progress shows under “Ready to launch?”.", messages.SUCCESS
        )
        return redirect("admin:studies_study_console", study.pk)

    def _study_or_denied(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(Study, pk=pk)

    def report_view(self, request, pk: int):
        """Tables 2-4 and Figures 8 and 12 of the paper, for this study."""
        study = self._study_or_denied(request, pk)
        include_simulated = request.GET.get("simulated") == "1"
        context = {
            **self.admin_site.each_context(request),
            "title": f"Report: {study.title}",
            "study": study,
            "opts": self.model._meta,
            "original": study,
            "building": study_selectors.demo_build(study),
            **study_report(study, include_simulated=include_simulated),
        }
        return TemplateResponse(request, "admin/studies/study/report.html", context)

    def export_view(self, request, pk: int):
        """Download the study's data as a zip; Prolific IDs only with a reason."""
        study = self._study_or_denied(request, pk)
        error = ""
        if request.method == "POST":
            identities = request.POST.get("identities") == "on"
            reason = request.POST.get("reason", "").strip()
            if identities and not request.user.has_perm(REVEAL_PERMISSION):  # coordinators; never auditors
                error = "You may not export Prolific identities."
            elif identities and len(reason) < 10:
                error = "Say why the Prolific IDs are needed (at least a sentence); the reason is recorded."
            else:
                buffer = io.BytesIO()
                with tempfile.TemporaryDirectory() as tmp:
                    export_study(
                        study,
                        Path(tmp),
                        include_simulated=request.POST.get("simulated") == "on",
                        identities_reason=reason if identities else "",
                        user=request.user,
                    )
                    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                        for file in sorted(Path(tmp).iterdir()):
                            archive.write(file, file.name)
                response = HttpResponse(buffer.getvalue(), content_type="application/zip")
                response["Content-Disposition"] = f'attachment; filename="{study.slug}-export.zip"'
                return response
        context = {
            **self.admin_site.each_context(request),
            "title": f"Export data: {study.title}",
            "study": study,
            "opts": self.model._meta,
            "original": study,
            "error": error,
            "can_export_identities": request.user.has_perm(REVEAL_PERMISSION),
        }
        return TemplateResponse(request, "admin/studies/study/export.html", context, status=400 if error else 200)

    @admin.display(description="participants")
    def participant_count(self, obj):
        return obj.participants.real().count()

    @admin.action(description="Record participant statistics now (background job)", permissions=["change"])
    def record_statistics(self, request, queryset):
        for study in queryset:
            transaction.on_commit(lambda pk=study.pk: record_study_statistics.defer(study_id=pk))
        self.message_user(request, f"Queued statistics for {queryset.count()} studies.", messages.SUCCESS)

    @admin.action(
        description="Check the language model: tools, turn order, usage, embeddings (background job)",
        permissions=["change"],
    )
    def check_model(self, request, queryset):
        for study in queryset:
            transaction.on_commit(lambda pk=study.pk: check_study_model.defer(study_id=pk))
        self.message_user(
            request,
            f"Queued a model check for {queryset.count()} studies; the report appears on "
            "each study's page under Language model.",
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if {"llm_provider", "llm_model", "llm_base_url"} & set(form.changed_data) and not gateway.resolve(obj).offline:
            transaction.on_commit(lambda pk=obj.pk: check_study_model.defer(study_id=pk))
            self.message_user(
                request,
                "The new language model is being checked; its report appears under Language model in a minute.",
                messages.INFO,
            )

    @admin.display(description="model check")
    def model_check(self, obj):
        report = obj.llm_probe if obj is not None else None
        if not report:
            return "Not checked yet (the offline provider needs none)."
        route = gateway.resolve(obj)
        if (report.get("provider"), report.get("model"), report.get("base_url", "")) != (
            route.provider,
            route.model,
            route.base_url,
        ):
            return format_html(
                "Checked {} for another model ({} {}); save or run the check again.",
                report.get("checked_at", ""),
                report.get("provider", ""),
                report.get("model", ""),
            )
        problems = ProbeReport.model_validate(report).problems()
        return format_html(
            '<span id="model-check">Checked {} ({} {}): {}</span>',
            report.get("checked_at", ""),
            route.provider,
            route.model,
            "; ".join(problems) or "everything the interview needs works",
        )

    @admin.action(description="Write transition stories for new value pairs (background job)", permissions=["change"])
    def generate_stories(self, request, queryset):
        for study in queryset:
            transaction.on_commit(lambda pk=study.pk: generate_stories.defer(study_id=pk))
        self.message_user(
            request,
            f"Queued story writing for {queryset.count()} studies; follow it under Moral graph › Story runs.",
            messages.SUCCESS,
        )

    @admin.action(description="Seed canonical values from a file of cards (before launch)", permissions=["change"])
    def seed_values(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose one study to seed.", messages.WARNING)
            return None
        return redirect("admin:studies_study_seed_values", queryset.get().pk)

    @admin.action(
        description="Build the moral graph (background job; asks whether simulated votes count)", permissions=["change"]
    )
    def build_moral_graph(self, request, queryset):
        return build_moral_graph_action(self, request, queryset, weighting_runs=weight_selectors.run_choices)

    @admin.action(
        description="Rate transcripts for the report: ideology, life experience (background job)",
        permissions=["change"],
    )
    def rate_transcripts(self, request, queryset):
        for study in queryset:
            transaction.on_commit(lambda pk=study.pk: rate_transcripts.defer(study_id=pk))
        self.message_user(
            request,
            f"Queued transcript ratings for {queryset.count()} studies; they appear in "
            "each study's report (Figures 8 and 12) when done.",
            messages.SUCCESS,
        )

    @admin.action(description="Delete staff previews (and everything they wrote)", permissions=["change"])
    def delete_previews(self, request, queryset):
        deleted = sum(withdrawal.delete_previews(study, user=request.user) for study in queryset)
        self.message_user(
            request,
            f"Deleted {deleted} preview participant(s) with their chats, cards and votes."
            if deleted
            else "There were no previews to delete.",
            messages.SUCCESS,
        )

    @admin.action(
        description="Open a retest round (a seeded sample of completed participants, invited by their follow-up links)",
        permissions=["change"],
    )
    def open_retest_round(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose one study to open a retest round for.", messages.WARNING)
            return None
        study = queryset.get()
        form = RetestRoundForm(request.POST if request.POST.get("apply") == "open" else None, study=study)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": f"Open a retest round of {study.title}",
                "opts": self.model._meta,
                "study": study,
                "form": form,
                "eligible": study_rounds.eligible(study).count(),
                "rounds": list(study.rounds.all()),
                "action": request.POST.get("action", "open_retest_round"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/studies/retest_round.html", context)
        data = form.cleaned_data
        try:
            opened = retest.open_retest_round(
                study,
                n=data["n"],
                fraction=data["fraction"],
                seed=data["seed"],
                stratify_by=None if data["stratify_by"] == "default" else data["stratify_by"],
                days_valid=data["days_valid"],
                user=request.user,
            )
        except study_rounds.RoundError as err:
            self.message_user(request, f"{study.title}: {err}.", messages.ERROR)
            return None
        self.message_user(request, opened.summary(), messages.SUCCESS)
        return None

    @admin.action(description="Export data (zip of CSV files, graph JSON and codebook)", permissions=["view"])
    def export_data(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose one study to export.", messages.WARNING)
            return None
        return redirect("admin:studies_study_export", queryset.get().pk)


# --- participants' disputes ---------------------------------------------------------


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    """The coordinators' queue of disputes: read-only rows (the participant's
    words are theirs), decided with the uphold and reject actions, which ask
    for a reason (required to reject; the participant reads it)."""

    list_display = ["pk", "created_at", "study", "kind", "status", "via", "short_text", "decided_at"]
    list_filter = ["status", "kind", "study", "via"]
    search_fields = ["text", "reason", "target", "participant__id"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "study",
        "participant",
        "kind",
        "status",
        "via",
        "text",
        "target",
        "card",
        "value",
        "story",
        "snapshot",
        "created_at",
        "decided_at",
        "decided_by",
        "reason",
        "outcome",
    ]
    actions = ["uphold", "reject"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # withdrawal deletes a participant's disputes; nobody else does

    def has_decide_permission(self, request):
        return request.user.has_perm("journey.change_dispute")

    @admin.display(description="their words")
    def short_text(self, obj):
        return obj.text if len(obj.text) <= 80 else obj.text[:79] + "…"

    def _decide(self, request, queryset, *, action: str):
        reason = request.POST.get("reason", "")
        error = ""
        if request.POST.get("apply") == action:
            done, problems = 0, []
            for dispute in queryset.order_by("pk"):
                try:
                    if action == "uphold":
                        dispute_services.uphold_dispute(dispute, user=request.user, reason=reason)
                    else:
                        dispute_services.reject_dispute(dispute, user=request.user, reason=reason)
                    done += 1
                except inputs.BadInput as err:
                    error = err.message
                    break
                except dispute_services.DisputeError as err:
                    problems.append(str(err))
            if not error:
                verb = "Upheld" if action == "uphold" else "Rejected"
                if done:
                    self.message_user(request, f"{verb} {done} dispute{'s' if done != 1 else ''}.", messages.SUCCESS)
                for problem in problems:
                    self.message_user(request, problem, messages.ERROR)
                return None
        return TemplateResponse(
            request,
            "admin/journey/dispute/decide.html",
            {
                **self.admin_site.each_context(request),
                "title": "Uphold disputes" if action == "uphold" else "Reject disputes",
                "action": action,
                "disputes": list(queryset.order_by("pk")),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "reason": inputs.storable(reason),
                "error": error,
                "max_reason": REASON_MAX_CHARS,
                "opts": self.model._meta,
            },
            status=400 if error else 200,
        )

    @admin.action(
        description="Uphold selected disputes (split the card off, archive the story or rebuild the graph)",
        permissions=["decide"],
    )
    def uphold(self, request, queryset):
        return self._decide(request, queryset, action="uphold")

    @admin.action(description="Reject selected disputes, with a reason", permissions=["decide"])
    def reject(self, request, queryset):
        return self._decide(request, queryset, action="reject")
