from django.conf import settings
from django.db import migrations, models


def proposers_from_proposed_by(apps, schema_editor):
    """Every existing proposal keeps its proposer as the first of its proposers."""
    Source = apps.get_model("claims", "Source")
    Through = Source.proposers.through
    Through.objects.bulk_create(
        [
            Through(source_id=source_id, user_id=user_id)
            for source_id, user_id in Source.objects.exclude(proposed_by=None).values_list(
                "pk", "proposed_by"
            )
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0008_sendback_responses"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="source",
            name="proposers",
            field=models.ManyToManyField(
                blank=True, related_name="co_proposed_sources", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.RunPython(proposers_from_proposed_by, migrations.RunPython.noop),
    ]
