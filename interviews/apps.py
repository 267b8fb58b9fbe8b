from django.apps import AppConfig


class InterviewsConfig(AppConfig):
    name = "interviews"
    verbose_name = "Values interviews"

    def ready(self):
        # Registration needs the app registry ready, so these imports wait for it.
        from interviews import offline, participant_data
        from interviews.services import transcript
        from studies import arm_settings

        offline.register()
        participant_data.register()
        arm_settings.register_check("interviewer_prompt_version", transcript.check_interviewer_version)
