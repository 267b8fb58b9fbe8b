"""LLMCall.study becomes a plain study id in the same column: the platform
layer keeps no foreign key to the studies app above it. The constraint goes
(its name was generated, so it is looked up); the column, its values and its
index stay."""

from django.db import migrations, models

DROP_CONSTRAINT = """
DO $$ DECLARE name text; BEGIN
  FOR name IN SELECT c.conname FROM pg_constraint c
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
      WHERE c.conrelid = 'mgeplatform_llmcall'::regclass AND c.contype = 'f' AND a.attname = 'study_id'
  LOOP EXECUTE format('ALTER TABLE mgeplatform_llmcall DROP CONSTRAINT %I', name); END LOOP;
END $$;
"""
# Back to a foreign key: ids of studies deleted meanwhile are cleared first, as SET_NULL would have.
ADD_CONSTRAINT = """
UPDATE mgeplatform_llmcall SET study_id = NULL
  WHERE study_id IS NOT NULL AND study_id NOT IN (SELECT id FROM interviews_study);
ALTER TABLE mgeplatform_llmcall ADD CONSTRAINT mgeplatform_llmcall_study_id_fk_interviews_study_id
  FOREIGN KEY (study_id) REFERENCES interviews_study (id) DEFERRABLE INITIALLY DEFERRED;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("mgeplatform", "0010_llmcall_content_of"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(DROP_CONSTRAINT, ADD_CONSTRAINT)],
            state_operations=[
                migrations.RemoveField(model_name="llmcall", name="study"),
                migrations.AddField(model_name="llmcall", name="study_id",
                                    field=models.BigIntegerField(blank=True, db_index=True, null=True)),
            ],
        ),
    ]
