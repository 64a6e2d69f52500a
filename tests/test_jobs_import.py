"""The import job (claims/jobs/imports.py): files of every format, zips, the job's defaults,
all or nothing per file with the place of the error, and a re-run that changes nothing."""

import datetime
import io
import json
import zipfile

import openpyxl
import pytest

from claims import importing, jobs, services
from claims.jobs import imports
from claims.models import Article, Job
from tests.factories import annotate, assert_offsets_exact, csv_text, jsonl_text, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _job_files(settings, tmp_path):
    """Each test's job files in a folder of its own: job ids start again at 1 in every test,
    and a file left by an earlier test's job 1 must not be read as this one's."""
    settings.STORAGES = {
        **settings.STORAGES,
        "jobs": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "jobs")},
        },
    }


BODY_A = "Officials said the bridge reopened on Monday. Traffic resumed later."
BODY_B = "The mayor said 3,000 people were evacuated. Shelling continued overnight."
BODY_C = "Rescuers said the search would go on. Two buildings were damaged."
TXT = "date 2024-02-24\n\nThe governor said the power was back. Schools stay closed.\n"


def start(user, files: dict[str, bytes], **params) -> Job:
    job = jobs.start(
        kind=Job.Kind.IMPORT,
        user=user,
        params={
            "files": list(files),
            "outlet": params.get("outlet", ""),
            "published_on": params.get("published_on"),
        },
        files=files,
    )
    job.refresh_from_db()
    return job


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def xlsx_of(rows: list[dict]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append([row[key] for key in rows[0]])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def file_row(job: Job, name: str) -> dict:
    return next(entry for entry in job.result["files"] if entry["name"] == name)


def test_every_format_imports_with_a_summary_per_file(editor):
    files = {
        "a.csv": csv_text([{"body": BODY_A, "title": "Bridge", "external_id": "x-1"}]).encode(),
        "b.jsonl": jsonl_text([{"body": BODY_B, "published_on": "2024-03-01"}]).encode(),
        "c.xlsx": xlsx_of([{"body": BODY_C, "published_on": datetime.date(2024, 3, 2)}]),
        "d.txt": TXT.encode(),
    }

    job = start(editor, files)

    assert job.state == Job.State.SUCCEEDED, job.error
    assert [(f["name"], f["created"], f["error"]) for f in job.result["files"]] == [
        ("a.csv", 1, ""),
        ("b.jsonl", 1, ""),
        ("c.xlsx", 1, ""),
        ("d.txt", 1, ""),
    ]
    assert job.result["totals"] == {"created": 4, "updated": 0, "unchanged": 0, "failed_files": 0}
    assert sorted(job.result["article_ids"]) == sorted(
        Article.objects.values_list("pk", flat=True)
    )
    assert Article.objects.get(external_id="x-1").title == "Bridge"
    assert Article.objects.get(body=BODY_C).published_on == datetime.date(2024, 3, 2)
    assert Article.objects.get(body=TXT).published_on == datetime.date(2024, 2, 24)
    for article in Article.objects.all():
        assert_offsets_exact(article)
    assert job.done == job.total == 1  # the last file's step, complete


def test_a_zip_of_txt_files_is_one_file_of_the_summary(editor):
    archive = zip_of(
        {
            "news/one.txt": f"date 2024-01-05\n\n{BODY_A}\n".encode(),
            "news/two.txt": BODY_B.encode(),
            "__MACOSX/news/._one.txt": b"\x00\x05binary",
            "news/.DS_Store": b"\x00",
        }
    )

    job = start(editor, {"articles.zip": archive})

    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.result["files"] == [
        {
            "name": "articles.zip",
            "created": 2,
            "updated": 0,
            "unchanged": 0,
            "error": "",
            "place": "",
        }
    ]
    assert Article.objects.count() == 2


def test_a_zip_of_csv_and_jsonl_files_imports_them_too(editor):
    archive = zip_of(
        {
            "a.csv": csv_text([{"body": BODY_A}]).encode(),
            "b.jsonl": jsonl_text([{"body": BODY_B}, {"body": BODY_C}]).encode(),
        }
    )

    job = start(editor, {"mixed.zip": archive})

    assert job.result["totals"]["created"] == 3


def test_defaults_fill_only_what_a_record_lacks(editor):
    rows = [
        {"body": BODY_A, "outlet": "Reuters", "published_on": "2024-01-01"},
        {"body": BODY_B, "outlet": "", "published_on": ""},
    ]
    files = {"a.csv": csv_text(rows).encode(), "b.txt": TXT.encode()}

    start(editor, files, outlet="Kyiv Independent", published_on="2024-05-06")

    a, b, txt = (Article.objects.get(body=body) for body in (BODY_A, BODY_B, TXT))
    assert (a.outlet, a.published_on) == ("Reuters", datetime.date(2024, 1, 1))
    assert (b.outlet, b.published_on) == ("Kyiv Independent", datetime.date(2024, 5, 6))
    assert (txt.outlet, txt.published_on) == ("Kyiv Independent", datetime.date(2024, 2, 24))


def test_a_file_with_a_bad_row_imports_nothing_and_names_the_place(editor):
    bad = csv_text(
        [
            {"body": BODY_A},
            {"body": BODY_B},
            {"body": BODY_C, "published_on": "24/02/2024"},
        ]
    ).encode()
    files = {"bad.csv": bad, "good.jsonl": jsonl_text([{"body": TXT}]).encode()}

    job = start(editor, files)

    assert job.state == Job.State.SUCCEEDED  # the good file imported
    failed = file_row(job, "bad.csv")
    assert failed["place"] == "bad.csv, row 3"
    assert "published_on '24/02/2024' is not a valid date" in failed["error"]
    assert failed["created"] == 0
    assert file_row(job, "good.jsonl")["created"] == 1
    assert list(Article.objects.values_list("body", flat=True)) == [TXT]
    assert job.result["totals"]["failed_files"] == 1


def test_a_bad_member_refuses_the_whole_zip_naming_it(editor):
    archive = zip_of({"a.txt": BODY_A.encode(), "b.txt": b"date 2024-13-45\n\nText here."})

    job = start(editor, {"batch.zip": archive})

    assert job.state == Job.State.FAILED
    assert file_row(job, "batch.zip")["place"] == "batch.zip/b.txt, line 1"
    assert "invalid date '2024-13-45'" in file_row(job, "batch.zip")["error"]
    assert Article.objects.count() == 0


def test_a_record_refused_by_the_database_rules_rolls_back_its_file(editor, annotator):
    services.articles_import(
        records=[imports.importing.ArticleRecord(body=BODY_A, external_id="x-1")]
    )
    annotate(Article.objects.get().sentences.filter(kind="sentence").first(), annotator)
    before = snapshot()
    rows = [{"body": BODY_B, "external_id": "new-1"}, {"body": BODY_C, "external_id": "x-1"}]

    job = start(editor, {"update.csv": csv_text(rows).encode()})

    failed = file_row(job, "update.csv")
    assert failed["place"] == "update.csv, row 2"
    assert "already has 1 annotation(s)" in failed["error"]
    assert snapshot() == before  # row 1 rolled back with row 2
    assert job.result["article_ids"] == []


def test_every_file_failing_fails_the_job_with_the_summary(editor):
    job = start(editor, {"empty.txt": b"   ", "bad.json": b"[]"})

    assert job.state == Job.State.FAILED
    assert "Nothing was imported" in job.error
    assert file_row(job, "empty.txt")["error"] == "file is empty"
    assert "unsupported file type '.json'" in file_row(job, "bad.json")["error"]


def test_running_the_job_again_reports_unchanged(editor):
    files = {
        "a.csv": csv_text([{"body": BODY_A, "external_id": "x-1"}]).encode(),
        "b.zip": zip_of({"b.txt": BODY_B.encode()}),
    }
    job = start(editor, files)
    before = snapshot()

    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED)  # as after a lost worker
    jobs.job_requeue(job)
    job.refresh_from_db()

    assert job.state == Job.State.SUCCEEDED
    assert job.result["totals"] == {"created": 0, "updated": 0, "unchanged": 2, "failed_files": 0}
    assert job.result["article_ids"] == []
    assert snapshot() == before


def test_a_changed_record_is_reported_updated_with_its_id(editor):
    start(editor, {"a.csv": csv_text([{"body": BODY_A, "external_id": "x-1"}]).encode()})
    rows = [{"body": BODY_A, "external_id": "x-1", "outlet": "AP"}]

    job = start(editor, {"a.csv": csv_text(rows).encode()})

    assert file_row(job, "a.csv")["updated"] == 1
    assert job.result["article_ids"] == [Article.objects.get().pk]


def test_progress_counts_the_articles_of_the_file(editor, monkeypatch):
    monkeypatch.setattr(services, "IMPORT_BATCH", 2)
    rows = [{"body": f"Officials said {n} houses were hit. Repairs began."} for n in range(5)]
    steps = []

    class Recorder:
        def step(self, text, *, total=None, done=0):
            steps.append((text, total))

        def advance(self, count=1):
            steps.append(("advance", count))

    job = Job.objects.create(
        kind=Job.Kind.IMPORT, started_by=editor, params={"files": [], "outlet": ""}
    )
    monkeypatch.setattr(imports, "job_files", lambda job: [("a.csv", csv_text(rows).encode())])

    imports.run(job, Recorder())

    assert steps == [
        ("Reading a.csv (file 1 of 1)", None),
        ("Importing a.csv (file 1 of 1)", 5),
        ("advance", 2),
        ("advance", 2),
        ("advance", 1),
    ]


def test_a_zip_that_unpacks_too_far_is_refused_before_unpacking(editor, settings):
    settings.CLAIMDESK_MAX_IMPORT_BYTES = 10_000
    archive = zip_of({"big.txt": b"Officials said so. " * 5000})  # 95,000 bytes unpacked

    job = start(editor, {"big.zip": archive})

    assert "unpacks to 95,000 bytes; the limit is 80,000 bytes" in job.error + json.dumps(
        job.result
    )
    assert Article.objects.count() == 0


def test_a_later_batch_failing_takes_back_the_articles_of_the_earlier_ones(editor, monkeypatch):
    monkeypatch.setattr(imports, "COMMIT_BATCH", 2)  # rows 1-2 commit, then row 3 fails
    rows = [
        {"body": BODY_A, "external_id": "a"},
        {"body": BODY_B, "external_id": "b"},
        {"body": BODY_A, "external_id": "c"},  # the text of row 1 under another id
    ]
    before = snapshot()

    job = start(editor, {"dup.csv": csv_text(rows).encode(), "ok.txt": TXT.encode()})

    failed = file_row(job, "dup.csv")
    assert failed["place"] == "dup.csv, row 3"
    assert "already imported as article" in failed["error"]
    assert list(Article.objects.values_list("body", flat=True)) == [TXT]
    assert job.result["article_ids"] == [Article.objects.get().pk]
    Article.objects.filter(body=TXT).delete()
    assert snapshot() == before


def test_a_file_of_new_articles_is_written_in_several_transactions(editor, monkeypatch):
    monkeypatch.setattr(imports, "COMMIT_BATCH", 2)
    calls = []
    original = services.articles_import

    def recording(**kwargs):
        calls.append(len(kwargs["records"]))
        return original(**kwargs)

    monkeypatch.setattr(services, "articles_import", recording)
    rows = [{"body": f"Officials said {n} houses were hit. Repairs began."} for n in range(5)]

    job = start(editor, {"new.csv": csv_text(rows).encode()})

    assert calls == [2, 2, 1]
    assert job.result["totals"]["created"] == 5
    calls.clear()

    start(editor, {"again.csv": csv_text(rows).encode()})  # a re-run: one transaction

    assert calls == [5]


def test_an_undo_never_deletes_an_article_another_import_made_meanwhile(editor, monkeypatch):
    """Two imports overlap: the other one creates article "c" between this file's batches;
    this file then updates it, and fails later. Its undo takes back only what it created."""
    monkeypatch.setattr(imports, "COMMIT_BATCH", 2)  # a, b | c, d | the failing row
    original = services.articles_import
    calls = []

    def with_another_import(**kwargs):
        outcomes = original(**kwargs)
        calls.append(1)
        if len(calls) == 1:  # after this file's first batch: the other job commits "c"
            original(records=[importing.ArticleRecord(body=BODY_C, external_id="c")])
        return outcomes

    monkeypatch.setattr(services, "articles_import", with_another_import)
    rows = [
        {"body": "Officials said the first road was cleared. Work went on.", "external_id": "a"},
        {"body": "Officials said the second road was cleared. Work went on.", "external_id": "b"},
        {"body": "Officials said a third text replaced it. Nothing else.", "external_id": "c"},
        {"body": "Officials said the fourth road was cleared. Work went on.", "external_id": "d"},
        {"body": "Officials said the first road was cleared. Work went on.", "external_id": "e"},
    ]

    job = start(editor, {"overlap.csv": csv_text(rows).encode()})

    assert file_row(job, "overlap.csv")["place"] == "overlap.csv, row 5"
    assert list(Article.objects.values_list("external_id", flat=True)) == ["c"]


def test_running_an_import_again_after_its_uploads_were_pruned_says_so(editor):
    job = start(editor, {"bad.csv": b"title,body\nx,\n"})
    assert job.state == Job.State.FAILED
    Job.objects.filter(pk=job.pk).update(
        finished_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    assert jobs.jobs_prune() == 1
    job = jobs.job_requeue(Job.objects.get(pk=job.pk))
    assert job.state == Job.State.FAILED
    assert job.error.startswith("The uploaded files of this job were removed")
