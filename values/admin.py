from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from interviews.admin import InterviewAdmin
from mgeplatform.admin import ReadOnlyAdminMixin
from studies.models import Study
from values import services
from values.models import (
    CanonicalApproval,
    CanonicalValue,
    DeduplicationDecision,
    DeduplicationRun,
    ValueRendering,
    ValuesCard,
    wording_digest,
)
from values.selectors import closest_canonical_pairs

# Sections other apps add to a value's admin page (the graph app: the value's
# edges, stories and votes), so that values need not import them.
_value_page_sections = []


def value_page_section(build):
    """Register `build(request, value)`, which returns a section for the value's
    page, {"id", "title", "note", "columns", "rows"} (cells are text or safe
    HTML), or None to show nothing."""
    _value_page_sections.append(build)
    return build


def _link(obj, label=None):
    if obj is None:
        return "–"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or obj)


class SourceCardInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ValuesCard
    fk_name = "canonical"
    extra = 0
    verbose_name_plural = "source cards"
    fields = ("card_link", "interview_link", "participant", "language", "policies", "pivot_policies", "submitted_at")
    readonly_fields = fields

    @admin.display(description="card")
    def card_link(self, obj):
        return _link(obj)

    @admin.display(description="interview (transcript)")
    def interview_link(self, obj):
        return _link(obj.interview, f"transcript of interview {obj.interview_id} ({obj.interview.scenario.key})")

    @admin.display(description="participant")
    def participant(self, obj):
        return obj.interview.participant_id


class DecisionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeduplicationDecision
    fk_name = "matched"
    extra = 0
    verbose_name_plural = "deduplication decisions that chose this value"
    fields = ("created_at", "kind", "card", "candidates", "reason", "llm_call_link", "prompt", "model_used")
    readonly_fields = fields

    @admin.display(description="LLM call")
    def llm_call_link(self, obj):
        return _link(obj.llm_call, f"call {obj.llm_call_id}" if obj.llm_call_id else None)

    @admin.display(description="prompt")
    def prompt(self, obj):
        call = obj.llm_call
        return f"{call.prompt_name} v{call.prompt_version} ({call.prompt_hash[:10]})" if call else "–"

    @admin.display(description="model")
    def model_used(self, obj):
        return f"{obj.llm_call.provider}/{obj.llm_call.model}" if obj.llm_call else "–"


def side_by_side(left_label, left, right_label, right):
    """Two wordings of a card or value, (title, description, policies) each, in two columns."""

    def column(words):
        title, description, policies = words
        items = format_html_join("", "<li>{}</li>", ((p,) for p in policies))
        return format_html("<strong>{}</strong><br>{}<ul>{}</ul>", title, description, items)

    return format_html(
        '<table class="side-by-side"><thead><tr><th>{}</th><th>{}</th></tr></thead>'
        "<tbody><tr><td>{}</td><td>{}</td></tr></tbody></table>",
        left_label,
        right_label,
        column(left),
        column(right) if right else "–",
    )


class RenderingInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ValueRendering
    extra = 0
    verbose_name_plural = "in the study's other languages (beside the pivot wording above)"
    fields = ("language", "beside_pivot", "source", "card", "current", "llm_call", "created_at")
    readonly_fields = fields

    @admin.display(description="wording")
    def beside_pivot(self, obj):
        value = obj.canonical
        return side_by_side(
            obj.language,
            (obj.title, obj.description, obj.policies),
            "pivot",
            (value.title, value.description, value.policies),
        )

    @admin.display(description="of the current wording", boolean=True)
    def current(self, obj):
        value = obj.canonical
        return obj.pivot_digest == wording_digest(value.title, value.description, value.policies)


class ApprovalInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CanonicalApproval
    extra = 0
    fields = ("created_at", "card", "answer")
    readonly_fields = fields


class ValuesCardInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ValuesCard
    extra = 0
    fields = ("revision", "title", "description", "policies", "source", "llm_call", "submitted", "created_at")
    readonly_fields = fields


# The interview's page lists the cards it wrote, first (interviews does not import values).
InterviewAdmin.inlines = [ValuesCardInline, *InterviewAdmin.inlines]


@admin.register(CanonicalValue)
class CanonicalValueAdmin(admin.ModelAdmin):
    """Provenance: source cards, the decisions (with their LLM calls) that
    linked them, and participants' approvals."""

    list_display = ["title", "study", "origin", "source_cards", "approvals_summary", "merged_into", "created_at"]
    list_filter = [
        "study",
        "origin",
        "embedding_model",
        ("merged_into", admin.EmptyFieldListFilter),
        ("archived_at", admin.EmptyFieldListFilter),
    ]
    actions = ["merge_into_oldest"]
    search_fields = ["title", "description", "policies"]
    readonly_fields = [
        "embedding_model",
        "representative_card",
        "merged_into",
        "source_name",
        "created_by",
        "archived_at",
        "archived_reason",
        "created_at",
        "updated_at",
    ]
    fields = [
        "study",
        "title",
        "description",
        "policies",
        "origin",
        "scenarios",
        "representative_card",
        "merged_into",
        "source_name",
        "created_by",
        "embedding_model",
        "archived_at",
        "archived_reason",
        "created_at",
        "updated_at",
    ]
    filter_horizontal = ["scenarios"]

    @admin.action(
        description="Merge selected values into the oldest of them (cards follow; audited)", permissions=["change"]
    )
    def merge_into_oldest(self, request, queryset):

        chosen = list(queryset.order_by("created_at", "pk"))
        try:
            services.merge_canonical_values(keep=chosen[0], merge=chosen[1:], user=request.user)
        except ValueError as err:
            self.message_user(request, str(err), messages.ERROR)
            return
        self.message_user(request, f"Merged {len(chosen) - 1} values into “{chosen[0].title}”.", messages.SUCCESS)

    inlines = [RenderingInline, SourceCardInline, DecisionInline, ApprovalInline]
    change_list_template = "admin/values/canonicalvalue/change_list.html"
    change_form_template = "admin/values/canonicalvalue/change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        value = self.get_object(request, object_id)
        sections = [build(request, value) for build in _value_page_sections] if value else []
        extra_context = {**(extra_context or {}), "provenance_sections": [s for s in sections if s]}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "closest-pairs/",
                self.admin_site.admin_view(self.closest_pairs_view),
                name="values_canonicalvalue_closest_pairs",
            )
        ] + super().get_urls()

    def closest_pairs_view(self, request):
        """Quality view: the closest canonical pairs per study."""

        if not self.has_view_permission(request):
            raise PermissionDenied
        studies = [(study, closest_canonical_pairs(study, limit=30)) for study in Study.objects.order_by("title")]
        context = {
            **self.admin_site.each_context(request),
            "title": "Closest canonical values",
            "studies": studies,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/values/canonicalvalue/closest_pairs.html", context)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "scenarios":  # the value's own study's questions only
            value = (
                self.get_object(request, request.resolver_match.kwargs.get("object_id"))
                if (request.resolver_match and request.resolver_match.kwargs.get("object_id"))
                else None
            )
            kwargs["queryset"] = (
                db_field.related_model.objects.filter(study=value.study)
                if value is not None
                else db_field.related_model.objects.all()
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="source cards")
    def source_cards(self, obj):
        return obj.cards.count()

    @admin.display(description="approvals (well / partly / not)")
    def approvals_summary(self, obj):
        answers = list(obj.approvals.values_list("answer", flat=True))
        return f"{answers.count('well')} / {answers.count('partly')} / {answers.count('not')}"


class CardDecisionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeduplicationDecision
    fk_name = "card"
    extra = 0
    fields = ("created_at", "kind", "outcome", "matched", "candidates", "reason", "llm_call")
    readonly_fields = fields


@admin.register(ValuesCard)
class ValuesCardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "revision",
        "language",
        "source",
        "scripted",
        "submitted",
        "canonical",
        "interview",
        "created_at",
    ]
    list_filter = [
        "submitted",
        "scripted",
        "source",
        "language",
        "translation",
        "interview__scenario__study",
        "interview__scenario",
    ]
    search_fields = ["title", "description", "policies", "pivot_title", "interview__participant__id"]
    readonly_fields = [
        "interview",
        "revision",
        "title",
        "description",
        "policies",
        "language",
        "in_pivot_language",
        "translation",
        "translation_error",
        "pivot_llm_call",
        "source",
        "scripted",
        "llm_call",
        "submitted",
        "submitted_at",
        "canonical",
        "embedding_model",
        "created_at",
    ]
    exclude = ["embedding"]
    inlines = [CardDecisionInline]

    @admin.display(description="beside the pivot language")
    def in_pivot_language(self, obj):
        if not obj.needs_translation:
            return "Written in the study's pivot language."
        pivot = (obj.pivot_title, obj.pivot_description, obj.pivot_policies) if obj.pivot_title else None
        return side_by_side(
            f"as written ({obj.language})",
            (obj.title, obj.description, obj.policies),
            f"rendered ({obj.pivot_language})",
            pivot,
        )

    actions = ["split_into_new_value"]

    def has_split_permission(self, request):
        # Cards are read-only; splitting changes canonical values, so it takes their change permission.
        return request.user.has_perm("values.change_canonicalvalue")

    @admin.action(description="Split selected cards off into a new canonical value (audited)", permissions=["split"])
    def split_into_new_value(self, request, queryset):
        try:
            value = services.split_canonical_value(cards=list(queryset), user=request.user)
        except ValueError as err:
            self.message_user(request, str(err), messages.ERROR)
            return
        self.message_user(request, f"Made “{value.title}” from {queryset.count()} cards.", messages.SUCCESS)

    def get_actions(self, request):
        # Actions show even though the card itself is read-only.
        return admin.ModelAdmin.get_actions(self, request)


@admin.register(DeduplicationDecision)
class DeduplicationDecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "outcome", "card", "matched", "llm_call"]
    list_filter = ["kind", "outcome", "card__interview__scenario__study"]
    readonly_fields = ["card", "kind", "outcome", "candidates", "matched", "reason", "llm_call", "created_at"]


@admin.register(DeduplicationRun)
class DeduplicationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["started_at", "study", "status", "finished_at", "counts", "error"]
    list_filter = ["status", "study"]
    readonly_fields = ["study", "status", "started_at", "finished_at", "counts", "error"]
