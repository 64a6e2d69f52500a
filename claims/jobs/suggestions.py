"""Recompute every article's suggestions (after the taxonomy changed), as a job."""

from claims import services
from claims.models import Article


def run(job, progress) -> dict:
    progress.step("Refreshing suggestions", total=Article.objects.count())
    count = services.suggestions_refresh(on_article=progress.advance)
    return {"articles": count}
