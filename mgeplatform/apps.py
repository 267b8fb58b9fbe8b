from django.apps import AppConfig


class MGEPlatformConfig(AppConfig):
    name = "mgeplatform"
    verbose_name = "Platform (audit trail, roles)"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from mgeplatform import auth, roles

        post_migrate.connect(roles.sync_role_permissions, dispatch_uid="mge-sync-roles")
        user_logged_in.connect(auth.shorten_staff_sessions, dispatch_uid="mge-staff-session-age")
