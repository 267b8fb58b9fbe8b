from django.apps import AppConfig


class MGEPlatformConfig(AppConfig):
    name = "mgeplatform"
    verbose_name = "Platform (audit trail, roles)"

    def ready(self):
        from django.db.models.signals import post_migrate

        from mgeplatform import roles

        post_migrate.connect(roles.sync_role_permissions, dispatch_uid="mge-sync-roles")
