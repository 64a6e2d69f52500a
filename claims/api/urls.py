"""/api/v1/: the endpoints, the OpenAPI schema; /api/docs/: the interactive documentation."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from claims.api import views

app_name = "api"

router = SimpleRouter()
router.register("v1/articles", views.ArticleViewSet, basename="article")
router.register("v1/sources", views.SourceViewSet, basename="source")
router.register("v1/statuses", views.StatusViewSet, basename="status")
router.register("v1/assignments", views.AssignmentViewSet, basename="assignment")
router.register("v1/annotations", views.AnnotationViewSet, basename="annotation")
router.register("v1/gold-labels", views.GoldLabelViewSet, basename="gold-label")
router.register("v1/exports", views.ExportViewSet, basename="export")
router.register("v1/jobs", views.JobViewSet, basename="job")

urlpatterns = [
    *router.urls,
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The page loads Swagger UI from our own static files and its settings as a script of
    # its own (the "split" view), so that the site's Content Security Policy holds there too.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
