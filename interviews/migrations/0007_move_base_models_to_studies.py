"""The base layer's models (studies, consent, participants) now belong to the
studies app (see studies 0001). Their tables stay as they are; here the
triggers named after this app are dropped (studies 0001 installed them again
under the new names) and the models leave this app's state.
"""

import django.db.models.deletion
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('graph', '0002_alter_graphimport_study_alter_graphsnapshot_study_and_more'),
        ('interviews', '0006_journey_timing_withdrawal_ratings'),
        ('mgeplatform', '0005_alter_llmcall_study'),
        ('studies', '0001_initial'),
        ('surveys', '0002_alter_followuplink_participant_and_more'),
        ('values', '0008_alter_canonicalvalue_study_and_more'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(model_name='study', name='insert_insert'),
        pgtrigger.migrations.RemoveTrigger(model_name='study', name='update_update'),
        pgtrigger.migrations.RemoveTrigger(model_name='study', name='delete_delete'),
        pgtrigger.migrations.RemoveTrigger(model_name='consentrecordevent', name='append_only'),
        pgtrigger.migrations.RemoveTrigger(model_name='consentrecord', name='consent_record_append_only'),
        pgtrigger.migrations.RemoveTrigger(model_name='consentrecord', name='insert_insert'),
        pgtrigger.migrations.RemoveTrigger(model_name='scenarioevent', name='append_only'),
        pgtrigger.migrations.RemoveTrigger(model_name='scenario', name='insert_insert'),
        pgtrigger.migrations.RemoveTrigger(model_name='scenario', name='update_update'),
        pgtrigger.migrations.RemoveTrigger(model_name='scenario', name='delete_delete'),
        pgtrigger.migrations.RemoveTrigger(model_name='participantevent', name='append_only'),
        pgtrigger.migrations.RemoveTrigger(model_name='participant', name='insert_insert'),
        pgtrigger.migrations.RemoveTrigger(model_name='participant', name='update_update'),
        pgtrigger.migrations.RemoveTrigger(model_name='participant', name='delete_delete'),
        pgtrigger.migrations.RemoveTrigger(model_name='consentdocumentevent', name='append_only'),
        pgtrigger.migrations.RemoveTrigger(model_name='consentdocument', name='consent_text_immutable'),
        pgtrigger.migrations.RemoveTrigger(model_name='consentdocument', name='insert_insert'),
        pgtrigger.migrations.RemoveTrigger(model_name='consentdocument', name='update_update'),
        pgtrigger.migrations.RemoveTrigger(model_name='consentdocument', name='delete_delete'),
        pgtrigger.migrations.RemoveTrigger(model_name='studyevent', name='append_only'),
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.RemoveField(
                model_name='consentdocument',
                name='study',
            ),
            migrations.RemoveField(
                model_name='consentrecordevent',
                name='consent_document',
            ),
            migrations.RemoveField(
                model_name='consentrecord',
                name='consent_document',
            ),
            migrations.RemoveField(
                model_name='consentdocumentevent',
                name='pgh_obj',
            ),
            migrations.RemoveField(
                model_name='consentdocumentevent',
                name='pgh_context',
            ),
            migrations.RemoveField(
                model_name='consentdocumentevent',
                name='study',
            ),
            migrations.RemoveField(
                model_name='consentrecord',
                name='participant',
            ),
            migrations.RemoveField(
                model_name='consentrecordevent',
                name='pgh_obj',
            ),
            migrations.RemoveField(
                model_name='consentrecordevent',
                name='participant',
            ),
            migrations.RemoveField(
                model_name='consentrecordevent',
                name='pgh_context',
            ),
            migrations.RemoveField(
                model_name='participant',
                name='study',
            ),
            migrations.RemoveField(
                model_name='prolificdemographics',
                name='participant',
            ),
                migrations.AlterField(
                model_name='interview',
                name='participant',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='interviews', to='studies.participant'),
            ),
            migrations.RemoveField(
                model_name='participantevent',
                name='pgh_obj',
            ),
            migrations.AlterField(
                model_name='interviewevent',
                name='participant',
                field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='studies.participant'),
            ),
            migrations.RemoveField(
                model_name='prolificidentity',
                name='participant',
            ),
            migrations.RemoveField(
                model_name='steptiming',
                name='participant',
            ),
            migrations.RemoveField(
                model_name='participantevent',
                name='pgh_context',
            ),
            migrations.RemoveField(
                model_name='participantevent',
                name='study',
            ),
            migrations.RemoveField(
                model_name='prolificidentity',
                name='study',
            ),
            migrations.RemoveField(
                model_name='scenario',
                name='study',
            ),
            migrations.RemoveField(
                model_name='scenarioevent',
                name='pgh_obj',
            ),
            migrations.AlterField(
                model_name='interview',
                name='scenario',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='interviews', to='studies.scenario'),
            ),
            migrations.AlterField(
                model_name='interviewevent',
                name='scenario',
                field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='studies.scenario'),
            ),
            migrations.RemoveField(
                model_name='scenarioevent',
                name='pgh_context',
            ),
            migrations.RemoveField(
                model_name='scenarioevent',
                name='study',
            ),
            migrations.RemoveField(
                model_name='studystatistics',
                name='study',
            ),
            migrations.RemoveField(
                model_name='studyevent',
                name='pgh_obj',
            ),
            migrations.RemoveField(
                model_name='studyevent',
                name='pgh_context',
            ),
            migrations.DeleteModel(
                name='ConsentDocument',
            ),
            migrations.DeleteModel(
                name='ConsentDocumentEvent',
            ),
            migrations.DeleteModel(
                name='ConsentRecord',
            ),
            migrations.DeleteModel(
                name='ConsentRecordEvent',
            ),
            migrations.DeleteModel(
                name='ProlificDemographics',
            ),
            migrations.DeleteModel(
                name='Participant',
            ),
            migrations.DeleteModel(
                name='StepTiming',
            ),
            migrations.DeleteModel(
                name='ParticipantEvent',
            ),
            migrations.DeleteModel(
                name='ProlificIdentity',
            ),
            migrations.DeleteModel(
                name='Scenario',
            ),
            migrations.DeleteModel(
                name='ScenarioEvent',
            ),
            migrations.DeleteModel(
                name='StudyStatistics',
            ),
            migrations.DeleteModel(
                name='Study',
            ),
            migrations.DeleteModel(
                name='StudyEvent',
            ),
            ]),
    ]
