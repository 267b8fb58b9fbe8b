"""Admin for the values interview: transcripts, cards and grades, read-only."""

from django.contrib import admin

from interviews.models import ChatMessage, DialogueGrade, Interview
from mgeplatform.admin import ReadOnlyAdminMixin
from values.models import ValuesCard


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
