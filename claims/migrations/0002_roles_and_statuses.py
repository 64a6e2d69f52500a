"""Create the role groups and the default verification statuses."""

from django.db import migrations

ROLES = ["annotator", "editor", "researcher"]

# Frozen copy of the defaults as of this migration; edit live values in the admin.
STATUSES = [
    {
        "code": "verified",
        "label": "Verified",
        "order": 10,
        "key": "1",
        "colour": "#1a7f37",
        "guideline": (
            "Independently confirmed: the article or another reliable source corroborates the "
            "claim (footage verified, confirmed by both sides or by an independent body)."
        ),
    },
    {
        "code": "unverified",
        "label": "Unverified",
        "order": 20,
        "key": "2",
        "colour": "#9a6700",
        "guideline": (
            "Claimed, not independently confirmed, e.g. \"it has not been possible to verify "
            "the claims\". The usual status of a party's statement that the article does not check."
        ),
    },
    {
        "code": "disputed",
        "label": "Disputed",
        "order": 30,
        "key": "3",
        "colour": "#8250df",
        "guideline": (
            "Denied or contested by another party, e.g. \"these accusations are unsubstantiated\"."
        ),
    },
    {
        "code": "false",
        "label": "False",
        "order": 40,
        "key": "4",
        "colour": "#cf222e",
        "guideline": "Shown to be false by evidence that the article or the annotator cites.",
    },
]


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    VerificationStatus = apps.get_model("claims", "VerificationStatus")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    for status in STATUSES:
        VerificationStatus.objects.get_or_create(code=status["code"], defaults=status)


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("claims", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create, remove)]
