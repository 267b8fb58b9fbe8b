from django.contrib import admin, messages
from django.db import models, transaction

from interviews import services
from interviews.models import (
    ConsentDocument,
    ConsentRecord,
    Participant,
    ProlificIdentity,
    Scenario,
    Study,
    StudyStatistics,
)
from mgeplatform.admin import ReadOnlyAdminMixin


class ScenarioInline(admin.TabularInline):
    model = Scenario
    extra = 0
    fields = ["order", "key", "title", "prompt", "active"]


class ConsentDocumentInline(admin.StackedInline):
    model = ConsentDocument
    extra = 0
    fields = ["version_label", "irb_protocol_id", "text", "is_active", "content_hash", "created_at"]
    readonly_fields = ["content_hash", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # Published consent text is frozen (a database trigger enforces it too);
        # new wording is a new version.
        return self.readonly_fields + ["version_label", "irb_protocol_id", "text"] if obj else self.readonly_fields


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "status", "participant_count", "report_links", "created_at"]
    list_filter = ["status", "require_prolific"]
    change_form_template = "admin/interviews/study/change_form.html"
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ScenarioInline, ConsentDocumentInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ["record_statistics", "generate_stories", "build_moral_graph", "rate_transcripts", "export_data"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "status", "description", "require_prolific"]}),
        ("Prolific completion codes", {"fields": [
            "completion_code_completed", "completion_code_no_consent",
            "completion_code_screened_out", "completion_code_failed_attention",
        ]}),
        ("Language model", {"fields": ["llm_provider", "llm_model", "llm_base_url"]}),
        ("Moral graph", {"fields": ["stories_per_participant", "graph_public"]}),
        ("Withdrawal", {"fields": ["withdrawal_policy"]}),
    ]

    def get_inlines(self, request, obj):
        return self.inlines if obj else [ScenarioInline]

    @admin.display(description="report")
    def report_links(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        return format_html('<a href="{}">Report</a> · <a href="{}">Export data</a>',
                           reverse("admin:interviews_study_report", args=[obj.pk]),
                           reverse("admin:interviews_study_export", args=[obj.pk]))

    def get_urls(self):
        from django.urls import path

        return [path("<int:pk>/report/", self.admin_site.admin_view(self.report_view), name="interviews_study_report"),
                path("<int:pk>/export/", self.admin_site.admin_view(self.export_view), name="interviews_study_export"),
                ] + super().get_urls()

    def _study_or_denied(self, request, pk):
        from django.core.exceptions import PermissionDenied
        from django.shortcuts import get_object_or_404

        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(Study, pk=pk)

    def report_view(self, request, pk: int):
        """Tables 2-4 and Figures 8 and 12 of the paper, for this study."""
        from django.template.response import TemplateResponse

        from interviews.report import study_report

        study = self._study_or_denied(request, pk)
        include_simulated = request.GET.get("simulated") == "1"
        context = {**self.admin_site.each_context(request), "title": f"Report: {study.title}", "study": study,
                   "opts": self.model._meta, "original": study, **study_report(study, include_simulated=include_simulated)}
        return TemplateResponse(request, "admin/interviews/study/report.html", context)

    def export_view(self, request, pk: int):
        """Download the study's data as a zip; Prolific IDs only with a reason."""
        import io
        import tempfile
        import zipfile
        from pathlib import Path

        from django.http import HttpResponse
        from django.template.response import TemplateResponse

        from interviews.exports import export_study

        study = self._study_or_denied(request, pk)
        error = ""
        if request.method == "POST":
            identities = request.POST.get("identities") == "on"
            reason = request.POST.get("reason", "").strip()
            if identities and not request.user.has_perm("interviews.view_prolificidentity"):
                error = "You may not export Prolific identities."
            elif identities and len(reason) < 10:
                error = "Say why the Prolific IDs are needed (at least a sentence); the reason is recorded."
            else:
                buffer = io.BytesIO()
                with tempfile.TemporaryDirectory() as tmp:
                    export_study(study, Path(tmp), include_simulated=request.POST.get("simulated") == "on",
                                 identities_reason=reason if identities else "", user=request.user)
                    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                        for file in sorted(Path(tmp).iterdir()):
                            archive.write(file, file.name)
                response = HttpResponse(buffer.getvalue(), content_type="application/zip")
                response["Content-Disposition"] = f'attachment; filename="{study.slug}-export.zip"'
                return response
        context = {**self.admin_site.each_context(request), "title": f"Export data: {study.title}", "study": study,
                   "opts": self.model._meta, "original": study, "error": error}
        return TemplateResponse(request, "admin/interviews/study/export.html", context, status=400 if error else 200)

    @admin.display(description="participants")
    def participant_count(self, obj):
        return obj.participants.filter(simulated=False).count()

    @admin.action(description="Record participant statistics now (background job)", permissions=["change"])
    def record_statistics(self, request, queryset):
        from interviews.tasks import record_study_statistics

        for study in queryset:
            transaction.on_commit(lambda pk=study.pk: record_study_statistics.defer(study_id=pk))
        self.message_user(request, f"Queued statistics for {queryset.count()} studies.", messages.SUCCESS)

    @admin.action(description="Write transition stories for new value pairs (background job)", permissions=["change"])
    def generate_stories(self, request, queryset):
        from graph.tasks import generate_stories

        for study in queryset:
            transaction.on_commit(lambda pk=study.pk: generate_stories.defer(study_id=pk))
        self.message_user(request, f"Queued story writing for {queryset.count()} studies; follow it under "
                                   "Moral graph › Story runs.", messages.SUCCESS)

    @admin.action(description="Build the moral graph (background job)", permissions=["change"])
    def build_moral_graph(self, request, queryset):
        from graph.tasks import build_snapshot

        for study in queryset:
            transaction.on_commit(lambda pk=study.pk: build_snapshot.defer(study_id=pk, user_id=request.user.pk))
        self.message_user(request, f"Queued a graph build for {queryset.count()} studies; the result appears "
                                   "under Moral graph › Graph snapshots.", messages.SUCCESS)


    @admin.action(description="Rate transcripts for the report: ideology, life experience (background job)",
                  permissions=["change"])
    def rate_transcripts(self, request, queryset):
        from interviews.tasks import rate_transcripts

        for study in queryset:
            transaction.on_commit(lambda pk=study.pk: rate_transcripts.defer(study_id=pk))
        self.message_user(request, f"Queued transcript ratings for {queryset.count()} studies; they appear in "
                                   "each study's report (Figures 8 and 12) when done.", messages.SUCCESS)

    @admin.action(description="Export data (zip of CSV files, graph JSON and codebook)", permissions=["view"])
    def export_data(self, request, queryset):
        from django.shortcuts import redirect

        if queryset.count() != 1:
            self.message_user(request, "Choose one study to export.", messages.WARNING)
            return None
        return redirect("admin:interviews_study_export", queryset.get().pk)


class ConsentRecordInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ConsentRecord
    extra = 0
    fields = ["created_at", "accepted", "consent_document", "consent_hash"]
    readonly_fields = fields


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "study", "current_step", "via_prolific", "simulated", "created_at"]
    list_filter = ["study", "current_step", "simulated", "via_prolific", "created_at"]
    search_fields = ["id"]
    date_hierarchy = "created_at"
    readonly_fields = ["id", "study", "current_step", "simulated", "via_prolific", "created_at", "updated_at"]
    inlines = [ConsentRecordInline]
    actions = ["screen_out"]

    def has_screen_out_permission(self, request):
        # The admin is read-only for participants; screening out goes through its service.
        return request.user.has_perm("interviews.change_participant")

    @admin.action(description="Screen out (back to Prolific with the screened-out code; asks for a reason)",
                  permissions=["screen_out"])
    def screen_out(self, request, queryset):
        from django.template.response import TemplateResponse

        reason = request.POST.get("reason", "").strip()
        if request.POST.get("confirm") == "yes" and reason:
            moved = sum(services.screen_out(participant=p, reason=reason, user=request.user) for p in queryset)
            skipped = queryset.count() - moved
            self.message_user(request, f"Screened out {moved} participants"
                                       + (f"; {skipped} had already finished." if skipped else "."), messages.SUCCESS)
            return None
        return TemplateResponse(request, "admin/interviews/participant/screen_out.html", {
            **self.admin_site.each_context(request), "title": "Screen out participants", "participants": queryset,
            "opts": self.model._meta, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "error": "Say why they are screened out." if request.POST.get("confirm") == "yes" else ""})


@admin.register(ProlificIdentity)
class ProlificIdentityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["participant", "study", "prolific_pid", "created_at", "last_seen_at"]
    list_filter = ["study"]
    search_fields = ["prolific_pid", "participant__id"]
    readonly_fields = ["participant", "study", "prolific_pid", "prolific_study_id", "prolific_session_id",
                       "created_at", "last_seen_at"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "participant", "accepted", "consent_document"]
    list_filter = ["accepted", "consent_document__study", "created_at"]
    search_fields = ["participant__id", "consent_hash"]
    readonly_fields = ["participant", "consent_document", "consent_hash", "accepted", "created_at"]


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    list_display = ["study", "version_label", "irb_protocol_id", "is_active", "created_at", "short_hash"]
    list_filter = ["study", "is_active"]
    search_fields = ["version_label", "irb_protocol_id", "content_hash"]
    readonly_fields = ["content_hash", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        frozen = ["study", "version_label", "irb_protocol_id", "text"] if obj else []
        return self.readonly_fields + frozen

    @admin.display(description="hash")
    def short_hash(self, obj):
        return obj.content_hash[:12]


@admin.register(StudyStatistics)
class StudyStatisticsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["study", "recorded_at", "participants", "consented", "declined"]
    list_filter = ["study"]
    readonly_fields = ["study", "recorded_at", "participants", "consented", "declined", "by_step"]


from interviews.models import ChatMessage, DialogueGrade, Interview  # noqa: E402
from values.models import ValuesCard  # noqa: E402


class ChatMessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ChatMessage
    extra = 0
    fields = ["seq", "role", "content", "tool_calls", "tool_call_id", "llm_call", "input_tokens", "output_tokens",
              "created_at"]
    readonly_fields = fields


class ValuesCardInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ValuesCard
    extra = 0
    fields = ["revision", "title", "description", "policies", "source", "llm_call", "submitted", "created_at"]
    readonly_fields = fields


class DialogueGradeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DialogueGrade
    extra = 0
    fields = ["created_at", "grader_prompt_version", "mean_score", "scores", "llm_call"]
    readonly_fields = fields


@admin.register(Interview)
class InterviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "participant", "scenario", "status", "provider", "model", "offline", "created_at",
                    "submitted_at"]
    list_filter = ["status", "scenario__study", "scenario", "provider", "offline", "created_at"]
    search_fields = ["participant__id", "messages__content"]
    date_hierarchy = "created_at"
    readonly_fields = ["participant", "scenario", "status", "provider", "model", "offline", "prompt_versions",
                       "last_error", "created_at", "updated_at", "submitted_at"]
    inlines = [ValuesCardInline, DialogueGradeInline, ChatMessageInline]
