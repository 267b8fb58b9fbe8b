"""The two staff roles and their permissions.

The groups themselves are created by a migration; this keeps their
permissions in step with the models after every `migrate`, so a model added
by a later issue is covered without another data migration.
"""

import pghistory.models
from django.contrib.auth.models import Group, Permission

COORDINATORS = "Coordinators"
AUDITORS = "Auditors"

# Apps whose data coordinators manage and auditors read.
RESEARCH_APPS = ["studies", "interviews", "values", "graph", "surveys", "alignment", "journey", "mgeplatform"]
# Read-only for everyone but superusers: the audit trail and the job queue.
READ_ONLY_APPS = ["pghistory", "procrastinate"]
# DomainEvent is append-only in the database too; nobody edits it in admin.
READ_ONLY_MODELS = {("mgeplatform", "domainevent")}
# Beyond viewing: coordinators may retry, cancel and abort jobs (the admin's
# job actions ask for this permission); the job rows stay read-only.
COORDINATOR_EXTRA_PERMS = {("procrastinate", "change_procrastinatejob")}


def _editable_by_coordinators(content_type) -> bool:
    if content_type.app_label not in RESEARCH_APPS:
        return False
    if (content_type.app_label, content_type.model) in READ_ONLY_MODELS:
        return False
    model = content_type.model_class()
    # pghistory's event tables are the audit trail: read-only for all roles.
    return model is not None and not issubclass(model, pghistory.models.Event)


def sync_role_permissions(sender=None, **kwargs):
    # get_or_create: a database flush (tests) removes rows the migration made.
    coordinators, _ = Group.objects.get_or_create(name=COORDINATORS)
    auditors, _ = Group.objects.get_or_create(name=AUDITORS)
    perms = Permission.objects.select_related("content_type").filter(
        content_type__app_label__in=RESEARCH_APPS + READ_ONLY_APPS
    )
    coordinator_perms, auditor_perms = [], []
    for perm in perms:
        if perm.codename.startswith("view_"):
            auditor_perms.append(perm)
            coordinator_perms.append(perm)
        elif (
            _editable_by_coordinators(perm.content_type)
            or (perm.content_type.app_label, perm.codename) in COORDINATOR_EXTRA_PERMS
        ):
            coordinator_perms.append(perm)
    coordinators.permissions.set(coordinator_perms)
    auditors.permissions.set(auditor_perms)
