"""Pages: the article list and an article split into its sentences."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from claims import selectors
from claims.models import Article

PAGE_SIZE = 50


@require_GET
@login_required
def home(request):
    search = request.GET.get("q", "").strip()
    page = Paginator(selectors.article_list(search=search), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = "claims/home.html#article-list" if request.htmx else "claims/home.html"
    return render(request, template, {"page": page, "search": search})


@require_GET
@login_required
def article_detail(request, article_id: int):
    article = get_object_or_404(Article, pk=article_id)
    paragraphs = selectors.article_paragraphs(article=article)
    return render(
        request, "claims/article_detail.html", {"article": article, "paragraphs": paragraphs}
    )
