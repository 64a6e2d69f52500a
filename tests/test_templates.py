"""Template hygiene that rendering tests would miss on pages they do not look at closely."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_no_comment_tag_spans_lines():
    """`{# … #}` ends at the line's end: a comment over two lines is printed on the page (it
    was, at the foot of every page). Longer notes use {% comment %}."""
    broken = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "{#" in line and "#}" not in line[line.index("{#") :]
    ]
    assert broken == []


def test_the_base_page_shows_no_template_syntax(client, django_user_model):
    html = client.get("/accounts/login/").content.decode()
    assert not re.search(r"\{[#%{]", html)
