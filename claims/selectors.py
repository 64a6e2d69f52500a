"""Reads: queries that pages need, kept out of the views."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from claims.models import Article, Sentence


def article_list(*, search: str = "") -> QuerySet[Article]:
    articles = Article.objects.annotate(
        sentence_total=Count("sentences", filter=Q(sentences__kind=Sentence.Kind.SENTENCE)),
        credit_total=Count("sentences", filter=Q(sentences__kind=Sentence.Kind.CREDIT)),
    ).only("id", "title", "published_on", "outlet", "url")
    if search:
        articles = articles.filter(Q(title__icontains=search) | Q(outlet__icontains=search))
    return articles.order_by("-published_on", "-id")


@dataclass(frozen=True)
class Paragraph:
    sentences: list[Sentence]


def article_paragraphs(*, article: Article) -> list[Paragraph]:
    """The article's sentences grouped by the paragraph breaks of its body."""
    paragraphs: list[Paragraph] = []
    previous_end = None
    for sentence in article.sentences.order_by("position"):
        gap = article.body[previous_end : sentence.start] if previous_end is not None else "\n"
        if "\n" in gap:
            paragraphs.append(Paragraph(sentences=[]))
        paragraphs[-1].sentences.append(sentence)
        previous_end = sentence.end
    return paragraphs
