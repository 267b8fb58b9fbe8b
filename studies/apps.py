from django.apps import AppConfig


class StudiesConfig(AppConfig):
    """The base layer: studies, scenarios, consent, participants and the step
    table. It imports no feature app; features register with it."""

    name = "studies"
    verbose_name = "Studies and participants"

    def ready(self):
        # Registration needs the app registry ready, so the import waits for it.
        from django.db.models.signals import post_delete

        from mgeplatform import admin as platform_admin
        from mgeplatform.models import LLMCall
        from studies import participant_data
        from studies.models import Study

        participant_data.register()

        def names(ids=None):
            studies = Study.objects.all() if ids is None else Study.objects.filter(pk__in=ids)
            return dict(studies.values_list("pk", "slug"))

        platform_admin.register_study_names(names)

        # LLMCall.study_id is no foreign key: a deleted study's calls lose its id, as SET_NULL did.
        def forget_calls(sender, instance, **kwargs):
            LLMCall.objects.filter(study_id=instance.pk).update(study_id=None)

        post_delete.connect(forget_calls, sender=Study, weak=False, dispatch_uid="studies.forget_llm_calls")
