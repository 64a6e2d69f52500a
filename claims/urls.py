from django.urls import path

from claims import views

app_name = "claims"
urlpatterns = [
    path("", views.home, name="home"),
    path("articles/<int:article_id>/", views.article_detail, name="article_detail"),
]
