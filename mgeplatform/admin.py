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
