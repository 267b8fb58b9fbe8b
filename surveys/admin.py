from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from mgeplatform.admin import ReadOnlyAdminMixin
from studies.models import Study
from surveys import selectors, services
from surveys.models import FollowUpLink, ItemBank, SurveyItem, SurveyResponse


class SurveyItemInline(admin.TabularInline):
    model = SurveyItem
    extra = 0
    fields = ["order", "when", "key", "kind", "text", "expected_answer"]

    # A published bank is frozen (a database trigger enforces it too).
    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not (obj and obj.published)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.published)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.published)


@admin.register(ItemBank)
class ItemBankAdmin(admin.ModelAdmin):
    """Versioned survey questions. Adding a bank makes a draft copy of the
    newest version (or of the paper's questions); edit it, then publish."""

    list_display = ["study", "version", "published", "item_count", "note", "created_at", "published_at"]
    list_filter = ["study", "published"]
    inlines = [SurveyItemInline]
    actions = ["new_version_from_bank", "publish"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["study", "note"]
        return ["study", "version", "published", "published_at", "note", "attention_failures_to_flag", "results"]

    def get_readonly_fields(self, request, obj=None):
        return ["study", "version", "published", "published_at", "results"] if obj else []

    # A published bank is frozen: viewable, never edited (a trigger enforces it).
    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.published)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.published)

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        bank = services.new_version(obj.study, user=request.user, note=obj.note)
        obj.pk, obj.version = bank.pk, bank.version  # the admin goes on to the new draft

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("study").annotate(n_items=Count("items"))

    @admin.display(description="items", ordering="n_items")
    def item_count(self, obj):
        return obj.n_items

    @admin.display(description="Results (Table 3, real participants)")
    def results(self, obj):
        rows = selectors.legitimacy_table(obj.study, bank=obj)
        if not rows:
            return "No answers yet."

        def pct(v):
            return "–" if v is None else f"{v}%"

        head = format_html(
            "<tr><th>item</th><th>n</th>{}<th>agree (3+)</th><th>agree (4+)</th></tr>",
            format_html_join("", "<th>{}</th>", ((p,) for p in range(1, 6))),
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td>{}<td>{}</td><td>{}</td></tr>",
            (
                (
                    r["key"],
                    r["n"],
                    format_html_join("", "<td>{}</td>", ((pct(r["distribution"][p]),) for p in range(1, 6))),
                    pct(r["agree_3_or_more"]),
                    pct(r["agree_4_or_more"]),
                )
                for r in rows
            ),
        )
        fair = selectors.fairness_table(obj.study, bank=obj)
        return format_html(
            "<table>{}{}</table><p>Fair position (Table 4): n = {}, yes {}, no {}</p>",
            head,
            body,
            fair["n"],
            pct(fair["yes_percent"]),
            pct(fair["no_percent"]),
        )

    @admin.action(description="New version from this bank (a draft copy to edit)", permissions=["add"])
    def new_version_from_bank(self, request, queryset):
        for bank in queryset.order_by("study", "version"):
            draft = services.new_version(bank.study, source=bank, user=request.user)
            self.message_user(request, f"Made draft {draft} from v{bank.version}.", messages.SUCCESS)

    @admin.action(description="Publish (freeze and ask from now on)", permissions=["change"])
    def publish(self, request, queryset):
        for bank in queryset:
            try:
                services.publish_bank(bank, user=request.user)
                self.message_user(request, f"Published {bank.study.slug} v{bank.version}.", messages.SUCCESS)
            except services.BankError as err:
                self.message_user(request, f"{bank}: {err}", messages.ERROR)


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["updated_at", "participant", "item_key", "bank_version", "kind", "answer", "attention_ok"]
    list_filter = [
        "item__bank__study",
        "item__when",
        "item__kind",
        "item__key",
        "item__bank__version",
        "participant__simulated",
    ]
    search_fields = ["participant__id", "item__key"]
    date_hierarchy = "created_at"
    readonly_fields = ["participant", "item", "answer", "shown", "created_at", "updated_at"]
    list_select_related = ["item__bank"]

    @admin.display(description="item", ordering="item__key")
    def item_key(self, obj):
        return obj.item.key

    @admin.display(description="version", ordering="item__bank__version")
    def bank_version(self, obj):
        return obj.item.bank.version

    @admin.display(description="kind")
    def kind(self, obj):
        return obj.item.get_kind_display()

    @admin.display(description="attention check passed", boolean=True)
    def attention_ok(self, obj):
        return obj.correct


class LinkStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("not_opened", "Not opened"),
            ("opened", "Opened, not completed"),
            ("completed", "Completed"),
            ("expired", "Expired without completing"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        live = queryset.filter(completed_at__isnull=True, expires_at__gt=now)
        return {
            "not_opened": live.filter(first_opened_at__isnull=True),
            "opened": live.filter(first_opened_at__isnull=False),
            "completed": queryset.filter(completed_at__isnull=False),
            "expired": queryset.filter(completed_at__isnull=True, expires_at__lte=now),
        }.get(self.value(), queryset)


class IssueLinksForm(forms.Form):
    study = forms.ModelChoiceField(queryset=Study.objects.order_by("title"))
    days_valid = forms.IntegerField(min_value=1, max_value=365, initial=30, label="Days valid")


@admin.register(FollowUpLink)
class FollowUpLinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Links to the follow-up questions. "Issue links" makes one for every
    participant who completed; export selected links as CSV to message
    participants on Prolific (audited: the file holds Prolific ids)."""

    list_display = ["participant", "study", "status", "created_at", "expires_at", "first_opened_at", "completed_at"]
    list_filter = [LinkStatusFilter, "participant__study"]
    search_fields = ["participant__id"]
    readonly_fields = ["participant", "created_at", "expires_at", "first_opened_at", "completed_at"]
    exclude = ["token"]
    actions = ["export_csv"]
    change_list_template = "surveys/admin/followuplink_change_list.html"
    list_select_related = ["participant__study"]

    @admin.display(description="study", ordering="participant__study")
    def study(self, obj):
        return obj.participant.study.slug

    @admin.display(description="status")
    def status(self, obj):
        return selectors.link_status(obj)

    def has_export_permission(self, request):
        # Coordinators, not auditors: the export carries Prolific ids.
        return request.user.has_perm("surveys.change_followuplink") and request.user.has_perm(
            "studies.view_prolificidentity"
        )

    def has_issue_permission(self, request):
        return request.user.has_perm("surveys.add_followuplink")

    @admin.action(
        description="Download CSV for Prolific messages (participant, Prolific id, link, expiry)",
        permissions=["export"],
    )
    def export_csv(self, request, queryset):
        body = services.export_follow_up_links(queryset, user=request.user)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="follow-up-links-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        return response

    def get_urls(self):
        return [
            path("issue/", self.admin_site.admin_view(self.issue_view), name="surveys_followuplink_issue"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_issue": self.has_issue_permission(request)}
        return super().changelist_view(request, extra_context)

    def issue_view(self, request):
        if not self.has_issue_permission(request):
            return HttpResponse("You may not issue follow-up links.", status=403)
        form = IssueLinksForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            study = form.cleaned_data["study"]
            n = services.issue_follow_up_links(study, days_valid=form.cleaned_data["days_valid"], user=request.user)
            self.message_user(request, f"Issued {n} new follow-up links for {study.slug}.", messages.SUCCESS)
            return redirect(
                reverse("admin:surveys_followuplink_changelist") + f"?participant__study__id__exact={study.pk}"
            )
        return render(
            request,
            "surveys/admin/issue_links.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "title": "Issue follow-up links",
                "opts": self.model._meta,
            },
        )
