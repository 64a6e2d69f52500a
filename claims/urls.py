from django.urls import path

from claims import views, views_export, views_review

app_name = "claims"
urlpatterns = [
    path("", views.home, name="home"),
    path("articles/<int:article_id>/", views.article_detail, name="article_detail"),
    path("articles/<int:article_id>/annotate/", views.annotate, name="annotate"),
    path("articles/<int:article_id>/undo/", views.undo, name="undo"),
    path(
        "articles/<int:article_id>/sentences/<int:sentence_id>/",
        views.sentence_edit,
        name="sentence_edit",
    ),
    path(
        "articles/<int:article_id>/sentences/<int:sentence_id>/save/",
        views.sentence_save,
        name="sentence_save",
    ),
    path(
        "articles/<int:article_id>/sentences/<int:sentence_id>/propose-source/",
        views.source_propose,
        name="source_propose",
    ),
    path("sources/search/", views.source_search, name="source_search"),
    path("assign/", views.assign, name="assign"),
]

urlpatterns += [
    path("review/", views_review.review_queue, name="review_queue"),
    path("review/bulk-accept/", views_review.review_bulk_accept, name="review_bulk_accept"),
    path("review/<int:sentence_id>/", views_review.review_detail, name="review_detail"),
    path("review/<int:sentence_id>/accept/", views_review.review_accept, name="review_accept"),
    path("review/<int:sentence_id>/correct/", views_review.review_correct, name="review_correct"),
    path(
        "review/<int:sentence_id>/send-back/",
        views_review.review_send_back,
        name="review_send_back",
    ),
    path("quality/", views_review.quality_dashboard, name="quality"),
]

urlpatterns += [
    path("export/", views_export.export_page, name="export"),
    path("export/download/", views_export.export_download, name="export_download"),
]
