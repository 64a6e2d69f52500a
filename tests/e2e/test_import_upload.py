"""Import in the app, in a real browser: the editor uploads a zip of .txt articles on the
import page, lands on the job's page (the test backend runs the job at once) and reaches the
per-file summary, then follows its link to the assign page with the new articles ticked."""

import io
import os
import zipfile

import pytest

from claims.models import Article, Job

if not os.environ.get("CI"):  # in CI a missing playwright must fail, not skip
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

ARTICLES = {
    "kharkiv.txt": "date 2024-03-01\n\nThe governor said power was restored in Kharkiv. "
    "Schools will reopen on Monday, officials said.\n",
    "odesa.txt": "Port officials said two ships left Odesa overnight. "
    "The grain corridor stays open, the ministry said.\n",
}


@pytest.fixture(autouse=True)
def _job_files(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "jobs": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "jobs")},
        },
    }


def zip_of(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_editor_uploads_a_zip_and_reaches_the_summary(browser_page, log_in):
    page = browser_page
    log_in("editor")
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import articles")).to_be_visible()

    page.locator("input[name=files]").set_input_files(
        [{"name": "week.zip", "mimeType": "application/zip", "buffer": zip_of(ARTICLES)}]
    )
    page.get_by_label("Outlet").fill("Kyiv Independent")
    page.get_by_role("button", name="Import").click()

    job = Job.objects.get()
    page.wait_for_url(f"**/jobs/{job.pk}/")
    status = page.locator("#job-status")
    expect(status).to_contain_text("Done")
    summary = page.locator("table.import-summary")
    expect(summary.locator("tbody tr")).to_have_count(1)
    expect(summary).to_contain_text("week.zip")
    expect(page.locator(".import-totals")).to_contain_text("2 created")
    new = list(Article.objects.filter(outlet="Kyiv Independent").order_by("pk"))
    assert len(new) == 2

    page.get_by_role("link", name="Assign the 2 new or updated articles").click()
    expect(page.get_by_role("heading", name="Assign articles")).to_be_visible()
    for article in new:
        expect(page.locator(f"input[name=articles][value='{article.pk}']")).to_be_checked()
    demo = Article.objects.exclude(pk__in=[a.pk for a in new]).get()
    expect(page.locator(f"input[name=articles][value='{demo.pk}']")).not_to_be_checked()
