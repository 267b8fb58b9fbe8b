from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from procrastinate.contrib.django.admin import ProcrastinateJobAdmin
from procrastinate.contrib.django.models import ProcrastinateJob

from mgeplatform import services
from mgeplatform.models import DomainEvent, LLMCall


class ReadOnlyAdminMixin:
    """Records that are written by services only: viewable, never edited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DomainEvent)
class DomainEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "study_slug", "actor", "subject_type", "subject_id"]
    list_filter = ["kind", "study_slug", "created_at"]
    search_fields = ["kind", "subject_id", "actor_participant", "actor_user__email"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in DomainEvent._meta.fields] + ["actor"]


PRE = "white-space: pre-wrap; margin: 0"  # long prompts wrap instead of widening the page
# LLMCall keeps a study's id, not a foreign key; the studies app says what
# each id is called (studies/apps.py), as the platform does not import it.
_study_names: Callable[..., dict] = lambda ids=None: {}  # noqa: E731 - replaced by the studies app


def register_study_names(names) -> None:
    """`names(ids=None)` -> {study id: slug}, for those ids or (None) every study."""
    global _study_names
    _study_names = names


class StudyFilter(admin.SimpleListFilter):
    title = "study"
    parameter_name = "study_id"

    def lookups(self, request, model_admin):
        return sorted(_study_names().items(), key=lambda item: item[1])

    def queryset(self, request, queryset):
        return queryset.filter(study_id=self.value()) if self.value() else queryset


ROLE_NAMES = {
    "user": "user (participant or task)",
    "assistant": "assistant (model)",
    "tool": "tool result",
    "input": "text embedded",
    "note": "note",
}


@admin.register(LLMCall)
class LLMCallAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """One call: which prompt, which model, what was sent, what came back."""

    list_display = [
        "created_at",
        "purpose",
        "study_link",
        "participant",
        "provider",
        "model",
        "prompt_name",
        "prompt_version",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "latency_ms",
        "estimated_cost_usd",
        "ok",
    ]
    list_filter = ["ok", "purpose", "provider", "model", "prompt_name", StudyFilter, "created_at"]
    search_fields = ["participant", "prompt_hash", "error", "response_text"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in LLMCall._meta.fields] + [
        "study_link",
        "participant_link",
        "sent_system",
        "sent_messages",
        "answer",
    ]
    fieldsets = [
        (None, {"fields": ["created_at", "purpose", "study_link", "participant_link", "ok", "error"]}),
        ("Prompt and model", {"fields": ["prompt_name", "prompt_version", "prompt_hash", "provider", "model"]}),
        ("Sent to the model", {"fields": ["sent_system", "sent_messages"]}),
        ("Answer", {"fields": ["answer", "response_tool_calls", "stop_reason"]}),
        (
            "Cost and timing",
            {
                "fields": [
                    "input_tokens",
                    "cached_input_tokens",
                    "cache_write_input_tokens",
                    "output_tokens",
                    "usage_estimated",
                    "latency_ms",
                    "attempts",
                    "estimated_cost_usd",
                ]
            },
        ),
    ]
    change_list_template = "admin/mgeplatform/llmcall/change_list.html"

    @admin.display(description="study")
    def study_link(self, obj):
        if obj.study_id is None:
            return "–"
        name = _study_names([obj.study_id]).get(obj.study_id)
        if name is None:
            return f"study {obj.study_id} (deleted)"
        return format_html('<a href="{}">{}</a>', reverse("admin:studies_study_change", args=[obj.study_id]), name)

    @admin.display(description="participant")
    def participant_link(self, obj):
        if not obj.participant:
            return "–"
        # By URL name only: the platform does not import the studies app.
        url = reverse("admin:studies_participant_change", args=[obj.participant])
        return format_html('<a href="{}">participant {}</a>', url, str(obj.participant)[:8])

    @admin.display(description="system prompt")
    def sent_system(self, obj):
        if not obj.request_system:
            return "– (not recorded: calls made before requests were kept, or none sent)"
        return format_html('<pre style="{}">{}</pre>', PRE, obj.request_system)

    @admin.display(description="messages")
    def sent_messages(self, obj):
        if not obj.request_messages:
            return "–"
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td><pre style="{}">{}</pre>{}</td></tr>',
            (
                (i, ROLE_NAMES.get(m.get("role"), m.get("role")), PRE, m.get("content", ""), _tool_calls_html(m))
                for i, m in enumerate(obj.request_messages, start=1)
            ),
        )
        return format_html(
            '<table class="llm-messages"><thead><tr><th>#</th><th>role</th><th>content</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="answer")
    def answer(self, obj):
        return format_html('<pre style="{}">{}</pre>', PRE, obj.response_text) if obj.response_text else "–"

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        try:
            queryset = response.context_data["cl"].queryset
        except (AttributeError, KeyError):
            return response  # a redirect or an error page
        response.context_data["totals"] = llm_totals(queryset)
        return response


def llm_totals(queryset) -> dict:
    """Totals for the filtered calls, overall, per study and per participant."""
    fields = dict(
        calls=Count("id"),
        input_tokens=Sum("input_tokens"),
        cached_input_tokens=Sum("cached_input_tokens"),
        output_tokens=Sum("output_tokens"),
        cost=Sum("estimated_cost_usd"),
    )
    return {
        "overall": queryset.aggregate(**fields),
        "by_study": _named(list(queryset.values("study_id").annotate(**fields).order_by("-calls")[:20])),
        "by_participant": list(
            queryset.exclude(participant=None).values("participant").annotate(**fields).order_by("-input_tokens")[:20]
        ),
    }


def _named(rows: list[dict]) -> list[dict]:
    names = _study_names({row["study_id"] for row in rows if row["study_id"] is not None})
    return [{**row, "study": names.get(row["study_id"], row["study_id"])} for row in rows]


def _tool_calls_html(message: dict):
    calls = message.get("tool_calls") or []
    parts = format_html_join(
        "", "<li>calls <code>{}</code> with <code>{}</code></li>", ((c.get("name"), c.get("arguments")) for c in calls)
    )
    if message.get("tool_call_id"):
        parts += format_html("<li>answers tool call <code>{}</code></li>", message["tool_call_id"])
    return format_html("<ul>{}</ul>", parts) if parts else ""


class JobAdmin(ProcrastinateJobAdmin):
    """procrastinate's job admin, with its actions behind the change permission
    on jobs (coordinators have it, auditors only view) and recorded with the
    actor. The job rows themselves stay read-only."""

    actions = ["retry", "cancel", "abort"]

    def has_manage_permission(self, request):
        return request.user.has_perm("procrastinate.change_procrastinatejob")

    def _act(self, request, queryset, action, verb):
        done = services.act_on_jobs(action=action, job_ids=queryset.values_list("pk", flat=True), user=request.user)
        left = queryset.count() - len(done)
        self.message_user(
            request,
            f"{verb} {len(done)} job(s)" + (f"; {left} were in another state." if left else "."),
            messages.SUCCESS if done else messages.WARNING,
        )

    @admin.action(description="Retry job (failed or running jobs)", permissions=["manage"])
    def retry(self, request, queryset):
        self._act(request, queryset, "retry", "Retried")

    @admin.action(description="Cancel job (only jobs not started yet)", permissions=["manage"])
    def cancel(self, request, queryset):
        self._act(request, queryset, "cancel", "Cancelled")

    @admin.action(description="Abort job (waiting or running jobs)", permissions=["manage"])
    def abort(self, request, queryset):
        self._act(request, queryset, "abort", "Aborted")


# procrastinate registers its own admin (its app comes first in INSTALLED_APPS); ours replaces it.
if admin.site.is_registered(ProcrastinateJob):
    admin.site.unregister(ProcrastinateJob)
admin.site.register(ProcrastinateJob, JobAdmin)
