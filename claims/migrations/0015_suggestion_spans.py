"""Suggestions with spans: a sentence's suggested source mention and content beside its cue
(offsets into the sentence text: both ends or neither, ordered, inside the text; the cue's
constraint now says so too), the new source suggested for a speaker the taxonomy lacks, the
suggestion's new source on each annotation (to measure acceptance), and the article's
language. Existing rows keep blank / NULL values until `refresh_suggestions`.

SQLite adds these columns by rebuilding claims_article, claims_sentence and claims_annotation,
and refuses to rename a rebuilt table while the claim-span triggers of 0013 name it: they are
dropped before the rebuild and created again after it (PostgreSQL alters in place and keeps its
trigger).
"""

from importlib import import_module

import django.db.models.expressions
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
        ('claims', '0014_sentence_kind_dateline'),
    ]

    operations = [
        migrations.RunPython(sqlite_triggers_drop, sqlite_triggers_create, elidable=False),
        migrations.RemoveConstraint(
            model_name='sentence',
            name='sentence_cue_span_valid',
        ),
        migrations.AddField(
            model_name='annotation',
            name='suggested_new_source_name',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='article',
            name='language',
            field=models.CharField(blank=True, choices=[('en', 'English'), ('ru', 'Russian'), ('uk', 'Ukrainian')], max_length=2),
        ),
        migrations.AddField(
            model_name='historicalarticle',
            name='language',
            field=models.CharField(blank=True, choices=[('en', 'English'), ('ru', 'Russian'), ('uk', 'Ukrainian')], max_length=2),
        ),
        migrations.AddField(
            model_name='sentence',
            name='content_end',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='sentence',
            name='content_start',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='sentence',
            name='mention_end',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='sentence',
            name='mention_start',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='sentence',
            name='suggested_new_source_kind',
            field=models.CharField(blank=True, choices=[('government', 'Ministry / government'), ('military', 'Military'), ('emergency', 'Emergency service'), ('head_of_state', 'Head of state or office'), ('unnamed_officials', 'Unnamed officials'), ('media', 'Media or news agency'), ('social_media', 'Social media'), ('international', 'International organisation or NGO'), ('individual', 'Individual'), ('unknown', 'Unknown')], max_length=32),
        ),
        migrations.AddField(
            model_name='sentence',
            name='suggested_new_source_name',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='sentence',
            name='suggested_new_source_side',
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddConstraint(
            model_name='article',
            constraint=models.CheckConstraint(condition=models.Q(('language__in', ['', 'en', 'ru', 'uk'])), name='article_language_valid'),
        ),
        migrations.AddConstraint(
            model_name='sentence',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('cue_end__isnull', True), ('cue_start__isnull', True)), models.Q(('cue_end__gt', models.F('cue_start')), ('cue_end__isnull', False), ('cue_end__lte', django.db.models.expressions.CombinedExpression(models.F('end'), '-', models.F('start'))), ('cue_start__isnull', False)), _connector='OR'), name='sentence_cue_span_valid'),
        ),
        migrations.AddConstraint(
            model_name='sentence',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('mention_end__isnull', True), ('mention_start__isnull', True)), models.Q(('mention_end__gt', models.F('mention_start')), ('mention_end__isnull', False), ('mention_end__lte', django.db.models.expressions.CombinedExpression(models.F('end'), '-', models.F('start'))), ('mention_start__isnull', False)), _connector='OR'), name='sentence_mention_span_valid'),
        ),
        migrations.AddConstraint(
            model_name='sentence',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('content_end__isnull', True), ('content_start__isnull', True)), models.Q(('content_end__gt', models.F('content_start')), ('content_end__isnull', False), ('content_end__lte', django.db.models.expressions.CombinedExpression(models.F('end'), '-', models.F('start'))), ('content_start__isnull', False)), _connector='OR'), name='sentence_content_span_valid'),
        ),
        migrations.AddConstraint(
            model_name='sentence',
            constraint=models.CheckConstraint(condition=models.Q(('suggested_new_source_kind__in', ['', 'government', 'military', 'emergency', 'head_of_state', 'unnamed_officials', 'media', 'social_media', 'international', 'individual', 'unknown'])), name='sentence_new_source_kind_valid'),
        ),
        migrations.RunPython(sqlite_triggers_create, sqlite_triggers_drop, elidable=False),
    ]
