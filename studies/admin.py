"""Admin for the base layer: consent versions, participants (with the trail
every feature contributes, see contributions.participant_trail), Prolific
identities, consent records and statistics. The study admin itself, with its
report, export and console, is registered by the journey layer
(journey/admin.py)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path

from mgeplatform.admin import ReadOnlyAdminMixin
from studies import arms, contributions, demographics, services
from studies.models import Arm, ConsentDocument, ConsentRecord, Participant, ProlificIdentity, Scenario, StudyStatistics


class ScenarioInline(admin.TabularInline):
    model = Scenario
    extra = 0
    fields = ["order", "key", "title", "prompt", "active"]


class ArmForm(forms.ModelForm):
    class Meta:
        model = Arm
        fields = ["name", "weight", "settings"]

    def clean(self):
        cleaned = super().clean()
        study = getattr(self.instance, "study", None)
        if study is not None and study.pk is not None and isinstance(cleaned.get("settings"), dict):
            try:
                cleaned["settings"] = arms.check_settings(study, cleaned["settings"])
            except arms.ArmSettingsError as err:
                self.add_error("settings", str(err))
        return cleaned


class ArmFormSet(forms.BaseInlineFormSet):
    """A study form posted without the arms part (a script, an older page)
    leaves the arms as they are instead of failing on the missing management form."""

    def __init__(self, data=None, *args, prefix=None, **kwargs):
        prefix = prefix or self.get_default_prefix()
        if data is not None and f"{prefix}-TOTAL_FORMS" not in data:
            data = data.copy()
            data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
        super().__init__(data, *args, prefix=prefix, **kwargs)


class ArmInline(admin.TabularInline):
    """The study's arms (an experiment): newcomers are randomised between them by
    weight; each arm's settings override the study's. Add them before the study
    opens: a participant's arm never changes, and an arm with participants stays."""

    model = Arm
    form = ArmForm
    formset = ArmFormSet
    extra = 0
    fields = ["name", "weight", "settings"]


class ConsentDocumentForm(forms.ModelForm):
    """One consent version on the study's page: a new one is written here;
    a saved one is frozen (participants consented to exactly that text, and
    a database trigger refuses edits too), only *Is active* can change."""

    FROZEN = ("version_label", "irb_protocol_id", "text")

    class Meta:
        model = ConsentDocument
        fields = ["version_label", "irb_protocol_id", "text", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            for name in self.FROZEN:
                if name in self.fields:
                    # Disabled: shown, and whatever is posted for it is ignored.
                    self.fields[name].disabled = True
                    self.fields[name].help_text = "Saved versions are frozen; new wording is a new version."


class ConsentDocumentInline(admin.StackedInline):
    """On the study page (also when the study is first added): the study's
    consent versions. The inline's own get_readonly_fields is given the
    study, not the version, so freezing is done per form (ConsentDocumentForm)."""

    model = ConsentDocument
    form = ConsentDocumentForm
    extra = 0
    fields = ["version_label", "irb_protocol_id", "text", "is_active", "content_hash", "created_at"]
    readonly_fields = ["content_hash", "created_at"]
    verbose_name = "consent form version"
    verbose_name_plural = "Consent form"

    def get_extra(self, request, obj=None, **kwargs):
        # A study without a consent form yet shows an empty one to fill in.
        return 0 if obj is not None and obj.consent_documents.exists() else 1


class ConsentRecordInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ConsentRecord
    extra = 0
    fields = ["created_at", "accepted", "consent_document", "consent_hash"]
    readonly_fields = fields  # type: ignore[assignment]  # django-stubs types the two lists apart; same names


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "study",
        "current_step",
        "cohort",
        "arm",
        "language_chosen",
        "via_prolific",
        "simulated",
        "created_at",
    ]
    list_filter = ["study", "current_step", "cohort", "arm", "language", "simulated", "via_prolific", "created_at"]
    list_select_related = ["study", "arm", "demographics"]
    search_fields = ["id"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "study",
        "current_step",
        "cohort",
        "simulated",
        "via_prolific",
        "language_chosen",
        "arm",
        "created_at",
        "updated_at",
    ]
    inlines = [ConsentRecordInline]
    actions = ["screen_out"]
    change_form_template = "admin/studies/participant/change_form.html"

    @admin.display(description="language", ordering="language")
    def language_chosen(self, participant):
        # The language chosen on entry, with Prolific's "Language" answer once imported.
        return demographics.language_beside_prolific(participant)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        participant = self.get_object(request, object_id)
        if participant is not None:
            # Each feature's part of what the participant did, in the journey's order.
            extra_context = {**(extra_context or {}), "trail": contributions.trail(participant)}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/prolific-id/",
                self.admin_site.admin_view(self.reveal_view),
                name="studies_participant_reveal_prolific_id",
            )
        ] + super().get_urls()

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_reveal_prolific_id"] = request.user.has_perm(services.REVEAL_PERMISSION)
        return super().render_change_form(request, context, *args, **kwargs)

    def reveal_view(self, request, object_id):
        """A participant's Prolific IDs, shown once the staff member says why (recorded)."""
        participant = self.get_object(request, object_id)
        if participant is None or not self.has_view_permission(request, participant):
            raise Http404
        if not request.user.has_perm(services.REVEAL_PERMISSION):
            raise PermissionDenied
        identity, error, status = None, "", 200
        if request.method == "POST":
            try:
                identity = services.reveal_prolific_identity(
                    participant=participant, reason=request.POST.get("reason", ""), user=request.user
                )
            except ValueError as err:
                error, status = str(err), 400
            else:
                if identity is None:
                    error = "This participant has no Prolific IDs (a plain study link, or they withdrew)."
        # admin_view marks it never_cache, so the ids are not kept in the browser's cache.
        return TemplateResponse(
            request,
            "admin/studies/participant/reveal_prolific_id.html",
            {
                **self.admin_site.each_context(request),
                "title": "Prolific IDs of a participant",
                "opts": self.model._meta,
                "original": participant,
                "identity": identity,
                "error": error,
            },
            status=status,
        )

    def has_screen_out_permission(self, request):
        # The admin is read-only for participants; screening out goes through its service.
        return request.user.has_perm("studies.change_participant")

    @admin.action(
        description="Screen out (back to Prolific with the screened-out code; asks for a reason)",
        permissions=["screen_out"],
    )
    def screen_out(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("confirm") == "yes" and reason:
            moved = sum(services.screen_out(participant=p, reason=reason, user=request.user) for p in queryset)
            skipped = queryset.count() - moved
            self.message_user(
                request,
                f"Screened out {moved} participants" + (f"; {skipped} had already finished." if skipped else "."),
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/studies/participant/screen_out.html",
            {
                **self.admin_site.each_context(request),
                "title": "Screen out participants",
                "participants": queryset,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "error": "Say why they are screened out." if request.POST.get("confirm") == "yes" else "",
            },
        )


HIDDEN = "hidden"  # what lists show instead of a Prolific ID or session id


@admin.register(ProlificIdentity)
class ProlificIdentityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Which participants came from Prolific, with their ids masked: the ids
    are shown one participant at a time, with a reason, from the participant's
    page. Search is by participant id, or (coordinators) by an exact Prolific
    ID or session id, which is recorded."""

    list_display = ["participant", "study", "prolific_id", "session_id", "created_at", "last_seen_at"]
    list_filter = ["study"]
    search_fields = ["participant__id"]
    search_help_text = (
        "Participant id. Coordinators may also enter a whole Prolific ID or session id; "
        "the lookup is recorded in the audit trail."
    )
    readonly_fields = [
        "participant",
        "study",
        "prolific_id",
        "prolific_study_id",
        "session_id",
        "created_at",
        "last_seen_at",
    ]
    fields = readonly_fields  # type: ignore[assignment]  # django-stubs types the two lists apart; same names

    @admin.display(description="Prolific ID")
    def prolific_id(self, obj):
        return HIDDEN

    @admin.display(description="session id")
    def session_id(self, obj):
        return HIDDEN

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term and request.user.has_perm(services.REVEAL_PERMISSION):
            by_id, _ = super().get_search_results(request, queryset, term)
            found = services.look_up_prolific_identities(queryset, term=term, user=request.user)
            return (by_id | found).distinct(), True
        return super().get_search_results(request, queryset, search_term)


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
    readonly_fields = [
        "study",
        "recorded_at",
        "participants",
        "consented",
        "declined",
        "by_step",
        "simulated",
        "previews",
    ]
