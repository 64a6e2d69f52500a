"""In a real browser: a user creates an API token on their settings page and the key works;
the interactive API documentation renders under the site's Content Security Policy."""

import re

from playwright.sync_api import expect


def test_token_from_the_settings_page_reads_the_api(browser_page, log_in):
    page = browser_page
    log_in("researcher")
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("notebook")
    page.get_by_role("button", name="Create token").click()
    key = page.locator("code.token-key").inner_text()
    assert re.fullmatch(r"cd_[\w-]{40,}", key)
    headers = {"Authorization": f"Bearer {key}"}
    response = page.request.get("/api/v1/gold-labels/", headers=headers)
    assert response.status == 200 and "results" in response.json()
    page.goto("/settings/tokens/")
    expect(page.get_by_role("cell", name="notebook")).to_be_visible()
    page.get_by_role("button", name="Revoke").click()
    assert page.request.get("/api/v1/gold-labels/", headers=headers).status == 401


def test_api_docs_render_under_the_csp(browser_page):
    page = browser_page
    response = page.goto("/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    expect(page.get_by_text("/api/v1/gold-labels/").first).to_be_visible()
