from django.apps import AppConfig


class MGEPlatformConfig(AppConfig):
    name = "mgeplatform"
    verbose_name = "Platform (audit trail, roles)"

    def ready(self):
        import pghistory.models
        from django.apps import apps
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from mgeplatform import auth, checks, dbroles, roles, triggers  # noqa: F401 - checks registers on import

        post_migrate.connect(roles.sync_role_permissions, dispatch_uid="mge-sync-roles")
        user_logged_in.connect(auth.shorten_staff_sessions, dispatch_uid="mge-staff-session-age")
        post_migrate.connect(dbroles.grant_app_privileges, dispatch_uid="mge-grant-app-role")
        # Every row-history table refuses TRUNCATE (its append_only trigger
        # only covers UPDATE and DELETE); tables tracked later get it too, in
        # their app's migrations.
        no_truncate = triggers.no_truncate()
        for model in apps.get_models():
            if (
                issubclass(model, pghistory.models.Event)
                and model._meta.managed
                and not model._meta.proxy
                and not any(t.name == "no_truncate" for t in getattr(model._meta, "triggers", []))
            ):
                no_truncate.register(model)
