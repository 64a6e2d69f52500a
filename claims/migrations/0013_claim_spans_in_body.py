"""The database keeps every claim span inside its article's body (a trigger: a check constraint
cannot read another table). Offsets are characters (code points), as Python counts them;
LENGTH counts characters on both SQLite and PostgreSQL."""

from django.db import migrations

SQLITE_CHECK = """
SELECT RAISE(ABORT, 'claim span past the end of the article body')
WHERE MAX(NEW.content_end, COALESCE(NEW.cue_end, 0), COALESCE(NEW.mention_end, 0)) > (
    SELECT LENGTH(a.body) FROM claims_article a
    JOIN claims_sentence s ON s.article_id = a.id
    WHERE s.id = COALESCE(
        (SELECT sentence_id FROM claims_annotation WHERE id = NEW.annotation_id),
        (SELECT sentence_id FROM claims_goldlabel WHERE id = NEW.gold_id)));
"""

SQLITE = [
    f"CREATE TRIGGER claim_span_in_body_{when} BEFORE {when.upper()} ON claims_claim "
    f"BEGIN {SQLITE_CHECK} END;"
    for when in ("insert", "update")
]
SQLITE_REVERSE = [f"DROP TRIGGER claim_span_in_body_{when};" for when in ("insert", "update")]

POSTGRESQL = [
    """
CREATE FUNCTION claims_claim_span_in_body() RETURNS trigger AS $$
DECLARE
    body_length integer;
BEGIN
    SELECT length(a.body) INTO body_length
    FROM claims_article a JOIN claims_sentence s ON s.article_id = a.id
    WHERE s.id = COALESCE(
        (SELECT sentence_id FROM claims_annotation WHERE id = NEW.annotation_id),
        (SELECT sentence_id FROM claims_goldlabel WHERE id = NEW.gold_id));
    IF GREATEST(NEW.content_end, NEW.cue_end, NEW.mention_end) > body_length THEN
        RAISE EXCEPTION 'claim span past the end of the article body'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
""",
    "CREATE TRIGGER claim_span_in_body BEFORE INSERT OR UPDATE ON claims_claim "
    "FOR EACH ROW EXECUTE FUNCTION claims_claim_span_in_body();",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER claim_span_in_body ON claims_claim;",
    "DROP FUNCTION claims_claim_span_in_body();",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(vendor, []):
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("claims", "0012_claims_from_labels")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
