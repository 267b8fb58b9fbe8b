from django.db import migrations

GROUPS = ["Coordinators", "Auditors"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    """The staff roles. Their permissions are kept in sync after every
    migrate by mgeplatform.roles.sync_role_permissions."""

    dependencies = [("mgeplatform", "0002_vector_extension"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_groups, remove_groups)]
