from django.contrib import admin

from mgeplatform.models import DomainEvent


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


from django.db.models import Count, Sum  # noqa: E402

from mgeplatform.models import LLMCall  # noqa: E402


@admin.register(LLMCall)
class LLMCallAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "purpose", "study", "participant", "provider", "model", "prompt_name",
                    "prompt_version", "input_tokens", "cached_input_tokens", "output_tokens", "latency_ms",
                    "estimated_cost_usd", "ok"]
    list_filter = ["ok", "purpose", "provider", "model", "prompt_name", "study", "created_at"]
    search_fields = ["participant", "prompt_hash", "error", "response_text"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in LLMCall._meta.fields]
    change_list_template = "admin/mgeplatform/llmcall/change_list.html"

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
    fields = dict(calls=Count("id"), input_tokens=Sum("input_tokens"), cached_input_tokens=Sum("cached_input_tokens"),
                  output_tokens=Sum("output_tokens"), cost=Sum("estimated_cost_usd"))
    return {
        "overall": queryset.aggregate(**fields),
        "by_study": list(queryset.values("study__slug").annotate(**fields).order_by("-calls")[:20]),
        "by_participant": list(queryset.exclude(participant=None).values("participant").annotate(**fields)
                               .order_by("-input_tokens")[:20]),
    }
