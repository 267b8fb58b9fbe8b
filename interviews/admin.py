"""Admin for the values interview: transcripts and grades, read-only (the
cards are shown here by values/admin.py)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join, linebreaks
from django.utils.safestring import mark_safe

from interviews.models import ChatMessage, DialogueGrade, Interview
from mgeplatform.admin import ReadOnlyAdminMixin


class ChatMessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ChatMessage
    extra = 0
    verbose_name_plural = "messages as stored (with tool calls and tokens)"
    classes = ["collapse"]
    fields = [
        "seq",
        "role",
        "content",
        "tool_calls",
        "tool_call_id",
        "llm_call",
        "input_tokens",
        "output_tokens",
        "created_at",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # django-stubs types the two lists apart; same names


class DialogueGradeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DialogueGrade
    extra = 0
    fields = ["created_at", "grader_prompt_version", "mean_score", "scores", "llm_call"]
    readonly_fields = fields  # type: ignore[assignment]  # django-stubs types the two lists apart; same names


@admin.register(Interview)
class InterviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The transcript first, as the participant and interviewer saw it."""

    list_display = [
        "__str__",
        "participant",
        "scenario",
        "status",
        "provider",
        "model",
        "offline",
        "created_at",
        "submitted_at",
    ]
    list_select_related = ["scenario"]
    list_filter = ["status", "scenario__study", "scenario", "provider", "offline", "created_at"]
    search_fields = ["participant__id", "messages__content"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "participant_link",
        "scenario",
        "status",
        "provider",
        "model",
        "offline",
        "prompt_versions",
        "last_error",
        "created_at",
        "updated_at",
        "submitted_at",
        "transcript",
    ]
    fieldsets = [
        (None, {"fields": ["participant_link", "scenario", "status", "created_at", "submitted_at"]}),
        ("Transcript", {"fields": ["transcript"]}),
        ("Interviewer", {"fields": ["provider", "model", "offline", "prompt_versions", "last_error", "updated_at"]}),
    ]
    # values/admin.py puts the interview's cards first (values points at interviews, not back)
    inlines = [DialogueGradeInline, ChatMessageInline]

    @admin.display(description="participant")
    def participant_link(self, obj):
        url = reverse("admin:studies_participant_change", args=[obj.participant_id])
        tag = " (simulated)" if obj.participant.simulated else ""
        return format_html('<a href="{}">participant {}</a>{}', url, str(obj.participant_id)[:8], tag)

    @admin.display(description="transcript")
    def transcript(self, obj):
        rows = [
            (m.role, m.created_at.strftime("%Y-%m-%d %H:%M:%S"), m.get_role_display(), _turn_html(m))
            for m in obj.messages.order_by("seq")
        ]
        if not rows:
            return "No messages."
        body = format_html_join("", '<tr class="turn-{}"><td>{}</td><td><strong>{}</strong></td><td>{}</td></tr>', rows)
        return format_html(
            '<table class="transcript"><thead><tr><th>time (UTC)</th><th>who</th><th>said</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            body,
        )


def _turn_html(message):
    # linebreaks escapes the text itself when asked to; mark_safe keeps format_html from escaping it twice.
    text = mark_safe(linebreaks(message.content, autoescape=True)) if message.content else ""
    calls = format_html_join(
        "", "<p><em>asks for tool <code>{}</code></em></p>", ((c.get("name", "?"),) for c in message.tool_calls or [])
    )
    return format_html("{}{}", text, calls)
