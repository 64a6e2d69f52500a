from django.urls import path

from claims import views

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
