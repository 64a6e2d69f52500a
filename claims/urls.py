from django.urls import path, register_converter

from claims import (
    views,
    views_export,
    views_import,
    views_jobs,
    views_review,
    views_sources,
    views_tokens,
)


class IdConverter:
    """A database id: ASCII digits within a 64-bit integer. Larger numbers are no id (a 404),
    rather than an overflow error from the database driver."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number < 2**63:
            raise ValueError("not an id")
        return number

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")

app_name = "claims"
urlpatterns = [
    path("", views.home, name="home"),
    path("articles/<id:article_id>/", views.article_detail, name="article_detail"),
    path("articles/<id:article_id>/annotate/", views.annotate, name="annotate"),
    path("articles/<id:article_id>/undo/", views.undo, name="undo"),
    path(
        "articles/<id:article_id>/sentences/<id:sentence_id>/",
        views.sentence_edit,
        name="sentence_edit",
    ),
    path(
        "articles/<id:article_id>/sentences/<id:sentence_id>/save/",
        views.sentence_save,
        name="sentence_save",
    ),
    path(
        "articles/<id:article_id>/sentences/<id:sentence_id>/propose-source/",
        views.source_propose,
        name="source_propose",
    ),
    path("sources/search/", views.source_search, name="source_search"),
    path("assign/", views.assign, name="assign"),
]

urlpatterns += [
    path("review/", views_review.review_queue, name="review_queue"),
    path("review/bulk-accept/", views_review.review_bulk_accept, name="review_bulk_accept"),
    path("review/<id:sentence_id>/", views_review.review_detail, name="review_detail"),
    path("review/<id:sentence_id>/accept/", views_review.review_accept, name="review_accept"),
    path("review/<id:sentence_id>/correct/", views_review.review_correct, name="review_correct"),
    path(
        "review/<id:sentence_id>/send-back/",
        views_review.review_send_back,
        name="review_send_back",
    ),
    path("quality/", views_review.quality_dashboard, name="quality"),
]

urlpatterns += [
    path("sources/", views_sources.source_list, name="source_list"),
    path("sources/<id:source_id>/", views_sources.source_detail, name="source_detail"),
    path("sources/<id:source_id>/approve/", views_sources.source_approve, name="source_approve"),
    path("sources/<id:source_id>/merge/", views_sources.source_merge, name="source_merge"),
    path("sources/<id:source_id>/unmerge/", views_sources.source_unmerge, name="source_unmerge"),
]

urlpatterns += [
    path("export/", views_export.export_page, name="export"),
    path("export/download/", views_export.export_download, name="export_download"),
    path("export/job/", views_export.export_job_start, name="export_job"),
]

urlpatterns += [
    path("jobs/", views_jobs.job_list, name="job_list"),
    path("jobs/<id:job_id>/", views_jobs.job_detail, name="job_detail"),
    path("jobs/<id:job_id>/retry/", views_jobs.job_retry, name="job_retry"),
    path("jobs/<id:job_id>/download/", views_jobs.job_download, name="job_download"),
    path(
        "jobs/refresh-suggestions/",
        views_jobs.suggestions_refresh_start,
        name="suggestions_refresh_start",
    ),
]

urlpatterns += [
    path("import/", views_import.import_page, name="import_articles"),
    path("settings/tokens/", views_tokens.token_list, name="token_list"),
    path("settings/tokens/new/", views_tokens.token_create, name="token_create"),
    path("settings/tokens/<id:token_id>/revoke/", views_tokens.token_revoke, name="token_revoke"),
]
