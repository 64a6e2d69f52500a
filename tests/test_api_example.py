"""The Python example of docs/api.md runs against a live server: it downloads the gold
labels (and, with the import runner, imports a folder first)."""

import importlib.util
import re
import shutil
import types
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.storage import storages

from claims import tokens
from tests.factories_api import build_world

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def example_module(base: str, key: str) -> types.ModuleType:
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    code = code.replace('BASE = "http://127.0.0.1:8000"', f'BASE = "{base}"')
    code = code.replace('KEY = "cd_..."', f'KEY = "{key}"')
    module = types.ModuleType("api_example")
    exec(compile(code, "docs/api.md", "exec"), module.__dict__)
    return module


@pytest.fixture
def example(live_server, demo_article):
    cache.clear()
    # Job ids start again after other tests' rollbacks: an input file a rolled-back job left
    # under the same id would be read instead of this test's (storage.save renames the new one).
    shutil.rmtree(Path(storages["jobs"].location) / "jobs", ignore_errors=True)
    world = build_world(demo_article)
    _, key = tokens.token_create(user=world.editor, name="example")
    return example_module(live_server.url, key), world


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_example_downloads_every_gold_label(example, monkeypatch):
    module, world = example
    monkeypatch.setattr(module, "call", _small_pages(module.call))
    labels = list(module.gold_labels())
    assert sorted(label["id"] for label in labels) == sorted(g.pk for g in world.gold)


def _small_pages(call):
    """Pages of 2, so that the example follows `next`."""
    return lambda method, url, body=None: call(
        method, url.replace("page_size=1000", "page_size=2"), body
    )


def test_example_batches_a_folder(tmp_path):
    module = example_module("http://unused", "cd_unused")
    module.BATCH_BYTES = 100
    for n in range(5):
        (tmp_path / f"a{n}.txt").write_text("x" * 60 + f" article {n}.")
    (tmp_path / "notes.md").write_text("not an article")
    batches = list(module.import_folder(tmp_path))
    assert [len(b) for b in batches] == [1, 1, 1, 1, 1]
    assert [a["external_id"] for b in batches for a in b] == [f"a{n}" for n in range(5)]


@pytest.mark.skipif(
    importlib.util.find_spec("claims.jobs.imports") is None, reason="no import runner yet"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_example_imports_a_folder(example, tmp_path):
    from claims.models import Article

    module, _ = example
    (tmp_path / "ferry.txt").write_text("The harbour office said the ferry would resume.\n")
    [batch] = module.import_folder(tmp_path)
    job = module.wait(module.call("POST", "/api/v1/articles/", {"articles": batch}))
    assert job["result"]["totals"]["created"] == 1
    assert Article.objects.filter(external_id="ferry").exists()
