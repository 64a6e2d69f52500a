"""Helpers for the import tests: article files, command runs, annotations, offset checks."""

import csv
import io
import json
from pathlib import Path

from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from claims import importing
from claims.models import Annotation, Article, Sentence, VerificationStatus


def write(directory: Path, name: str, content: str | bytes) -> Path:
    """Write a file byte for byte (str is encoded as UTF-8, newlines untouched)."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def csv_text(rows: list[dict], columns=importing.COLUMNS) -> str:
    """A CSV file as text: header + rows, every field quoted where needed, CRLF line ends."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(columns))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def jsonl_text(objects: list[dict]) -> str:
    return "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects)


def run_import(*paths, **options) -> tuple[str, str]:
    """Run import_articles successfully; return (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_articles", *map(str, paths), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def run_import_failing(*paths, **options) -> tuple[CommandError, str, str]:
    """Run import_articles expecting CommandError; return (error, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_articles", *map(str, paths), stdout=out, stderr=err, **options)
    except CommandError as exc:
        return exc, out.getvalue(), err.getvalue()
    raise AssertionError(f"import_articles did not fail; stdout: {out.getvalue()!r}")


def assert_offsets_exact(article: Article) -> list[Sentence]:
    """Every sentence's text is exactly body[start:end], in order; returns the sentences."""
    sentences = list(article.sentences.order_by("position"))
    assert sentences, f"article #{article.pk} has no sentences"
    for sentence in sentences:
        assert article.body[sentence.start : sentence.end] == sentence.text
    assert [s.position for s in sentences] == list(range(len(sentences)))
    return sentences


def annotate(sentence: Sentence, annotator: User, **fields) -> Annotation:
    """A claim label (status "unverified") on a sentence."""
    values = {"is_claim": True, "status": VerificationStatus.objects.get(code="unverified")}
    values.update(fields)
    return Annotation.objects.create(sentence=sentence, annotator=annotator, **values)


def snapshot() -> tuple:
    """Everything an import can touch, to show that a refused import changed nothing."""
    return (
        list(Article.objects.order_by("pk").values()),
        list(Sentence.objects.order_by("pk").values()),
        list(Annotation.objects.order_by("pk").values()),
    )
