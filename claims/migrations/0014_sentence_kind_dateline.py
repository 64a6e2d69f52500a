"""Sentence kind "dateline": an agency dateline ("KYIV, August 11. /Ukrinform/."), shown but never
annotated. Rows already segmented keep their kinds; only new or re-imported bodies get datelines.

SQLite cannot change a check constraint in place, so Django rebuilds claims_sentence, and SQLite
refuses to rename the rebuilt table while the claim-span triggers of 0013 name it: they are dropped
before the rebuild and created again after it (PostgreSQL alters in place and keeps its trigger).
"""

from importlib import import_module

from django.db import migrations, models

spans = import_module("claims.migrations.0013_claim_spans_in_body")


def sqlite_triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in spans.SQLITE_REVERSE:
            schema_editor.execute(statement)


def sqlite_triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in spans.SQLITE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('claims', '0013_claim_spans_in_body'),
    ]

    operations = [
        migrations.RunPython(sqlite_triggers_drop, sqlite_triggers_create, elidable=False),
        migrations.RemoveConstraint(
            model_name='sentence',
            name='sentence_kind_valid',
        ),
        migrations.AlterField(
            model_name='sentence',
            name='kind',
            field=models.CharField(choices=[('sentence', 'Sentence'), ('credit', 'Credit / boilerplate'), ('dateline', 'Dateline')], default='sentence', max_length=16),
        ),
        migrations.AddConstraint(
            model_name='sentence',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['sentence', 'credit', 'dateline'])), name='sentence_kind_valid'),
        ),
        migrations.RunPython(sqlite_triggers_create, sqlite_triggers_drop, elidable=False),
    ]
