"""The vector stores (rag/stores.py): FAISS and Milvus (Lite embedded, and a real gRPC server process)
rank the same chunks, filter before ranking, and stay in step with the local build."""
import json
import socket
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pytest

from rag.articles import load_articles
from rag.errors import BadInput, RagError
from rag.index import load_index, open_index
from rag.lexical import BM25
from rag.retrieve import HybridRetriever
from rag.stores import Filter, FaissStore, MilvusStore, passage_weights, query_weights

from .fakes import WordOverlapEmbedder

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

QUESTIONS = ["Ilu pracowników z Korei Północnej ma zatrudnić Rosja w Tatarstanie?",
             "Kto rozminowuje obwód kurski?",
             "Co powiedział rzecznik Pentagonu o rekrutach z Korei?",
             "Kim Dzong Un wsparcie dla Rosji"]
PENTAGON = "003_2a17d32c4422d886"            # dated 2024-10
TATARSTAN, KURSK = "001_345fe1ab6c1f8ba1", "004_e860d32ecb6027ec"      # both 2025-11-14
UNDATED = {"000_43e3bd47b9888b39", "002_1398484bcac3d60a"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory):
    """A standalone Milvus Lite gRPC server process on a free port; stopped at the end."""
    port = _free_port()
    data = tmp_path_factory.mktemp("milvus-server") / "data.db"
    proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the Milvus Lite server did not start: {proc.stderr.read().decode()[-500:]}")
            time.sleep(0.2)
    yield f"milvus:http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(params=["lite", "server"])
def milvus_spec(request, tmp_path):
    if request.param == "lite":
        return f"milvus:{tmp_path}/m.db"
    spec = request.getfixturevalue("milvus_server")
    client = MilvusStore(spec.removeprefix("milvus:")).client       # each test starts from an empty server
    for name in client.list_collections():
        client.drop_collection(name)
    return spec


def _open(settings, store, embedder=None, messages=None, **kw):
    return open_index(settings.index_dir, load_articles(settings.seeds_dir), embedder or WordOverlapEmbedder(),
                      settings.chunk_size, settings.chunk_overlap, store=store,
                      notify=messages.append if messages is not None else None, **kw)


def _rows(index) -> list[dict]:
    """Every row of the index's Milvus collection (id, article_id)."""
    store = index.store
    return store.client.query(store.name_for(index.manifest), filter="", output_fields=["article_id"], limit=16384)


def _top(index, question, k=5, where=None):
    r = HybridRetriever(index, WordOverlapEmbedder()).retrieve(question, k, "pl", where=where)
    return [p.chunk.id for p in r.passages]


# -- pure helpers -----------------------------------------------------------------------------------
def test_sparse_vectors_reproduce_the_local_bm25_scores():
    docs = ["Rosja zatrudni 12 tys. pracowników w Tatarstanie.", "Pracownicy z Korei Północnej w Rosji.",
            "Pogoda w Seulu, Seul i Pjongjang."]
    bm = BM25(docs)
    q = query_weights("Ilu pracowników zatrudni Rosja?", bm)
    milvus_scores = [sum(w * passage_weights(d, bm.avgdl, bm).get(t, 0.0) for t, w in q.items()) for d in docs]
    assert np.allclose(milvus_scores, bm.scores("Ilu pracowników zatrudni Rosja?"), atol=1e-5)
    assert query_weights("słowa spoza korpusu", bm) == {}


def test_a_short_dictionary_word_meets_its_inflections_in_both_stores_alike():
    # "Kursk" from the dictionary is cut to "kursk", which the articles' "Kursku" ("kursku") never was
    docs = ["Żołnierze walczą w Kursku.", "Pod Kurskiem i w obwodzie kurskim.", "Pogoda w Seulu."]
    bm = BM25(docs)
    assert not bm.scores("Kursk").any()
    lemmas = bm.scores("Kursk", lemmas=True)
    assert lemmas[0] > 0 and lemmas[1] > 0 and lemmas[2] == 0
    q = query_weights("Kursk", bm, lemmas=True)
    milvus_scores = [sum(w * passage_weights(d, bm.avgdl, bm).get(t, 0.0) for t, w in q.items()) for d in docs]
    assert np.allclose(milvus_scores, lemmas, atol=1e-5)
    assert bm.expand("rosja") == {} and bm.expand("walczą") == {}      # a word of 6 letters is cut already


def test_filter_rules_and_bad_filters():
    f = Filter(article_ids={"a"}, since="2024-10", until="2024-12")
    assert f.allows("a", "2024-12-31") and not f.allows("a", "2025-01") and not f.allows("b", "2024-11")
    assert not f.allows("a", None)                 # a date filter excludes undated articles
    assert f.expr() == 'article_id in ["a"] and month != "" and month >= "2024-10" and month <= "2024-12"'
    with pytest.raises(BadInput, match="month like 2024-10"):
        Filter(since="2024-13")
    with pytest.raises(BadInput, match="after its until"):
        Filter(since="2025-01", until="2024-12")


def test_unknown_store_spec_says_what_to_use(settings):
    with pytest.raises(BadInput, match="milvus:http://host:19530"):
        _open(settings, "pinecone")
    with pytest.raises(BadInput, match="must end in .db"):
        _open(settings, "milvus:index/milvus")


# -- both backends ----------------------------------------------------------------------------------
def test_faiss_and_milvus_rank_the_same(settings, milvus_spec):
    faiss_index = _open(settings, "faiss")
    milvus_index = _open(settings, milvus_spec)
    assert isinstance(faiss_index.store, FaissStore) and isinstance(milvus_index.store, MilvusStore)
    for question in QUESTIONS:
        assert _top(milvus_index, question) == _top(faiss_index, question), question
    r = HybridRetriever(milvus_index, WordOverlapEmbedder()).retrieve(QUESTIONS[0], 3)
    f = HybridRetriever(faiss_index, WordOverlapEmbedder()).retrieve(QUESTIONS[0], 3)
    assert r.passages[0].chunk.article_id == TATARSTAN
    assert r.best_dense == pytest.approx(f.best_dense, abs=1e-4)
    assert r.best_lexical == pytest.approx(f.best_lexical, rel=1e-4)


@pytest.mark.parametrize("backend", ["faiss", "faiss-hnsw", "milvus"])
def test_filters_by_article_and_by_month(settings, backend, tmp_path):
    index = _open(settings, "milvus:" + str(tmp_path / "m.db") if backend == "milvus" else "faiss",
                  index_type="hnsw" if backend == "faiss-hnsw" else "auto")
    only = _top(index, QUESTIONS[0], k=20, where=Filter(article_ids={KURSK}))
    assert only and {c.split("#")[0] for c in only} == {KURSK}   # the best article for the question is filtered out
    pentagon = _top(index, QUESTIONS[0], k=20, where=Filter(since="2024-10", until="2024-12"))
    assert pentagon and {c.split("#")[0] for c in pentagon} == {PENTAGON}
    recent = {c.split("#")[0] for c in _top(index, "Korea Rosja", k=20, where=Filter(since="2025-01"))}
    assert recent == {TATARSTAN, KURSK}            # undated articles are left out of a date filter
    assert _top(index, QUESTIONS[0], where=Filter(article_ids=set())) == []
    assert _top(index, QUESTIONS[0], where=Filter(since="2030-01")) == []


# -- writes -------------------------------------------------------------------------------------------
def test_indexing_twice_writes_nothing_and_keeps_the_count(settings, milvus_spec):
    messages = []
    first = _open(settings, milvus_spec, messages=messages)
    assert any("creating the Milvus collection rag_fake_overlap_c1500_o250" in m for m in messages)
    ids = sorted(r["id"] for r in _rows(first))
    assert ids == sorted(c.id for c in first.chunks)
    messages.clear()
    emb = WordOverlapEmbedder()
    again = _open(settings, milvus_spec, emb, messages)
    assert messages == [] and emb.calls == []      # loaded and in step: nothing embedded, nothing said
    assert sorted(r["id"] for r in _rows(again)) == ids
    rebuilt = _open(settings, milvus_spec, messages=messages, rebuild=True)   # upserts over the same ids
    assert sorted(r["id"] for r in _rows(rebuilt)) == ids


def test_removed_and_changed_articles_leave_the_collection(settings, milvus_spec):
    emb = WordOverlapEmbedder()
    full = _open(settings, milvus_spec, emb)
    (settings.seeds_dir / f"{KURSK}.txt").unlink()
    changed = settings.seeds_dir / f"{PENTAGON}.txt"
    changed.write_text(" date 2024-11 Nowa wersja: rzecznik Pentagonu o rekrutach.\n", encoding="utf-8")
    emb.calls.clear()
    index = _open(settings, milvus_spec, emb)
    assert sum(n for _, n in emb.calls) == 1       # only the changed article's one chunk was embedded
    by_article = Counter(r["article_id"] for r in _rows(index))
    assert KURSK not in by_article and by_article[PENTAGON] == 1
    assert sum(by_article.values()) == len(index.chunks) < len(full.chunks)
    assert _top(index, "rekruci Pentagon", where=Filter(since="2024-11", until="2024-11")) == [f"{PENTAGON}#0"]


def test_a_collection_of_another_embedder_is_rebuilt_with_a_message(settings, tmp_path):
    spec = f"milvus:{tmp_path}/m.db"
    index = _open(settings, spec)
    store, name = index.store, index.store.name_for(index.manifest)
    # same name, other facts: what a collection left by another build of the product looks like
    meta = store.read_meta(name)
    store.client.alter_collection_properties(name, {"rag_meta": json.dumps({**meta, "embedder": "x"})})
    messages = []
    index = _open(settings, spec, messages=messages)
    assert messages == [f"rebuilding the Milvus collection {name} at {tmp_path}/m.db: it was built with "
                        "embedder 'x', the index has 'fake-overlap'"]
    assert len(_rows(index)) == len(index.chunks)
    # a new embedder: the local build says why, and gets its own collection
    messages.clear()
    other = _open(settings, spec, WordOverlapEmbedder(dim=128, id="other-model"), messages)
    assert "built with embedder 'fake-overlap'" in messages[0]
    assert any("creating the Milvus collection rag_other_model_c1500_o250" in m for m in messages)
    assert len(_rows(other)) == len(other.chunks)


def test_a_collection_out_of_step_is_brought_back_without_embedding(settings, tmp_path):
    spec = f"milvus:{tmp_path}/m.db"
    index = _open(settings, spec)
    index.store.client.delete(index.store.name_for(index.manifest), ids=[index.chunks[0].id])
    emb, messages = WordOverlapEmbedder(), []
    index = _open(settings, spec, emb, messages)
    assert messages == [f"updating the Milvus collection {index.store.name_for(index.manifest)} at "
                        f"{tmp_path}/m.db: it is out of date with the index"]
    assert emb.calls == [] and len(_rows(index)) == len(index.chunks)


# -- failures -----------------------------------------------------------------------------------------
def test_unreachable_milvus_is_one_line_naming_the_uri(settings):
    uri = f"http://127.0.0.1:{_free_port()}"          # nothing listens there
    emb = WordOverlapEmbedder()
    with pytest.raises(RagError) as err:
        _open(settings, f"milvus:{uri}", emb)
    message = str(err.value)
    assert "\n" not in message and f"cannot reach Milvus at {uri}" in message and "start the Milvus server" in message
    assert emb.calls == []                          # failed before embedding anything


class _FailingStore(FaissStore):
    """A store whose writes fail, as a Milvus server going away mid-build would."""

    def sync(self, index, notify=None, rewrite=()):
        raise RagError("Milvus at http://x failed to write rows (gone)")


def test_a_store_failing_mid_build_leaves_the_previous_index_live(settings):
    before = _open(settings, "faiss")
    (settings.seeds_dir / f"{KURSK}.txt").unlink()
    with pytest.raises(RagError, match="failed to write rows"):
        _open(settings, _FailingStore())
    live = load_index(settings.index_dir)
    assert live.path == before.path and len(live.chunks) == len(before.chunks)
    assert [p.name for p in settings.index_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_bench_measures_milvus_lite_next_to_exact_faiss():
    import faiss

    from rag.bench import bench_milvus
    from rag.index import Index
    from rag.types import Chunk

    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(300, 256)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    flat = faiss.IndexFlatIP(256)
    flat.add(vecs)
    texts = [f"Korea {i} Rosja {i % 7} żołnierze {i % 11}" for i in range(300)]
    synthetic = Index(manifest={"articles": {}}, chunks=[Chunk(f"s#{i}", "s", 0, len(t), t) for i, t in enumerate(texts)],
                      vectors=flat)
    qs = vecs[:20]
    exact = [set(flat.search(q[None, :], 10)[1][0].tolist()) for q in qs]
    out = bench_milvus(synthetic, WordOverlapEmbedder(), qs, exact, ["Korea 5 Rosja"] * 3)
    assert out["index_type"] == "flat" and out["recall@10"] == 1.0
    assert out["build_s"] > 0 and out["hybrid_retrieval_ms"]["p50"] > 0
