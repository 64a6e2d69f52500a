"""In a real browser: hostile article text stays inert for every role, the Content Security
Policy is on and the pages still work under it, and a researcher's CSV matches the database."""

import csv
import io

from django.contrib.auth.models import User
from playwright.sync_api import expect

from claims import services
from claims.importing import ArticleRecord
from claims.models import Annotation, Article, Sentence

PAYLOAD = (
    "<script>alert('xss')</script> <img src=x onerror=\"alert('img')\"> "
    '"><svg onload=alert("svg")>'
)


def hostile_article() -> Article:
    body = f"Officials said {PAYLOAD} at dawn. The ministry said it would respond."
    article, _ = services.article_upsert(record=ArticleRecord(body=body, title=f"T {PAYLOAD}"))
    annotator = User.objects.get(username="annotator1")
    services.assignments_create(articles=[article], annotators=[annotator], overlap=1)
    return article


def test_hostile_article_is_inert_for_every_role(browser_page, log_in):
    page = browser_page
    article = hostile_article()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sentence = article.sentences.annotatable().first()
    visits = {
        "annotator1": [f"/articles/{article.pk}/annotate/", f"/articles/{article.pk}/"],
        "editor": [f"/articles/{article.pk}/", "/?q=T", "/assign/"],
        "researcher": [f"/articles/{article.pk}/", "/export/"],
        "admin": [f"/admin/claims/article/{article.pk}/change/", "/admin/claims/article/"],
    }
    services.annotation_save(
        sentence=sentence,
        annotator=User.objects.get(username="annotator1"),
        label={"is_claim": False, "note": PAYLOAD},
        expected_version=0,
    )
    for username, urls in visits.items():
        page.context.clear_cookies()
        log_in(username)
        for url in urls:
            response = page.goto(url)
            assert response.status == 200, url
            csp = response.headers["content-security-policy"]
            assert "script-src 'self'" in csp
            expect(page.locator("body")).to_contain_text("alert")  # shown as text
            assert page.locator("svg[onload], img[onerror]").count() == 0, url
    assert dialogs == []


def test_annotate_page_works_under_the_policy(browser_page, log_in):
    """htmx and the keyboard module run with no CSP violation (the fixture fails on any)."""
    page = browser_page
    log_in("annotator1")
    article = Article.objects.get(title__startswith="Russia has vowed")
    page.goto(f"/articles/{article.pk}/annotate/")
    page.wait_for_load_state("load")
    page.keyboard.press("n")
    page.keyboard.press("Enter")
    expect(page.locator("#progress")).to_contain_text("1 of")
    assert Annotation.objects.filter(annotator__username="annotator1").count() == 1


def test_researcher_downloads_a_csv_that_matches_the_database(browser_page, log_in):
    page = browser_page
    log_in("researcher")
    page.goto("/export/")
    # The bare page counts in its own request on load: all annotatable sentences (gold level).
    gold_rows = Sentence.objects.annotatable().count()
    expect(page.locator("#row-count")).to_contain_text(f"{gold_rows} rows with these filters")
    page.get_by_label("All annotations: one row per claim of each annotator's label").check()
    expect(page.locator("#row-count")).to_contain_text(str(Annotation.objects.count()))
    with page.expect_download() as info:
        page.get_by_role("button", name="CSV (spreadsheets)").click()
    data = open(info.value.path(), encoding="utf-8").read()  # noqa: SIM115
    rows = list(csv.DictReader(io.StringIO(data)))
    assert len(rows) == Annotation.objects.count()
    by_key = {(int(r["sentence_id"]), r["annotator"]): r for r in rows}
    assert len(by_key) == len(rows)
    for annotation in Annotation.objects.select_related("sentence", "status", "source"):
        matching = [r for (sid, _), r in by_key.items() if sid == annotation.sentence_id]
        assert any(
            r["is_claim"] == ("true" if annotation.is_claim else "false")
            and r["status"] == (annotation.status.code if annotation.status else "")
            and r["source"] == (annotation.source.name if annotation.source else "")
            for r in matching
        ), annotation
    assert "annotator2" not in data and "annotator3" not in data
