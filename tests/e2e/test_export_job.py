"""Issue 14, "Done when", the export part, in a real browser: a researcher exports all the
annotations, the selection is past the (lowered) threshold, so the button starts a job; the job
page shows the outcome and a link, and the file from the link holds every row."""

import csv
import os
import re

import pytest

from claims import selectors
from claims.models import Job

if not os.environ.get("CI"):  # in CI a missing playwright must fail, not skip
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_a_researcher_exports_all_annotations_as_a_job(browser_page, log_in, settings):
    settings.CLAIMDESK_EXPORT_JOB_ROWS = 1
    rows = selectors.export_count(filters=selectors.ExportFilters(level="annotations"))
    assert rows > 1
    page = browser_page
    log_in("researcher")

    page.goto("/export/")
    page.get_by_label(re.compile("All annotations")).check()
    count = page.locator("#row-count")
    expect(count).to_contain_text(f"{rows} rows with these filters")
    expect(count).to_contain_text("this export runs in the background")
    page.get_by_role("button", name="CSV (spreadsheets) (in the background)").click()

    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    job = Job.objects.get()
    assert job.kind == Job.Kind.EXPORT and job.started_by.username == "researcher"
    expect(page.locator("body")).to_contain_text(f"{rows} rows exported.")
    link = page.get_by_role("link", name=re.compile(r"Download claimdesk-annotations-.*\.csv"))
    with page.expect_download() as download:
        link.click()
    path = download.value.path()
    with open(path, encoding="utf-8", newline="") as handle:
        read = list(csv.DictReader(handle))
    assert len(read) == rows
    assert download.value.suggested_filename == Job.objects.get().file_name
    assert {row["annotator"][:2] for row in read} == {"a-"}  # pseudonyms, as streamed
