"""The persisted index: FAISS vectors + JSON chunks + a manifest, swapped in atomically.

Layout of `index_dir`:
    CURRENT                  name of the live build folder (replaced atomically with os.replace)
    build-<id>/manifest.json format version, embedder id, dimension, chunking, corpus hash, articles
    build-<id>/chunks.json   [{id, article_id, start, end, text}]
    build-<id>/vectors.faiss inner-product index over unit vectors, row i = chunks[i]
A build is written into a new folder and only then made CURRENT, so a build killed halfway leaves
the previous index in use (with a Milvus store, the collection is synced before the swap; a sync
that fails leaves the previous build live and is redone next time). Nothing is pickled. An index
whose manifest does not match what the settings and the articles ask for is never used:
`open_index` rebuilds it and says why, re-embedding only articles whose text changed (vectors of
unchanged articles are copied from the old build).
The candidate search itself is the store's (rag/stores.py: FAISS here, or a Milvus collection kept
in step with this folder); the folder stays the source of truth for both.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chunking import chunk_article, is_heading, sentence_spans
from .embedders import Embedder
from .errors import RagError
from .lexical import BM25
from .stores import Candidates, FaissStore, Query, VectorStore, open_store
from .types import Article, Chunk

FORMAT_VERSION = 1
_LETTERS = re.compile(r"[^\W\d_]{3,}")
Progress = Callable[[int, int], None]      # (done, total) chunks embedded
Notify = Callable[[str], None]


class IndexStale(Exception):
    """The index on disk cannot be used; the message says why."""


def corpus_hash(articles: list[Article]) -> str:
    h = hashlib.sha256()
    for a in sorted(articles, key=lambda a: a.id):
        h.update(f"{a.id}\0{a.sha256}\n".encode())
    return h.hexdigest()


# Exact search costs ~0.15 ms per 1,000 chunks on 2 cores (15 ms at 100k, `rag bench --scale`);
# with BM25 and the query embedding in the same 30 ms budget, HNSW takes over from here.
HNSW_FROM_CHUNKS = 20_000


def resolve_index_type(index_type: str, count: int) -> str:
    if index_type == "auto":
        return "hnsw" if count >= HNSW_FROM_CHUNKS else "flat"
    if index_type not in ("flat", "hnsw"):
        raise RagError(f"unknown index type {index_type!r}: use 'auto', 'flat' or 'hnsw'")
    return index_type


def expected_manifest(embedder_id: str, chunk_size: int, chunk_overlap: int, articles: list[Article],
                      index_type: str = "auto") -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "index_type_setting": index_type,
        "embedder": embedder_id,
        "chunk_size": chunk_size,
        "chunk_overlap": chunk_overlap,
        "corpus_hash": corpus_hash(articles),
        "articles": {a.id: {"sha256": a.sha256, "title": a.title, "date": a.date} for a in articles},
    }


@dataclass
class Index:
    manifest: dict
    chunks: list[Chunk]
    vectors: object                 # faiss.Index, row i is chunks[i]
    path: Path | None = None
    _bm25: BM25 | None = field(default=None, repr=False)
    _sentences: list | None = field(default=None, repr=False)
    _sentence_bm25: BM25 | None = field(default=None, repr=False)
    _sentence_vectors: dict = field(default_factory=dict, repr=False)
    _vocabulary: dict = field(default_factory=dict, repr=False)
    store: VectorStore = field(default_factory=FaissStore, repr=False)   # where `search` runs
    _row_by_id: dict | None = field(default=None, repr=False)
    _article_rows: dict | None = field(default=None, repr=False)

    def search(self, query: Query) -> Candidates:
        """Fused candidates for a query, from the store (filtered before ranking)."""
        return self.store.search(self, query)

    @property
    def row_by_id(self) -> dict[str, int]:
        """chunk id -> row in `chunks`."""
        if self._row_by_id is None:
            self._row_by_id = {c.id: i for i, c in enumerate(self.chunks)}
        return self._row_by_id

    def rows_of(self, article_ids: list[str]) -> np.ndarray:
        """Rows of these articles' chunks, ascending."""
        if self._article_rows is None:
            rows: dict[str, list[int]] = {}
            for i, c in enumerate(self.chunks):
                rows.setdefault(c.article_id, []).append(i)
            self._article_rows = {a: np.array(r, dtype=np.int64) for a, r in rows.items()}
        found = [self._article_rows[a] for a in article_ids if a in self._article_rows]
        return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    @property
    def bm25(self) -> BM25:
        if self._bm25 is None:
            self._bm25 = BM25([c.text for c in self.chunks])
        return self._bm25

    # -- sentences, for pruning passages to what the prompt can hold ------------------------------
    @property
    def sentences(self) -> dict[str, list[tuple[int, int, bool]]]:
        """chunk id -> [(start, end, is a title or subheading)], offsets into the chunk's text."""
        if self._sentences is None:
            self._sentences = {c.id: [(s, e, is_heading(c.text, s, e))
                                      for s, e in sentence_spans(c.text) or [(0, len(c.text))]]
                               for c in self.chunks}
        return self._sentences

    @property
    def sentence_bm25(self) -> BM25:
        """BM25 over single sentences with words cut to 4 characters: its idf says how rare a stem
        is among sentences, which is what pruning ranks."""
        if self._sentence_bm25 is None:
            self._sentence_bm25 = BM25([c.text[s:e] for c in self.chunks for s, e, _ in self.sentences[c.id]],
                                       prefix=4)
        return self._sentence_bm25

    def vocabulary(self, embedder: Embedder) -> tuple[list[str], np.ndarray]:
        """The articles' distinct words (lower case, 3+ letters) and their passage-side vectors,
        embedded once per process: the bridge from an English question's words to Polish ones."""
        if embedder.id not in self._vocabulary:
            words = sorted({w.lower() for c in self.chunks for w in _LETTERS.findall(c.text)})
            vectors = embedder.embed_passages(words) if words else np.zeros((0, self.manifest.get("dim", 1)), np.float32)
            self._vocabulary[embedder.id] = (words, vectors)
        return self._vocabulary[embedder.id]

    def sentence_vectors(self, chunk: Chunk, embedder: Embedder) -> np.ndarray:
        """Passage-side vectors of a chunk's sentences, embedded once per process."""
        key = (chunk.id, embedder.id)
        if key not in self._sentence_vectors:
            self._sentence_vectors[key] = embedder.embed_passages(
                [chunk.text[s:e] for s, e, _ in self.sentences[chunk.id]])
        return self._sentence_vectors[key]

    def article_meta(self, article_id: str) -> dict:
        return self.manifest["articles"].get(article_id, {"title": article_id, "date": None})

    def dense_search(self, query_vectors: np.ndarray, n: int, rows: np.ndarray | None = None
                     ) -> list[list[tuple[int, float]]]:
        """[(row, cosine)] best first per query vector; only among `rows` when given (the filter is
        applied inside the search, not to its top n)."""
        import faiss

        queries = np.ascontiguousarray(query_vectors, dtype=np.float32)
        if not self.chunks or (rows is not None and rows.size == 0):
            return [[] for _ in range(len(queries))]
        if rows is None:
            scores, ids = self.vectors.search(queries, min(n, len(self.chunks)))
        elif isinstance(self.vectors, faiss.IndexHNSW) and rows.size < HNSW_FROM_CHUNKS:
            # a graph walk under a tight filter misses allowed rows: search the few allowed exactly
            sims = queries @ self.vectors.reconstruct_batch(rows).T
            top = np.argsort(-sims, axis=1, kind="stable")[:, :n]
            scores, ids = np.take_along_axis(sims, top, axis=1), rows[top]
        else:
            selector = faiss.IDSelectorBatch(rows)
            params = (faiss.SearchParametersHNSW(sel=selector, efSearch=self.vectors.hnsw.efSearch)
                      if isinstance(self.vectors, faiss.IndexHNSW) else faiss.SearchParameters(sel=selector))
            scores, ids = self.vectors.search(queries, min(n, rows.size), params=params)
        return [[(int(i), float(s)) for i, s in zip(row_ids, row_scores) if i >= 0]
                for row_ids, row_scores in zip(ids, scores)]

    def vectors_of(self, article_id: str) -> tuple[list[Chunk], np.ndarray]:
        rows = [i for i, c in enumerate(self.chunks) if c.article_id == article_id]
        if not rows:
            return [], np.zeros((0, self.manifest["dim"]), dtype=np.float32)
        return [self.chunks[i] for i in rows], np.vstack([self.vectors.reconstruct(i) for i in rows])


def _live_dir(index_dir: Path) -> Path:
    """The live build folder named by CURRENT; IndexStale saying what was found when there is none."""
    pointer = index_dir / "CURRENT"
    if not pointer.exists():
        raise IndexStale("no index has been built yet")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise IndexStale(f"the index pointer {pointer} is damaged (not text)") from None
    except OSError as exc:
        raise IndexStale(f"the index pointer {pointer} cannot be read ({exc.strerror})") from None
    if not re.fullmatch(r"build-[\w.-]+", name):
        raise IndexStale(f"the index pointer {pointer} is damaged (it names no build folder)")
    live = index_dir / name
    if not live.is_dir():
        raise IndexStale(f"the index pointer {pointer} names {name}, which is missing")
    return live


def load_index(index_dir: Path) -> Index:
    """Read the live build; IndexStale if it is missing or damaged."""
    import faiss

    live = _live_dir(Path(index_dir))
    try:
        manifest = json.loads((live / "manifest.json").read_text(encoding="utf-8"))
        rows = json.loads((live / "chunks.json").read_text(encoding="utf-8"))
        chunks = [Chunk(**r) for r in rows]
        vectors = faiss.read_index(str(live / "vectors.faiss"))
    except Exception as exc:   # truncated JSON, bad FAISS file, wrong fields: all mean "rebuild"
        raise IndexStale(f"the index in {live} is damaged ({type(exc).__name__})") from None
    if vectors.ntotal != len(chunks) or manifest.get("count") != len(chunks):
        raise IndexStale(f"the index in {live} is inconsistent ({vectors.ntotal} vectors, {len(chunks)} chunks)")
    return Index(manifest=manifest, chunks=chunks, vectors=vectors, path=live)


def check_manifest(found: dict, wanted: dict) -> None:
    """IndexStale naming the first difference that makes the index unusable."""
    if found.get("format_version") != wanted["format_version"]:
        raise IndexStale(f"the index format changed ({found.get('format_version')} -> {wanted['format_version']})")
    if found.get("embedder") != wanted["embedder"]:
        raise IndexStale(f"the index was built with embedder {found.get('embedder')!r}, "
                         f"the settings ask for {wanted['embedder']!r}")
    for key in ("chunk_size", "chunk_overlap", "index_type_setting"):
        if found.get(key) != wanted[key]:
            raise IndexStale(f"{key} changed ({found.get(key)} -> {wanted[key]})")
    if found.get("corpus_hash") != wanted["corpus_hash"]:
        old, new = found.get("articles", {}), wanted["articles"]
        added = sorted(set(new) - set(old))
        removed = sorted(set(old) - set(new))
        changed = sorted(a for a in set(old) & set(new) if old[a]["sha256"] != new[a]["sha256"])
        parts = [f"{label}: {', '.join(ids)}" for label, ids in
                 (("added", added), ("removed", removed), ("changed", changed)) if ids]
        raise IndexStale("the articles changed (" + "; ".join(parts or ["contents differ"]) + ")")


def build_index(index_dir: Path, articles: list[Article], embedder: Embedder, chunk_size: int,
                chunk_overlap: int, previous: Index | None = None, progress: Progress | None = None,
                index_type: str = "auto", store: str | VectorStore = "faiss", notify: Notify | None = None) -> Index:
    """Chunk, embed what is new, write a new build folder, sync the store, then swap it in atomically."""
    import faiss

    index_dir = Path(index_dir)
    vector_store = open_store(store) if isinstance(store, str) else store     # an unreachable store fails before embedding
    wanted = expected_manifest(embedder.id, chunk_size, chunk_overlap, articles, index_type)
    # vectors survive a change of index type; not of embedder or chunking
    reusable = previous is not None and all(
        previous.manifest.get(k) == wanted[k] for k in ("format_version", "embedder", "chunk_size", "chunk_overlap"))

    chunks: list[Chunk] = []
    vectors: list[np.ndarray] = []
    todo: list[tuple[int, Chunk]] = []          # (position in chunks, chunk) still to embed
    for article in articles:
        old = previous.manifest["articles"].get(article.id) if reusable else None
        if old is not None and old["sha256"] == article.sha256:
            old_chunks, old_vectors = previous.vectors_of(article.id)
            if old_chunks:
                chunks.extend(old_chunks)
                vectors.extend(old_vectors)
                continue
        for chunk in chunk_article(article, chunk_size, chunk_overlap):
            todo.append((len(chunks), chunk))
            chunks.append(chunk)
            vectors.append(None)

    batch = 32
    if progress:
        progress(0, len(todo))
    for i in range(0, len(todo), batch):
        part = todo[i:i + batch]
        embedded = embedder.embed_passages([c.text for _, c in part])
        for (pos, _), vec in zip(part, embedded):
            vectors[pos] = vec
        if progress:
            progress(min(i + batch, len(todo)), len(todo))

    matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, 1), dtype=np.float32)
    dim = int(matrix.shape[1])
    index_type = resolve_index_type(index_type, len(chunks))
    faiss_index = make_faiss_index(dim, len(chunks), index_type)
    if len(chunks):
        if not faiss_index.is_trained:
            faiss_index.train(matrix)
        faiss_index.add(matrix)
    manifest = {**wanted, "dim": dim, "count": len(chunks), "index_type": index_type,
                "embedded": len(todo), "built_at": time.strftime("%Y-%m-%dT%H:%M:%S")}

    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = index_dir / (name + ".tmp")
    tmp.mkdir()
    index = Index(manifest=manifest, chunks=chunks, vectors=faiss_index, path=index_dir / name, store=vector_store)
    try:
        (tmp / "chunks.json").write_text(json.dumps([c.__dict__ for c in chunks], ensure_ascii=False), encoding="utf-8")
        faiss.write_index(faiss_index, str(tmp / "vectors.faiss"))
        # the manifest goes last: a folder with a manifest is complete
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        # before the swap: a store that fails leaves the previous build live
        vector_store.sync(index, notify, rewrite={c.article_id for _, c in todo})
        os.replace(tmp, index_dir / name)
        pointer = index_dir / f"CURRENT.{os.getpid()}.tmp"
        pointer.write_text(name, encoding="utf-8")
        os.replace(pointer, index_dir / "CURRENT")
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RagError(f"cannot write the index to {index_dir}: {exc.strerror}; check the folder's "
                       "permissions and free space (the previous index is untouched)") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_old_builds(index_dir, keep=name)
    return index


def make_faiss_index(dim: int, count: int, index_type: str):
    """'flat' (exact) or 'hnsw' (graph, approximate; `resolve_index_type` picks)."""
    import faiss

    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
        return index
    return faiss.IndexFlatIP(dim)


def _remove_old_builds(index_dir: Path, keep: str) -> None:
    for entry in index_dir.iterdir():
        if entry.name.startswith("build-") and entry.name != keep:
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith("CURRENT.") and entry.name.endswith(".tmp"):
            entry.unlink(missing_ok=True)


def open_index(index_dir: Path, articles: list[Article], embedder: Embedder, chunk_size: int, chunk_overlap: int,
               rebuild: bool = False, notify: Notify | None = None, progress: Progress | None = None,
               index_type: str = "auto", store: str | VectorStore = "faiss") -> Index:
    """The usable index for these articles and settings: loaded if it matches, else (re)built.
    `store` is the `store` setting (rag/stores.py); a Milvus collection out of step with the loaded
    build is brought in line from it, without embedding."""
    vector_store = open_store(store) if isinstance(store, str) else store
    wanted = expected_manifest(embedder.id, chunk_size, chunk_overlap, articles, index_type)
    previous = None
    try:
        previous = load_index(index_dir)
        check_manifest(previous.manifest, wanted)
        if not rebuild:
            previous.store = vector_store
            vector_store.sync(previous, notify)
            return previous
        reason = "a rebuild was asked for"
        previous = None
    except IndexStale as exc:
        reason = str(exc)
    if notify:
        notify(f"building the index in {index_dir}: {reason}")
    return build_index(index_dir, articles, embedder, chunk_size, chunk_overlap, previous=previous, progress=progress,
                       index_type=index_type, store=vector_store, notify=notify)
