"""The study admin: the study's settings and the actions that reach every
feature (statistics, stories, graph build, transcript ratings, report and
export). It lives in the journey layer because it calls all of them."""

import io
import tempfile
import zipfile
from pathlib import Path

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from graph.admin import build_moral_graph_action
from graph.tasks import generate_stories
from interviews.tasks import rate_transcripts
from journey.exports import export_study
from journey.report import study_report
from studies.admin import ConsentDocumentInline, ScenarioInline
from studies.models import Study
from studies.tasks import record_study_statistics


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "status", "participant_count", "report_links", "created_at"]
    list_filter = ["status", "require_prolific"]
    change_form_template = "admin/studies/study/change_form.html"
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
        return format_html('<a href="{}">Report</a> · <a href="{}">Export data</a>',
                           reverse("admin:studies_study_report", args=[obj.pk]),
                           reverse("admin:studies_study_export", args=[obj.pk]))

    def get_urls(self):
        return [path("<int:pk>/report/", self.admin_site.admin_view(self.report_view), name="studies_study_report"),
                path("<int:pk>/export/", self.admin_site.admin_view(self.export_view), name="studies_study_export"),
                ] + super().get_urls()

    def _study_or_denied(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(Study, pk=pk)

    def report_view(self, request, pk: int):
        """Tables 2-4 and Figures 8 and 12 of the paper, for this study."""
        study = self._study_or_denied(request, pk)
        include_simulated = request.GET.get("simulated") == "1"
        context = {**self.admin_site.each_context(request), "title": f"Report: {study.title}", "study": study,
                   "opts": self.model._meta, "original": study,
                   **study_report(study, include_simulated=include_simulated)}
        return TemplateResponse(request, "admin/studies/study/report.html", context)

    def export_view(self, request, pk: int):
        """Download the study's data as a zip; Prolific IDs only with a reason."""
        study = self._study_or_denied(request, pk)
        error = ""
        if request.method == "POST":
            identities = request.POST.get("identities") == "on"
            reason = request.POST.get("reason", "").strip()
            if identities and not request.user.has_perm("studies.view_prolificidentity"):
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
        return TemplateResponse(request, "admin/studies/study/export.html", context, status=400 if error else 200)

    @admin.display(description="participants")
    def participant_count(self, obj):
        return obj.participants.real().count()

    @admin.action(description="Record participant statistics now (background job)", permissions=["change"])
    def record_statistics(self, request, queryset):
        for study in queryset:
            transaction.on_commit(lambda pk=study.pk: record_study_statistics.defer(study_id=pk))
        self.message_user(request, f"Queued statistics for {queryset.count()} studies.", messages.SUCCESS)

    @admin.action(description="Write transition stories for new value pairs (background job)", permissions=["change"])
    def generate_stories(self, request, queryset):
        for study in queryset:
            transaction.on_commit(lambda pk=study.pk: generate_stories.defer(study_id=pk))
        self.message_user(request, f"Queued story writing for {queryset.count()} studies; follow it under "
                                   "Moral graph › Story runs.", messages.SUCCESS)

    @admin.action(description="Build the moral graph (background job; asks whether simulated votes count)",
                  permissions=["change"])
    def build_moral_graph(self, request, queryset):
        return build_moral_graph_action(self, request, queryset)

    @admin.action(description="Rate transcripts for the report: ideology, life experience (background job)",
                  permissions=["change"])
    def rate_transcripts(self, request, queryset):
        for study in queryset:
            transaction.on_commit(lambda pk=study.pk: rate_transcripts.defer(study_id=pk))
        self.message_user(request, f"Queued transcript ratings for {queryset.count()} studies; they appear in "
                                   "each study's report (Figures 8 and 12) when done.", messages.SUCCESS)

    @admin.action(description="Export data (zip of CSV files, graph JSON and codebook)", permissions=["view"])
    def export_data(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose one study to export.", messages.WARNING)
            return None
        return redirect("admin:studies_study_export", queryset.get().pk)
