"""A job's page follows the work live: the progress bar moves and the result replaces it, with
no page reload (htmx polls the status partial)."""

from django.contrib.auth.models import User
from playwright.sync_api import expect

from claims.models import Job


def test_the_job_page_follows_a_running_job_to_its_result(browser_page, log_in):
    page = browser_page
    editor = User.objects.get(username="editor")
    job = Job.objects.create(
        kind=Job.Kind.REFRESH_SUGGESTIONS,
        started_by=editor,
        state=Job.State.RUNNING,
        step="Refreshing suggestions",
        done=1,
        total=4,
    )
    log_in("editor")
    page.goto(f"/jobs/{job.pk}/")
    page.evaluate("window.notReloaded = true")  # gone if the page were loaded again
    bar = page.locator("#job-status progress")
    expect(bar).to_have_attribute("value", "1")
    expect(page.locator("#job-status")).to_contain_text("1 of 4 (25 %)")

    Job.objects.filter(pk=job.pk).update(done=3)
    expect(bar).to_have_attribute("value", "3")
    expect(page.locator("#job-status")).to_contain_text("3 of 4 (75 %)")

    Job.objects.filter(pk=job.pk).update(state=Job.State.SUCCEEDED, done=4, result={"articles": 4})
    expect(page.locator("#job-status")).to_contain_text("Suggestions recomputed for 4 articles")
    expect(bar).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    page.wait_for_timeout(1500)  # finished: the page stops asking
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.wait_for_timeout(1500)
    assert not [url for url in requests if f"/jobs/{job.pk}/" in url]
