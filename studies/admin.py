"""Admin for the base layer: consent versions, participants (with the trail
every feature contributes, see contributions.participant_trail), Prolific
identities, consent records and statistics. The study admin itself, with its
report, export and console, is registered by the journey layer
(journey/admin.py)."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from mgeplatform.admin import ReadOnlyAdminMixin
from studies import contributions, services
from studies.models import ConsentDocument, ConsentRecord, Participant, ProlificIdentity, Scenario, StudyStatistics


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


class ConsentRecordInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ConsentRecord
    extra = 0
    fields = ["created_at", "accepted", "consent_document", "consent_hash"]
    readonly_fields = fields


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "study", "current_step", "cohort", "via_prolific", "simulated", "created_at"]
    list_filter = ["study", "current_step", "cohort", "simulated", "via_prolific", "created_at"]
    search_fields = ["id"]
    date_hierarchy = "created_at"
    readonly_fields = ["id", "study", "current_step", "cohort", "simulated", "via_prolific", "created_at",
                       "updated_at"]
    inlines = [ConsentRecordInline]
    actions = ["screen_out"]
    change_form_template = "admin/studies/participant/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        participant = self.get_object(request, object_id)
        if participant is not None:
            # Each feature's part of what the participant did, in the journey's order.
            extra_context = {**(extra_context or {}), "trail": contributions.trail(participant)}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_screen_out_permission(self, request):
        # The admin is read-only for participants; screening out goes through its service.
        return request.user.has_perm("studies.change_participant")

    @admin.action(description="Screen out (back to Prolific with the screened-out code; asks for a reason)",
                  permissions=["screen_out"])
    def screen_out(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("confirm") == "yes" and reason:
            moved = sum(services.screen_out(participant=p, reason=reason, user=request.user) for p in queryset)
            skipped = queryset.count() - moved
            self.message_user(request, f"Screened out {moved} participants"
                                       + (f"; {skipped} had already finished." if skipped else "."), messages.SUCCESS)
            return None
        return TemplateResponse(request, "admin/studies/participant/screen_out.html", {
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
    list_display = ["study", "recorded_at", "participants", "consented", "declined", "simulated", "previews"]
    list_filter = ["study"]
    readonly_fields = ["study", "recorded_at", "participants", "consented", "declined", "by_step", "simulated",
                       "previews"]
