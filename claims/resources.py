"""django-import-export resources: the admin's spreadsheet import/export of articles."""

import datetime

from django.core.exceptions import ValidationError
from import_export import resources

from claims import importing, services
from claims.models import Article


class ArticleResource(resources.ModelResource):
    """Admin import of articles (CSV, JSON, XLSX) through the same path as the command line.

    Rows are matched by external_id, else by identical body, so re-importing never duplicates;
    each saved row goes through `services.article_upsert`, which segments the article.
    """

    class Meta:
        model = Article
        fields = ("id", "title", "body", "published_on", "outlet", "url", "external_id")
        # A list: import-export compares with ["id"] to know the column is optional.
        import_id_fields = ["id"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def before_import(self, dataset, **kwargs):
        headers = {(h or "").strip() for h in dataset.headers or []}
        missing = [c for c in importing.REQUIRED_COLUMNS if c not in headers]
        if missing:
            raise ValidationError(
                f"missing column(s): {', '.join(missing)} "
                f"(columns: {', '.join(importing.COLUMNS)})"
            )
        seen: dict[str, int] = {}
        if "external_id" in headers:
            for number, value in enumerate(dataset["external_id"], start=1):
                key = str(value or "").strip()
                if key and key in seen:
                    raise ValidationError(
                        f"external_id {key!r} appears in rows {seen[key]} and {number}"
                    )
                seen[key] = number

    def get_instance(self, instance_loader, row):
        external_id = str(row.get("external_id") or "").strip()
        if external_id:
            article = Article.objects.filter(external_id=external_id).first()
            if article:
                return article
        body = row.get("body") or ""
        return Article.objects.filter(checksum=importing.body_checksum(str(body))).first()

    def import_instance(self, instance, row, **kwargs):
        try:
            super().import_instance(instance, row, **kwargs)
        finally:
            # Normalise even when a field failed, so only that field's error is reported.
            if isinstance(instance.published_on, datetime.datetime):  # XLSX date cells
                instance.published_on = instance.published_on.date()
            instance.external_id = (instance.external_id or "").strip() or None
            instance.checksum = importing.body_checksum(instance.body or "")
            if not (instance.title or "").strip() and (instance.body or "").strip():
                instance.title = importing.title_from_body(instance.body)

    def do_instance_save(self, instance, is_create):
        article, _ = services.article_upsert(record=record_from(instance))
        instance.pk = article.pk


def record_from(article: Article) -> importing.ArticleRecord:
    return importing.ArticleRecord(
        body=article.body,
        title=article.title,
        published_on=article.published_on,
        outlet=article.outlet,
        url=article.url,
        external_id=article.external_id,
    )
