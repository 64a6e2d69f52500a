"""The taxonomy in a spreadsheet: admin export and re-import of sources and statuses, and the
export-only admin downloads of annotations and gold labels (django-import-export 4.4).

The export page posts `format` (an index into the admin's export formats), `resource` and one
`<resource>_<field>` checkbox per column; it answers with the file. The import page posts
`import_file` and `format` and answers with a dry-run preview whose confirm form posts to
`process_import`, which writes.
"""

import csv
import io
from html.parser import HTMLParser

import openpyxl
import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, reverse

from claims import dataset, services
from claims.models import Annotation, GoldLabel, Source, SourceAlias, VerificationStatus
from tests.conftest import make_user
from tests.factories_export import build_dataset, make_raw_article, whole_sentence

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _upload_folder(settings, tmp_path):
    """Uploads waiting for a confirm that a test never sends stay in the test's folder."""
    settings.CLAIMDESK_IMPORT_TMP_DIR = str(tmp_path / "imports")


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def taxonomy(db):
    mod = services.source_upsert(
        name="Russian Ministry of Defence",
        kind="government",
        side="Russia",
        description="The Russian MoD.",
        aliases=["Russian MoD", "Russia's Defence Ministry"],
    )
    army = services.source_upsert(
        name="Armed Forces of Ukraine", kind="military", side="Ukraine", aliases=["ZSU"]
    )
    witness = services.source_upsert(name="Local witness", kind="individual")
    return {"mod": mod, "army": army, "witness": witness}


# --- driving the admin -----------------------------------------------------------------------


def admin_url(model, view: str) -> str:
    return reverse(f"admin:claims_{model._meta.model_name}_{view}")


def format_index(model, title: str, *, kind: str = "export") -> str:
    model_admin = admin.site._registry[model]
    formats = getattr(model_admin, f"get_{kind}_formats")()
    return str([fmt().get_title() for fmt in formats].index(title))


def export(client, model, fmt: str = "csv"):
    """Post the admin export form with every column ticked; returns the response."""
    url = admin_url(model, "export")
    form = client.get(url).context["form"]
    data = {"format": format_index(model, fmt), "resource": "0"}
    data |= {name: "on" for name in form.fields if name not in ("format", "resource")}
    data.pop("export_items", None)
    response = client.post(url, data)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    return response


def export_rows(client, model) -> list[dict]:
    response = export(client, model)
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))


def csv_upload(rows: list[dict], name: str = "taxonomy.csv") -> SimpleUploadedFile:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8"), content_type="text/csv")


class HiddenInputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append((attrs.get("action") or "", {}))
        elif tag == "input" and attrs.get("type") == "hidden" and self.forms:
            self.forms[-1][1][attrs["name"]] = attrs.get("value") or ""


def confirm_form(response, model) -> dict | None:
    parser = HiddenInputs()
    parser.feed(response.content.decode())
    for action, fields in parser.forms:
        if action == admin_url(model, "process_import"):
            fields.pop("csrfmiddlewaretoken", None)
            return fields
    return None


def preview(client, model, rows: list[dict]):
    response = client.post(
        admin_url(model, "import"),
        {
            "import_file": csv_upload(rows),
            "format": format_index(model, "csv", kind="import"),
            "resource": "0",
        },
    )
    assert response.status_code == 200
    return response


def confirm(client, model, preview_response):
    fields = confirm_form(preview_response, model)
    assert fields is not None, "the preview has no confirm form"
    response = client.post(admin_url(model, "process_import"), fields, follow=True)
    assert response.redirect_chain == [(admin_url(model, "changelist"), 302)]
    return response


def totals(response) -> dict:
    return {k: v for k, v in response.context["result"].totals.items() if v}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def taxonomy_snapshot() -> tuple:
    return (
        list(Source.objects.order_by("pk").values()),
        list(SourceAlias.objects.order_by("pk").values()),
    )


def aliases_of(source: Source) -> set[str]:
    return set(SourceAlias.objects.filter(source=source).values_list("alias", flat=True))


# --- sources -------------------------------------------------------------------------------


def test_source_export_lists_every_source_with_its_aliases_in_one_cell(staff_client, taxonomy):
    rows = export_rows(staff_client, Source)

    assert list(rows[0]) == ["name", "kind", "side", "status", "description", "aliases"]
    by_name = {r["name"]: r for r in rows}
    assert sorted(by_name) == sorted(Source.objects.values_list("name", flat=True))
    mod = by_name["Russian Ministry of Defence"]
    assert (mod["kind"], mod["side"], mod["status"], mod["description"]) == (
        "government",
        "Russia",
        "active",
        "The Russian MoD.",
    )
    assert set(mod["aliases"].split("; ")) == {"Russian MoD", "Russia's Defence Ministry"}
    assert by_name["Armed Forces of Ukraine"]["aliases"] == "ZSU"
    assert by_name["Local witness"]["aliases"] == ""


def test_source_round_trip_updates_descriptions_and_adds_aliases(staff_client, taxonomy):
    rows = {r["name"]: r for r in export_rows(staff_client, Source)}
    rows["Russian Ministry of Defence"] |= {
        "description": "Ministry of Defence of the Russian Federation.",
        "aliases": "Minoborony",  # the old aliases left out of the cell: they are kept
    }
    rows["Armed Forces of Ukraine"]["aliases"] += "; Ukrainian Armed Forces"
    untouched = Source.objects.filter(name="Local witness").values().get()

    response = preview(staff_client, Source, list(rows.values()))
    assert not response.context["result"].has_errors()
    assert not response.context["result"].has_validation_errors()
    assert totals(response) == {"update": 3}
    assert aliases_of(taxonomy["army"]) == {"ZSU"}  # a dry run
    response = confirm(staff_client, Source, response)

    assert any(m.startswith("Import finished") for m in messages_of(response))
    mod = Source.objects.get(name="Russian Ministry of Defence")
    assert mod.description == "Ministry of Defence of the Russian Federation."
    assert (mod.kind, mod.side, mod.status) == ("government", "Russia", "active")
    assert aliases_of(mod) == {"Russian MoD", "Russia's Defence Ministry", "Minoborony"}
    assert aliases_of(taxonomy["army"]) == {"ZSU", "Ukrainian Armed Forces"}
    witness = Source.objects.filter(name="Local witness").values().get()
    assert {**witness, "updated_at": None} == {**untouched, "updated_at": None}
    assert Source.objects.count() == 3


def test_source_round_trip_adds_a_new_source_with_aliases(staff_client, taxonomy):
    rows = {r["name"]: r for r in export_rows(staff_client, Source)}
    rows["Russian Ministry of Defence"]["description"] = "Edited."
    new = {
        "name": "State Emergency Service of Ukraine",
        "kind": "emergency",
        "side": "Ukraine",
        "status": "active",
        "description": "Rescuers.",
        "aliases": "SESU; DSNS",
    }

    response = preview(staff_client, Source, [*rows.values(), new])
    assert not response.context["result"].has_errors()
    assert totals(response) == {"update": 3, "new": 1}
    assert not Source.objects.filter(name=new["name"]).exists()  # a dry run
    confirm(staff_client, Source, response)

    created = Source.objects.get(name="State Emergency Service of Ukraine")
    assert (created.kind, created.side, created.description, created.status) == (
        "emergency",
        "Ukraine",
        "Rescuers.",
        "active",
    )
    assert aliases_of(created) == {"SESU", "DSNS"}
    assert Source.objects.get(name="Russian Ministry of Defence").description == "Edited."
    assert Source.objects.count() == 4


def test_reimporting_an_unchanged_export_changes_nothing(staff_client, taxonomy):
    rows = export_rows(staff_client, Source)
    before = taxonomy_snapshot()

    response = preview(staff_client, Source, rows)
    confirm(staff_client, Source, response)

    sources, aliases = taxonomy_snapshot()
    strip = lambda values: [{**v, "updated_at": None} for v in values]  # noqa: E731
    assert strip(sources) == strip(before[0])
    assert aliases == before[1]


@pytest.mark.parametrize("alias", ["Russian MoD", "russian mod"], ids=["same case", "other case"])
def test_an_alias_of_another_source_is_an_error_and_nothing_is_imported(
    staff_client, taxonomy, alias
):
    rows = {r["name"]: r for r in export_rows(staff_client, Source)}
    rows["Local witness"]["description"] = "Changed in the same file."
    rows["Armed Forces of Ukraine"]["aliases"] += f"; {alias}"
    before = taxonomy_snapshot()

    response = preview(staff_client, Source, list(rows.values()))

    result = response.context["result"]
    assert result.has_errors() or result.has_validation_errors()
    assert confirm_form(response, Source) is None
    assert "already names source" in response.content.decode()
    assert taxonomy_snapshot() == before


def test_a_new_source_with_a_taken_alias_is_refused(staff_client, taxonomy):
    new = {
        "name": "Kremlin",
        "kind": "head_of_state",
        "side": "Russia",
        "status": "active",
        "description": "",
        "aliases": "Russian MoD",
    }
    before = taxonomy_snapshot()

    response = preview(staff_client, Source, [new])

    assert confirm_form(response, Source) is None
    assert "already names source" in response.content.decode()
    assert taxonomy_snapshot() == before
    assert not Source.objects.filter(name="Kremlin").exists()


def test_a_row_refused_at_confirm_time_imports_nothing(staff_client, taxonomy):
    rows = {r["name"]: r for r in export_rows(staff_client, Source)}
    rows["Local witness"]["description"] = "Changed in the same file."
    rows["Armed Forces of Ukraine"]["aliases"] += "; The Ukrainian army"
    response = preview(staff_client, Source, list(rows.values()))
    assert confirm_form(response, Source) is not None
    # Meanwhile someone gives that alias to another source.
    SourceAlias.objects.create(source=taxonomy["mod"], alias="The Ukrainian army")
    before = taxonomy_snapshot()

    staff_client.post(
        admin_url(Source, "process_import"), confirm_form(response, Source), follow=True
    )

    assert taxonomy_snapshot() == before


def test_formula_safe_export_round_trips_without_change(staff_client, taxonomy):
    ministry = services.source_upsert(
        name="Ministry of Defence of Ukraine",
        kind="government",
        side="Ukraine",
        description="-official statements, daily",
        aliases=["@DefenceU"],
    )
    rows = export_rows(staff_client, Source)
    row = next(r for r in rows if r["name"] == "Ministry of Defence of Ukraine")
    assert (row["description"], row["aliases"]) == ("'-official statements, daily", "'@DefenceU")
    before = taxonomy_snapshot()

    confirm(staff_client, Source, preview(staff_client, Source, rows))

    ministry.refresh_from_db()
    assert ministry.description == "-official statements, daily"
    assert aliases_of(ministry) == {"@DefenceU"}
    assert SourceAlias.objects.count() == len(before[1])


def test_source_import_needs_staff(client, taxonomy):
    client.force_login(make_user("plain", "researcher"))

    response = client.get(admin_url(Source, "import"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


# --- verification statuses -------------------------------------------------------------------


def test_status_round_trip_updates_a_guideline(staff_client, db):
    rows = export_rows(staff_client, VerificationStatus)
    assert [r["code"] for r in rows] == ["verified", "unverified", "disputed", "false"]
    before = {s.code: s for s in VerificationStatus.objects.all()}
    row = next(r for r in rows if r["code"] == "unverified")
    row["guideline"] = 'Claimed, not confirmed; e.g. "could not be verified", Київ.'

    response = preview(staff_client, VerificationStatus, rows)
    assert totals(response) == {"update": 1, "skip": 3}
    confirm(staff_client, VerificationStatus, response)

    after = {s.code: s for s in VerificationStatus.objects.all()}
    assert after["unverified"].guideline == row["guideline"]
    assert (after["unverified"].label, after["unverified"].key) == ("Unverified", "2")
    for code in ("verified", "disputed", "false"):
        assert after[code].guideline == before[code].guideline
    assert VerificationStatus.objects.count() == 4


def test_status_round_trip_with_a_status_without_a_key(staff_client, db):
    VerificationStatus.objects.create(code="satire", label="Satire", order=50, key=None)
    rows = export_rows(staff_client, VerificationStatus)
    next(r for r in rows if r["code"] == "unverified")["guideline"] = "Edited."

    response = preview(staff_client, VerificationStatus, rows)
    assert not response.context["result"].has_validation_errors()
    confirm(staff_client, VerificationStatus, response)

    assert VerificationStatus.objects.get(code="unverified").guideline == "Edited."
    assert VerificationStatus.objects.get(code="satire").key is None


def test_a_new_status_can_be_imported(staff_client, db):
    rows = export_rows(staff_client, VerificationStatus)
    rows.append(
        {
            "code": "misleading",
            "label": "Misleading",
            "guideline": "True in part, framed to mislead.",
            "order": "45",
            "key": "5",
            "colour": "#0969da",
            "is_active": "1",
        }
    )

    response = preview(staff_client, VerificationStatus, rows)
    assert totals(response) == {"new": 1, "skip": 4}
    confirm(staff_client, VerificationStatus, response)

    status = VerificationStatus.objects.get(code="misleading")
    assert (status.label, status.key, status.order, status.is_active) == (
        "Misleading",
        "5",
        45,
        True,
    )


# --- annotations and gold labels: export only --------------------------------------------------


@pytest.fixture
def labelled(db):
    data = build_dataset()
    _, [sentence] = make_raw_article(
        texts=["Officials said the bridge fell."], title="Bridge", url="https://example.com/b"
    )
    annotation = services.annotation_save(
        sentence=sentence,
        annotator=data.annotators[0],
        label={
            "is_claim": True,
            "note": '=HYPERLINK("https://evil.example","x")',
            "claims": [whole_sentence(sentence, source=data.sources["army"])],
        },
        expected_version=0,
    )
    services.gold_label_accept(
        annotation=annotation, editor=data.editor, expected_version=0, comment="@editor: fine"
    )
    data.hostile_sentence = sentence
    return data


@pytest.mark.parametrize("model", [Annotation, GoldLabel])
def test_label_exports_show_pseudonyms_not_usernames(staff_client, labelled, model):
    response = export(staff_client, model)
    content = response.content.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(content, newline="")))
    p = dataset.pseudonymizer()

    column = "annotator" if model is Annotation else "reviewed_by"
    people = labelled.annotators if model is Annotation else [labelled.editor]
    assert len(rows) == model.objects.count()
    assert {r[column] for r in rows} == {p(user.pk) for user in people}
    for user in [*labelled.annotators, labelled.editor]:
        assert user.username not in content
    by_id = {int(r["id"]): r for r in rows}
    for obj in model.objects.all():
        user_id = obj.annotator_id if model is Annotation else obj.editor_id
        assert by_id[obj.pk][column] == p(user_id)


def test_admin_and_dataset_exports_use_the_same_pseudonyms(staff_client, labelled):
    admin_rows = list(
        csv.DictReader(io.StringIO(export(staff_client, Annotation).content.decode()))
    )
    sentence = labelled.sentences["A0"]

    names = {r["annotator"] for r in admin_rows if int(r["sentence"]) == sentence.pk}
    expected = {dataset.pseudonymizer()(user.pk) for user in labelled.annotators}
    assert names == expected


def test_formula_prefixed_note_and_comment_are_neutralised(staff_client, labelled):
    notes = list(csv.DictReader(io.StringIO(export(staff_client, Annotation).content.decode())))
    gold = list(csv.DictReader(io.StringIO(export(staff_client, GoldLabel).content.decode())))

    sentence_id = str(labelled.hostile_sentence.pk)
    [note] = [r for r in notes if r["sentence"] == sentence_id]
    [comment] = [r for r in gold if r["sentence"] == sentence_id]
    assert note["note"] == '\'=HYPERLINK("https://evil.example","x")'
    assert comment["comment"] == "'@editor: fine"
    for row in notes + gold:
        for value in row.values():
            assert not value or value[0] not in "=+-@\t\r\n"


def test_formula_prefixed_note_is_text_not_a_formula_in_xlsx(staff_client, labelled):
    response = export(staff_client, Annotation, "xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    notes = [row[header.index("note")] for row in sheet.iter_rows(min_row=2)]
    [hostile] = [cell for cell in notes if cell.value and "HYPERLINK" in cell.value]
    assert hostile.data_type == "s"
    assert hostile.value == '\'=HYPERLINK("https://evil.example","x")'


@pytest.mark.parametrize("model", [Annotation, GoldLabel])
def test_there_is_no_import_for_labels(staff_client, labelled, model):
    with pytest.raises(NoReverseMatch):
        admin_url(model, "import")
    with pytest.raises(NoReverseMatch):
        admin_url(model, "process_import")
    model_admin = admin.site._registry[model]
    assert not hasattr(model_admin, "import_action")
    before = list(model.objects.order_by("pk").values())

    changelist = staff_client.get(admin_url(model, "changelist"))
    url = f"/admin/claims/{model._meta.model_name}/import/"
    page = staff_client.get(url, follow=True)
    posted = staff_client.post(
        url,
        {"import_file": SimpleUploadedFile("x.csv", b"id,note\r\n1,changed\r\n"), "format": "0"},
        follow=True,
    )

    html = changelist.content.decode()
    assert changelist.status_code == 200
    assert f'href="{admin_url(model, "export")}' in html
    assert f'href="{url}' not in html and 'href="import/' not in html
    for response in (page, posted):
        assert response.status_code in (200, 403, 404)
        assert 'name="import_file"' not in response.content.decode()
    assert list(model.objects.order_by("pk").values()) == before


def test_label_exports_need_staff(client, labelled):
    client.force_login(labelled.editor)

    response = client.get(admin_url(Annotation, "export"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


# --- merging in the source change form -------------------------------------------------------


def change_source(client, source: Source, **changes):
    """Post the source's admin change form with its current values and `changes`."""
    data = {
        "name": source.name,
        "kind": source.kind,
        "side": source.side,
        "description": source.description,
        "status": source.status,
        "merged_into": source.merged_into_id or "",
        "aliases-TOTAL_FORMS": "0",
        "aliases-INITIAL_FORMS": "0",
        "aliases-MIN_NUM_FORMS": "0",
        "aliases-MAX_NUM_FORMS": "1000",
    }
    return client.post(reverse("admin:claims_source_change", args=[source.pk]), data | changes)


def test_merge_in_the_change_form_merges(staff_client, taxonomy):
    witness, army = taxonomy["witness"], taxonomy["army"]

    response = change_source(staff_client, witness, merged_into=army.pk)

    assert response.status_code == 302
    witness.refresh_from_db()
    assert witness.merged_into == army
    assert SourceAlias.objects.filter(source=army, alias="Local witness").exists()


def test_merge_into_itself_is_a_form_error(staff_client, taxonomy):
    witness = taxonomy["witness"]

    response = change_source(staff_client, witness, merged_into=witness.pk)

    assert response.status_code == 200
    assert "cannot be merged into itself" in response.content.decode()
    witness.refresh_from_db()
    assert witness.merged_into is None


def test_merge_into_a_merged_source_is_a_form_error(staff_client, taxonomy):
    witness, army, mod = taxonomy["witness"], taxonomy["army"], taxonomy["mod"]
    services.source_merge(source=army, into=mod)

    response = change_source(staff_client, witness, merged_into=army.pk)

    assert response.status_code == 200
    assert "was itself merged" in response.content.decode()
    witness.refresh_from_db()
    assert witness.merged_into is None


def test_clearing_merged_into_does_not_unmerge(staff_client, taxonomy):
    army, mod = taxonomy["army"], taxonomy["mod"]
    services.source_merge(source=army, into=mod)
    army.refresh_from_db()

    page = staff_client.get(reverse("admin:claims_source_change", args=[army.pk]))
    response = change_source(staff_client, army, merged_into="")

    assert 'name="merged_into"' not in page.content.decode()  # shown, not editable
    assert response.status_code in (200, 302)
    army.refresh_from_db()
    assert army.merged_into == mod
