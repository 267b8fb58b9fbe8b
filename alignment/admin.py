from django import forms
from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from alignment import services
from alignment.models import AnswerAudit, AnswerAuditItem, PlaygroundConversation, PlaygroundTurn
from graph.models import GraphSnapshot
from mgeplatform.admin import ReadOnlyAdminMixin
from studies.models import Study


def _link(model_name: str, pk, label) -> str:
    if pk is None:
        return "–"
    url = reverse(f"admin:{model_name}_change", args=[pk])
    return format_html('<a href="{}">{}</a>', url, label)


class AuditForm(forms.Form):
    study = forms.ModelChoiceField(queryset=Study.objects.order_by("slug"))
    snapshot = forms.ModelChoiceField(queryset=GraphSnapshot.objects.select_related("study"), required=False,
                                      help_text="Blank: the study's latest moral graph.")
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 90}), max_length=20_000)
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 10, "cols": 90}), max_length=20_000)

    def clean(self):
        data = super().clean()
        if data.get("snapshot") and data.get("study") and data["snapshot"].study_id != data["study"].pk:
            self.add_error("snapshot", "This moral graph belongs to another study.")
        return data


class AnswerAuditItemInline(admin.TabularInline):
    model = AnswerAuditItem
    extra = 0
    can_delete = False
    fields = ["context", "position", "value_link", "context_score", "rank_interval", "adherence_text",
              "quotes_text", "call_link"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="value")
    def value_link(self, obj):
        return _link("values_canonicalvalue", obj.value_id, obj.value_title)

    @admin.display(description="95% rank interval")
    def rank_interval(self, obj):
        return "–" if obj.rank_low is None else f"{obj.rank_low}–{obj.rank_high}"

    @admin.display(description="adherence (0–10)")
    def adherence_text(self, obj):
        return f"judge failed: {obj.error}" if obj.judge_failed else obj.adherence

    @admin.display(description="what in the answer attends to each policy")
    def quotes_text(self, obj):
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li><b>{}</b>: {}</li>",
            ((q["policy"], f"“{q['quote']}”" if q.get("quote") else "nothing in the answer") for q in obj.quotes)))

    @admin.display(description="judge's call")
    def call_link(self, obj):
        return _link("mgeplatform_llmcall", obj.llm_call_id, f"LLM call {obj.llm_call_id}")


@admin.register(AnswerAudit)
class AnswerAuditAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Which of the moral graph's values an answer follows, per moral context
    of its prompt. Coordinators run audits here or with `audit_answers`."""

    list_display = ["created_at", "study", "prompt_start", "contexts_text", "outcome", "created_by"]
    list_filter = ["study"]
    search_fields = ["prompt", "answer"]
    change_list_template = "alignment/admin/answeraudit_change_list.html"
    fields = ["study", "snapshot", "created_at", "created_by", "prompt", "answer", "contexts_text",
              "context_reason", "context_error", "context_call_link", "outcome"]
    readonly_fields = fields
    inlines = [AnswerAuditItemInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("study", "created_by").prefetch_related("contexts")

    @admin.display(description="prompt")
    def prompt_start(self, obj):
        return obj.prompt[:80] + ("…" if len(obj.prompt) > 80 else "")

    @admin.display(description="contexts")
    def contexts_text(self, obj):
        if obj.context_error:
            return "could not be found"
        return "; ".join(c.text for c in obj.contexts.all()) or "none applies"

    @admin.display(description="contexts' call")
    def context_call_link(self, obj):
        return _link("mgeplatform_llmcall", obj.context_call_id, f"LLM call {obj.context_call_id}")

    @admin.display(description="follows the graph's winner?")
    def outcome(self, obj):
        if not obj.verdicts:
            return "–"
        return format_html_join("; ", "{}", ((self._verdict(v),) for v in obj.verdicts))

    @staticmethod
    def _verdict(v) -> str:
        if v["winner"] is None:
            return "the graph ranks no value here"
        if v["follows_best"] is None:
            return f"follows none (winner: {v['winner_title']})"
        if v["follows_winner"]:
            return f"yes: {v['winner_title']}"
        return f"no: follows {v['follows_best_title']} (winner: {v['winner_title']})"

    def has_run_permission(self, request):
        return request.user.has_perm("alignment.add_answeraudit")

    def get_urls(self):
        return [path("run/", self.admin_site.admin_view(self.run_view), name="alignment_answeraudit_run"),
                *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_run": self.has_run_permission(request)}
        return super().changelist_view(request, extra_context)

    def run_view(self, request):
        if not self.has_run_permission(request):
            return HttpResponse("You may not run audits.", status=403)
        form = AuditForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            audit = services.audit_answer(data["study"], data["prompt"], data["answer"], data["snapshot"],
                                          user=request.user)
            return redirect(reverse("admin:alignment_answeraudit_change", args=[audit.pk]))
        return render(request, "alignment/admin/run_audit.html", {
            **self.admin_site.each_context(request), "form": form, "title": "Audit an answer",
            "opts": self.model._meta,
        })


# --- the playground's conversations (read-only: written by alignment/playground.py) ---------

class PlaygroundTurnInline(admin.StackedInline):
    model = PlaygroundTurn
    extra = 0
    can_delete = False
    fields = ["position", "message", "contexts", "values", "reply_plain", "reply_constitution", "reply_graph",
              "context_call", "plain_call", "constitution_call", "graph_call"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PlaygroundConversation)
class PlaygroundConversationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Conversations of the wise-response playground, with every turn's three
    replies and their model calls. Written only by the playground's pages."""

    list_display = ["pk", "created_at", "study", "snapshot", "created_by", "turn_count", "page_link"]
    list_filter = ["study"]
    fields = ["study", "snapshot", "created_at", "created_by", "constitution", "page_link"]
    readonly_fields = fields
    inlines = [PlaygroundTurnInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("study", "created_by").prefetch_related("turns")

    @admin.display(description="turns")
    def turn_count(self, obj):
        return len(obj.turns.all())

    @admin.display(description="page")
    def page_link(self, obj):
        url = reverse("alignment:playground_conversation", args=[obj.study.slug, obj.pk])
        return format_html('<a href="{}">open in the playground</a>', url)
