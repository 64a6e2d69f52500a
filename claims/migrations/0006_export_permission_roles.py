"""Researchers and editors may export datasets; annotators never."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = ["researcher", "editor"]


def grant(apps, schema_editor):
    # Permissions are normally created after migrations; make sure this one exists now.
    config = apps.get_app_config("claims")
    config.models_module = True  # the migration state's app config has none
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(codename="export_dataset", content_type__app_label="claims")
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*group.permissions.filter(codename="export_dataset"))


class Migration(migrations.Migration):
    dependencies = [("claims", "0005_export_permission")]

    operations = [migrations.RunPython(grant, revoke)]
