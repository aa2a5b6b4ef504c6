import json

import pytest

from rag.articles import load_articles
from rag.index import IndexStale, load_index, open_index

from .fakes import WordOverlapEmbedder


def _open(settings, embedder, messages=None, **kw):
    return open_index(settings.index_dir, load_articles(settings.seeds_dir), embedder, settings.chunk_size,
                      settings.chunk_overlap, notify=(messages.append if messages is not None else None), **kw)


def test_build_then_reuse_without_embedding_again(settings):
    emb = WordOverlapEmbedder()
    first = _open(settings, emb)
    assert first.manifest["count"] == len(first.chunks) > 10
    assert first.manifest["embedder"] == "fake-overlap" and first.manifest["dim"] == 256
    calls = len(emb.calls)
    again = _open(settings, emb)
    assert len(emb.calls) == calls            # loaded, not rebuilt
    assert [c.id for c in again.chunks] == [c.id for c in first.chunks]
    assert not any(p.name.endswith(".pkl") for p in settings.index_dir.rglob("*"))


def test_other_embedder_means_rebuild_with_a_reason(settings):
    _open(settings, WordOverlapEmbedder())
    messages = []
    index = _open(settings, WordOverlapEmbedder(dim=128, id="other-model"), messages)
    assert index.manifest["embedder"] == "other-model"
    assert "built with embedder 'fake-overlap'" in messages[0]


def test_changed_corpus_reembeds_only_what_changed(settings):
    emb = WordOverlapEmbedder()
    full = _open(settings, emb)
    new = settings.seeds_dir / "005_new.txt"
    new.write_text(" date 2025-01-02 Nowy artykuł o Pjongjangu i dronach.\n\nDrugi akapit.\n", encoding="utf-8")
    messages = []
    index = _open(settings, emb, messages)
    assert "added: 005_new" in messages[0]
    assert index.manifest["embedded"] == len([c for c in index.chunks if c.article_id == "005_new"])
    new.unlink()
    (settings.seeds_dir / "004_e860d32ecb6027ec.txt").unlink()
    messages.clear()
    index = _open(settings, emb, messages)
    assert "removed: 004_e860d32ecb6027ec, 005_new" in messages[0]
    assert index.manifest["embedded"] == 0
    assert not any(c.article_id.startswith(("004", "005")) for c in index.chunks)
    assert len(index.chunks) < len(full.chunks)


@pytest.mark.parametrize("damage", ["faiss", "chunks", "manifest", "pointer"])
def test_damaged_index_is_rebuilt_never_used(settings, damage):
    emb = WordOverlapEmbedder()
    index = _open(settings, emb)
    live = index.path
    target = {"faiss": live / "vectors.faiss", "chunks": live / "chunks.json",
              "manifest": live / "manifest.json", "pointer": settings.index_dir / "CURRENT"}[damage]
    target.write_bytes(target.read_bytes()[: len(target.read_bytes()) // 2])
    with pytest.raises(IndexStale):
        load_index(settings.index_dir)
    messages = []
    rebuilt = _open(settings, emb, messages)
    assert messages and len(rebuilt.chunks) == len(index.chunks)


@pytest.mark.parametrize("content, found", [
    (bytes(range(256)) * 4, "index pointer"),          # random bytes: not text
    (b"../../etc", "names no build folder"),
    (b"build-gone", "which is missing"),
])
def test_damaged_pointer_is_named_as_such(settings, content, found):
    emb = WordOverlapEmbedder()
    _open(settings, emb)
    (settings.index_dir / "CURRENT").write_bytes(content)
    with pytest.raises(IndexStale) as err:
        load_index(settings.index_dir)
    assert found in str(err.value) and "damaged" in str(err.value) or "missing" in str(err.value)
    assert "no index has been built yet" not in str(err.value)
    messages = []
    _open(settings, emb, messages)
    assert "index pointer" in messages[0]


def test_missing_index_says_so(settings):
    with pytest.raises(IndexStale, match="no index has been built yet"):
        load_index(settings.index_dir)


def test_build_killed_halfway_leaves_previous_index(settings, monkeypatch):
    emb = WordOverlapEmbedder()
    before = _open(settings, emb)
    (settings.seeds_dir / "005_new.txt").write_text("Nowy tekst o Korei.", encoding="utf-8")

    class Killed(Exception):
        pass

    def die(*a, **k):
        raise Killed

    monkeypatch.setattr("faiss.write_index", die)
    with pytest.raises(Killed):
        _open(settings, emb)
    monkeypatch.undo()
    still = load_index(settings.index_dir)
    assert still.manifest["corpus_hash"] == before.manifest["corpus_hash"]
    assert json.loads((still.path / "manifest.json").read_text())["count"] == len(before.chunks)


def test_index_type_change_rebuilds_without_embedding_again(settings):
    emb = WordOverlapEmbedder()
    flat = _open(settings, emb)
    assert flat.manifest["index_type"] == "flat"          # "auto" on a small corpus
    messages = []
    hnsw = open_index(settings.index_dir, load_articles(settings.seeds_dir), emb, settings.chunk_size,
                      settings.chunk_overlap, notify=messages.append, index_type="hnsw")
    assert "index_type_setting changed" in messages[0]
    assert hnsw.manifest["index_type"] == "hnsw" and hnsw.manifest["embedded"] == 0
    query = emb.embed_queries(["Tatarstan pracownicy drony"])
    assert hnsw.dense_search(query, 3)[0][0][0] == flat.dense_search(query, 3)[0][0][0]
