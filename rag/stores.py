"""Where the candidate search runs: FAISS + in-memory BM25 in the index folder, or a Milvus collection.

A `VectorStore` ranks an index's chunks for a query (a dense list and a BM25 list, each restricted by
a `Filter` before ranking, fused by weighted RRF) and can be brought in line with a local build
(`sync`). The local build folder (rag/index.py) stays the source of truth in both cases: chunk texts,
sentences, BM25 statistics and the vectors themselves are read from it, so a Milvus collection can be
rebuilt from it at any time without embedding anything again. What this leaves out: Milvus
partitions, users and TLS (a `milvus:https://...` URI reaches a TLS server, but no credentials are
passed), and Milvus' own text analysers (the BM25 weights are the product's, rag/lexical.py).

Spec strings (the `store` setting):
    faiss                          vectors.faiss in the index folder, BM25 in memory
    milvus:index/milvus.db         Milvus Lite, embedded (a data folder that must end in .db)
    milvus:http://host:19530       a Milvus server, over the network client

    >>> rrf([[("a", 1.0), ("b", .5)], [("b", 9.), ("c", 3.)]], rrf_k=60)[0][0]
    'b'
    >>> collection_name("use-multilingual", 1500, 250)
    'rag_use_multilingual_c1500_o250_f2f08e'
    >>> Filter(since="2024-10", until="2024-12").allows("x", "2024-11-05"), Filter(since="2024-10").allows("x", None)
    (True, False)
"""
from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .errors import BadInput, RagError
from .lexical import BM25, tokens

if TYPE_CHECKING:
    from .index import Index

Notify = Callable[[str], None]
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


# -- fusion -----------------------------------------------------------------------------------------
def rrf(ranked_lists: list[list[tuple[object, float]]], rrf_k: int = 60,
        weights: tuple[float, ...] | None = None) -> list[tuple[object, float]]:
    """Fuse ranked lists of (key, score): [(key, fused score)] best first, ties by first appearance.
    score(key) = sum over lists of weight / (rrf_k + rank)."""
    fused: dict[object, float] = defaultdict(float)
    order: dict[object, int] = {}
    for ranked, weight in zip(ranked_lists, weights or [1.0] * len(ranked_lists)):
        for rank, (key, _) in enumerate(ranked, start=1):
            fused[key] += weight / (rrf_k + rank)
            order.setdefault(key, len(order))
    return sorted(fused.items(), key=lambda kv: (-kv[1], order[kv[0]]))


# -- the nouns --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filter:
    """Which chunks a search may return: by article, and by the article's month (both ends included).
    A date filter excludes articles with no date. None means "no restriction" on that field."""
    article_ids: frozenset[str] | None = None
    since: str | None = None       # "YYYY-MM"
    until: str | None = None       # "YYYY-MM"

    def __post_init__(self):
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and not _MONTH.fullmatch(value):
                raise BadInput(f"the filter's {name} must be a month like 2024-10, got {value!r}")
        if self.since and self.until and self.since > self.until:
            raise BadInput(f"the filter's since ({self.since}) is after its until ({self.until})")
        if self.article_ids is not None and not isinstance(self.article_ids, frozenset):
            object.__setattr__(self, "article_ids", frozenset(self.article_ids))

    @classmethod
    def of(cls, articles=None, since: str | None = None, until: str | None = None) -> "Filter | None":
        """A filter from what a reader gave (the CLI's flags, the chat's fields, the API's arguments):
        blanks are "no restriction"; None when nothing restricts."""
        if isinstance(articles, str):
            articles = [articles]
        if articles is not None and not all(isinstance(a, str) for a in articles):
            raise BadInput("the filter's articles must be a list of article ids")
        for name, value in (("since", since), ("until", until)):
            if value is not None and not isinstance(value, str):
                raise BadInput(f"the filter's {name} must be a month like 2024-10, got {value!r}")
        ids = frozenset(a.strip() for a in articles or [] if a.strip())
        since, until = (since or "").strip() or None, (until or "").strip() or None
        if not (ids or since or until):
            return None
        return cls(ids or None, since, until)

    def allows(self, article_id: str, date: str | None) -> bool:
        if self.article_ids is not None and article_id not in self.article_ids:
            return False
        if self.since or self.until:
            if not date:
                return False
            month = date[:7]
            if (self.since and month < self.since) or (self.until and month > self.until):
                return False
        return True

    def articles(self, manifest: dict) -> list[str]:
        """The manifest's article ids this filter lets through."""
        return [a for a, meta in manifest["articles"].items() if self.allows(a, meta.get("date"))]

    def scope(self, dates: list[str | None], language: str) -> str:
        """What a filtered answer says about where it comes from: what was searched and, when it
        drew on passages (`dates` of the articles it cites), the period they span."""
        pl = language == "pl"
        what = []
        if self.article_ids is not None:
            n = len(self.article_ids)
            if pl:
                few = 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14
                what.append(f"{n} " + ("wybrany artykuł" if n == 1 else "wybrane artykuły" if few else "wybranych artykułów"))
            else:
                what.append(f"the {n} chosen article{'s' if n != 1 else ''}")
        if self.since or self.until:
            if pl:
                what.append("artykuły " + " ".join(part for part in (
                    f"od {self.since}" if self.since else "", f"do {self.until}" if self.until else "") if part))
            else:
                what.append("articles " + " ".join(part for part in (
                    f"from {self.since}" if self.since else "", f"up to {self.until}" if self.until else "") if part))
        if not what:
            return ""
        text = ("Przeszukano tylko: " if pl else "Searched only ") + ("; " if pl else ", ").join(what) + "."
        known = sorted(d for d in dates if d)
        if known:
            period = known[0] if known[0] == known[-1] else f"{known[0]} – {known[-1]}"
            text += (f" Odpowiedź opiera się na artykułach z {period}." if pl
                     else f" The answer draws on articles dated {period}.")
        return text

    def expr(self) -> str:
        """The same rule as a Milvus boolean expression over the `article_id` and `month` fields."""
        parts = []
        if self.article_ids is not None:
            parts.append(f"article_id in {json.dumps(sorted(self.article_ids), ensure_ascii=False)}")
        if self.since or self.until:
            parts.append('month != ""')
        if self.since:
            parts.append(f'month >= "{self.since}"')
        if self.until:
            parts.append(f'month <= "{self.until}"')
        return " and ".join(parts)


@dataclass
class Query:
    vector: np.ndarray                     # (dim,) unit query vector
    text: str                              # what BM25 matches (the Polish translation for English questions)
    n: int = 20                            # depth of each ranked list before fusion
    weights: tuple[float, float] = (1.0, 1.0)   # (dense, lexical) RRF weights
    rrf_k: int = 60
    where: Filter | None = None
    lemmas: bool = False                   # `text` is dictionary forms: a short word meets its inflections (BM25.expand)


@dataclass
class Candidates:
    fused: list[tuple[int, float]]         # (row in index.chunks, fused score) best first
    best_dense: float = 0.0                # highest cosine among the dense hits (evidence strength)
    best_lexical: float = 0.0              # highest BM25 score among the lexical hits


class VectorStore(Protocol):
    """Ranks an index's chunks for a query, filtered before ranking; `sync` makes it hold exactly the index."""

    def search(self, index: Index, query: Query) -> Candidates: ...

    def sync(self, index: Index, notify: Notify | None = None, rewrite: Iterable[str] = ()) -> None: ...


def _fuse(dense: list[tuple[int, float]], lexical: list[tuple[int, float]], query: Query) -> Candidates:
    return Candidates(rrf([dense, lexical], query.rrf_k, query.weights),
                      dense[0][1] if dense else 0.0, lexical[0][1] if lexical else 0.0)


# -- FAISS --------------------------------------------------------------------------------------------
class FaissStore:
    """The vectors of the build folder (`index.vectors`) and the in-memory BM25 (`index.bm25`)."""

    id = "faiss"

    def search(self, index: Index, query: Query) -> Candidates:
        rows = index.rows_of(query.where.articles(index.manifest)) if query.where else None
        if rows is not None and rows.size == 0:
            return Candidates([])
        dense = index.dense_search(query.vector[None, :], query.n, rows)[0]
        lexical = index.bm25.search(query.text, query.n, allowed=rows, lemmas=query.lemmas)
        return _fuse(dense, lexical, query)

    def sync(self, index: Index, notify: Notify | None = None, rewrite: Iterable[str] = ()) -> None:
        """Nothing to do: build_index writes vectors.faiss into the build folder itself."""


# -- Milvus -------------------------------------------------------------------------------------------
STORE_FORMAT = 1
META_KEY = "rag_meta"            # collection property holding the key facts, as JSON
AVGDL_DRIFT = 0.10               # re-weigh every stored chunk once the mean chunk length moved this much
EMPTY_TOKEN = 2**32 - 2          # Milvus rejects empty sparse vectors; no query token maps here
HNSW_EF = 64                     # as make_faiss_index in rag/index.py
_BATCH = 256                     # rows per upsert (each carries a vector and ~1.5 kB of text)


def collection_name(embedder_id: str, chunk_size: int, chunk_overlap: int) -> str:
    """One collection per embedder and chunking. Milvus names allow [A-Za-z0-9_], start with a letter
    or underscore, at most 255 characters; the hash keeps two ids that sanitise alike apart."""
    readable = re.sub(r"[^A-Za-z0-9]+", "_", embedder_id).strip("_")[:60]
    digest = hashlib.sha256(embedder_id.encode()).hexdigest()[:6]
    return f"rag_{readable}_c{chunk_size}_o{chunk_overlap}_{digest}"


def token_id(token: str) -> int:
    """A stable sparse dimension per token (crc32). Among 100,000 distinct tokens about one pair
    collides; the two then share a dimension, which only adds a little score to the other's chunks."""
    return zlib.crc32(token.encode()) % EMPTY_TOKEN


def passage_weights(text: str, avgdl: float, bm25: BM25) -> dict[int, float]:
    """The document side of BM25 for one chunk: token id -> tf (k1 + 1) / (tf + k1 (1 - b + b len / avgdl)).
    Multiplied by the query side (`query_weights`, the idf) and summed, this is BM25's score."""
    counts = Counter(tokens(text, bm25.prefix))
    length = sum(counts.values())
    norm = bm25.k1 * (1 - bm25.b + bm25.b * length / max(avgdl, 1e-9))
    weights: dict[int, float] = defaultdict(float)
    for tok, tf in counts.items():
        weights[token_id(tok)] += tf * (bm25.k1 + 1) / (tf + norm)
    return dict(weights) or {EMPTY_TOKEN: 1.0}


def query_weights(text: str, bm25: BM25, lemmas: bool = False) -> dict[int, float]:
    """The query side of BM25: token id -> idf from the local chunk statistics, for the query's
    distinct tokens that occur in some chunk (the others would score nothing; `lemmas`: as in
    `BM25.query_tokens`)."""
    weights: dict[int, float] = defaultdict(float)
    for tok, weight in bm25.query_tokens(text, lemmas).items():
        weights[token_id(tok)] += weight * bm25.idf(tok)
    return dict(weights)


def parse_spec(spec: str) -> str | None:
    """None for "faiss", the Milvus URI or Lite path for "milvus:..."; BadInput for anything else."""
    if spec == "faiss":
        return None
    if spec.startswith("milvus:") and spec[len("milvus:"):].strip():
        target = spec[len("milvus:"):].strip()
        if not re.match(r"(https?|tcp|grpc|unix)://", target) and not target.rstrip("/").endswith(".db"):
            raise BadInput(f"store {spec!r}: a Milvus Lite path must end in .db (milvus:index/milvus.db), "
                           "or give a server as milvus:http://host:19530")
        return target
    raise BadInput(f"unknown store {spec!r}: use 'faiss', 'milvus:path/to/milvus.db' or 'milvus:http://host:19530'")


def open_store(spec: str, **kwargs) -> VectorStore:
    """The store a `store` setting names; a Milvus one is connected now, so a bad URI fails early."""
    target = parse_spec(spec)
    return FaissStore() if target is None else MilvusStore(target, **kwargs)


class MilvusStore:
    """A Milvus collection per embedder and chunking: chunk rows with their dense vector (IP over unit
    vectors, so cosine) and a sparse vector of the product's own BM25 weights (rag/lexical.py tokens).

    BM25 split: each stored chunk carries its document side, tf (k1 + 1) / (tf + k1 (1 - b + b len / avgdl));
    the query carries idf, computed from the local chunk statistics at query time. Adding an article
    changes every token's idf; with idf on the query side no stored chunk has to be rewritten for
    that, and the inner product Milvus computes is exactly the local BM25 score. Only `avgdl` stays
    on the document side: it is frozen in the collection's metadata when the collection is created
    and all chunks are re-weighed (from the local vectors, nothing embedded) once the corpus' mean
    chunk length drifts more than AVGDL_DRIFT from it; below that the length norm is off by under
    10%, which reorders only near-ties.

    Fusion: two Milvus searches (dense, sparse), each filtered by `expr` before ranking, fused with
    the product's weighted rrf(), exactly as the FAISS store does. Milvus' own `hybrid_search`
    (`ranker="rrf"` or `"weighted"`) is kept for measurement only. On the eval set (answerable items,
    use-multilingual, 19 chunks, translate_query off so that no LLM runs), hit@5 / MRR@10, pl | en:
        FAISS                                   0.962 / 0.781 | 0.854 / 0.712
        Milvus, two searches + rrf()            0.962 / 0.781 | 0.854 / 0.712   (identical)
        Milvus hybrid_search, RRFRanker(60)     0.942 / 0.719 | 0.875 / 0.720   (pl MRR -0.062)
        Milvus hybrid_search, WeightedRanker    0.962 / 0.809 | 0.833 / 0.670   (en MRR -0.042)
    RRFRanker has no per-list weights (the product weighs the lists by the question's language) and
    WeightedRanker mixes normalised scores, not ranks, so neither stays within 0.02 of FAISS; Milvus
    also returns no per-list scores from `hybrid_search`, and the evidence strengths need them.
    """

    def __init__(self, uri: str, ranker: str | None = None, timeout: float = 10.0, client=None):
        self.uri, self.ranker, self.timeout = uri, ranker, timeout
        self.id = f"milvus:{uri}"
        if client is not None:
            self.client = client
            return
        try:
            from pymilvus import MilvusClient
            from pymilvus.exceptions import MilvusException
        except ImportError:
            raise RagError("the Milvus store needs pymilvus and milvus-lite: pip install 'rag[milvus]', "
                           "or use store = \"faiss\"") from None

        local = not re.match(r"(https?|tcp|grpc|unix)://", uri)
        try:
            if local:
                from pathlib import Path
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
            self.client = MilvusClient(uri, timeout=timeout)
        except MilvusException as exc:
            what = ("start the Milvus server, or fix the `store` setting (milvus:http://host:19530), "
                    "or use store = \"faiss\"") if not local else \
                   ("check that no other process uses this Milvus Lite folder and that milvus-lite is "
                    "installed (pip install 'rag[milvus]'), or use store = \"faiss\"")
            raise RagError(f"cannot reach Milvus at {uri} ({exc.message}): {what}") from None
        except OSError as exc:
            raise RagError(f"cannot open Milvus Lite at {uri} ({exc.strerror}): check the folder's "
                           "permissions, or use store = \"faiss\"") from None

    # -- helpers ------------------------------------------------------------------------------------
    def _call(self, what: str, fn, *args, **kwargs):
        """Run a client call; a Milvus failure becomes one line naming the URI."""
        from pymilvus.exceptions import MilvusException

        try:
            return fn(*args, **kwargs)
        except MilvusException as exc:
            raise RagError(f"Milvus at {self.uri} failed to {what} ({exc.message}): check that the server "
                           "is up and has space, then run `rag index` again") from None

    @staticmethod
    def name_for(manifest: dict) -> str:
        return collection_name(manifest["embedder"], manifest["chunk_size"], manifest["chunk_overlap"])

    @staticmethod
    def key_facts(index: Index) -> dict:
        """What a collection must agree on with the local build to be usable at all."""
        from .index import resolve_index_type

        m = index.manifest
        return {"store_format": STORE_FORMAT, "embedder": m["embedder"], "dim": m["dim"],
                "chunk_size": m["chunk_size"], "chunk_overlap": m["chunk_overlap"],
                "dense_index": resolve_index_type(m.get("index_type_setting", "auto"), m["count"]),
                "bm25": {"k1": index.bm25.k1, "b": index.bm25.b, "prefix": index.bm25.prefix, "token_id": "crc32"}}

    def read_meta(self, name: str) -> dict | None:
        """The collection's metadata record; None if there is no such collection."""
        if not self._call("list collections", self.client.has_collection, name):
            return None
        props = self._call("describe a collection", self.client.describe_collection, name).get("properties", {})
        try:
            return json.loads(props.get(META_KEY, "{}"))
        except json.JSONDecodeError:
            return {}

    def _write_meta(self, name: str, meta: dict) -> None:
        self._call("write the collection's metadata", self.client.alter_collection_properties, name,
                   {META_KEY: json.dumps(meta, ensure_ascii=False)})

    def _create(self, name: str, facts: dict) -> None:
        from pymilvus import DataType

        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("article_id", DataType.VARCHAR, max_length=512)
        schema.add_field("article_sha", DataType.VARCHAR, max_length=64)    # what `sync` diffs on
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        schema.add_field("date", DataType.VARCHAR, max_length=16)           # as in the article, "" if none
        schema.add_field("month", DataType.VARCHAR, max_length=7)           # "YYYY-MM", what filters compare
        schema.add_field("text", DataType.VARCHAR, max_length=65535)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=facts["dim"])
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        params = self.client.prepare_index_params()
        if facts["dense_index"] == "hnsw":
            params.add_index("dense", index_type="HNSW", metric_type="IP", params={"M": 32, "efConstruction": 80})
        else:
            params.add_index("dense", index_type="FLAT", metric_type="IP")
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        self._call("create a collection", self.client.create_collection, name, schema=schema, index_params=params)

    def _load(self, name: str) -> None:
        """A server searches only loaded collections (a restart or another client may have released it)."""
        state = str(self._call("read a collection's load state", self.client.get_load_state, name).get("state", ""))
        if not state.endswith("Loaded"):
            self._call("load a collection", self.client.load_collection, name)

    def _present(self, name: str) -> dict[str, str]:
        """chunk id -> article sha256 of every row in the collection."""
        import logging

        found: dict[str, str] = {}
        # Milvus Lite has no MVCC timestamp to give the iterator, which then warns on every sync
        quiet = logging.getLogger("pymilvus.client.iterator.query_iterator")
        level, quiet.level = quiet.level, logging.ERROR
        try:
            iterator = self._call("read the collection", self.client.query_iterator, name, batch_size=4096,
                                  output_fields=["article_sha"])
            while batch := self._call("read the collection", iterator.next):
                found.update((r["id"], r["article_sha"]) for r in batch)
            iterator.close()
        finally:
            quiet.setLevel(level)
        return found

    def _rows(self, index: Index, positions: list[int], avgdl: float) -> list[dict]:
        vectors = index.vectors.reconstruct_batch(np.asarray(positions, dtype=np.int64))
        rows = []
        for pos, vec in zip(positions, vectors):
            c = index.chunks[pos]
            meta = index.article_meta(c.article_id)
            date = meta.get("date") or ""
            rows.append({"id": c.id, "article_id": c.article_id, "article_sha": meta.get("sha256", ""),
                         "start": c.start, "end": c.end, "date": date, "month": date[:7], "text": c.text,
                         "dense": vec.astype(np.float32), "sparse": passage_weights(c.text, avgdl, index.bm25)})
        return rows

    # -- the protocol -------------------------------------------------------------------------------
    def sync(self, index: Index, notify: Notify | None = None, rewrite: Iterable[str] = ()) -> None:
        """Make the collection hold exactly the index's chunks: a collection of another embedder,
        chunking or index type is dropped and rebuilt, otherwise chunks of removed or changed articles
        are deleted and new or changed ones upserted by chunk id (articles in `rewrite` always are).
        The metadata record is cleared first and written last, so a sync that fails halfway is
        found out of date next time. Vectors come from the local build: nothing is embedded here."""
        say = notify or (lambda _m: None)
        name = self.name_for(index.manifest)
        facts = self.key_facts(index)
        meta = self.read_meta(name)
        rebuilt = False
        if meta is not None:
            differs = [k for k in facts if meta.get(k) != facts[k]]
            if differs:
                k = differs[0]
                say(f"rebuilding the Milvus collection {name} at {self.uri}: it was built with "
                    f"{k} {meta.get(k)!r}, the index has {facts[k]!r}")
                self._call("drop a collection", self.client.drop_collection, name)
                meta, rebuilt = None, True
        avgdl = index.bm25.avgdl
        rewrite = set(rewrite)
        if meta is not None:
            count = self._call("count rows", self.client.get_collection_stats, name).get("row_count")
            drift = abs(avgdl / meta["avgdl"] - 1) if meta.get("avgdl") else 1.0
            if (meta.get("corpus_hash") == index.manifest["corpus_hash"] and meta.get("count") == len(index.chunks)
                    == count and drift <= AVGDL_DRIFT and not rewrite):
                self._load(name)
                return
            if drift > AVGDL_DRIFT:
                rewrite = {c.article_id for c in index.chunks}
                reason = f"mean chunk length moved {drift:.0%}, re-weighing BM25"
            elif meta.get("corpus_hash") != index.manifest["corpus_hash"] or meta.get("count") != count:
                reason = "it is out of date with the index"
            else:
                reason = "articles were embedded again"
            say(f"updating the Milvus collection {name} at {self.uri}: {reason}")
            avgdl = avgdl if drift > AVGDL_DRIFT else meta["avgdl"]
        else:
            if not rebuilt:
                say(f"creating the Milvus collection {name} at {self.uri}")
            self._create(name, facts)
        self._write_meta(name, {**facts, "avgdl": avgdl, "corpus_hash": "", "count": -1})

        articles = index.manifest["articles"]
        wanted = {c.id: articles[c.article_id]["sha256"] for c in index.chunks}     # chunk id -> article sha256
        present = self._present(name)
        stale = [cid for cid in present if cid not in wanted]      # the rest is overwritten by upsert
        for i in range(0, len(stale), 1000):
            self._call("delete rows", self.client.delete, name, ids=stale[i:i + 1000])
        todo = [pos for pos, c in enumerate(index.chunks) if c.article_id in rewrite or present.get(c.id) != wanted[c.id]]
        for i in range(0, len(todo), _BATCH):
            self._call("write rows", self.client.upsert, name, self._rows(index, todo[i:i + _BATCH], avgdl))
        self._call("flush", self.client.flush, name)
        count = self._call("count rows", self.client.get_collection_stats, name).get("row_count")
        if count != len(index.chunks):
            raise RagError(f"the Milvus collection {name} at {self.uri} holds {count} chunks after syncing, "
                           f"the index has {len(index.chunks)}: run `rag index --rebuild`")
        self._load(name)
        self._write_meta(name, {**facts, "avgdl": avgdl, "corpus_hash": index.manifest["corpus_hash"],
                                "count": len(index.chunks)})

    def search(self, index: Index, query: Query) -> Candidates:
        name = self.name_for(index.manifest)
        expr = query.where.expr() if query.where else ""
        if query.where and query.where.article_ids is not None and not query.where.article_ids:
            return Candidates([])
        n = min(query.n, len(index.chunks))
        if n == 0:
            return Candidates([])
        vector = np.asarray(query.vector, dtype=np.float32)
        sparse = query_weights(query.text, index.bm25, query.lemmas)
        dense_params = {"metric_type": "IP", "params": {"ef": max(HNSW_EF, n)}}
        if self.ranker:
            return self._hybrid(index, name, vector, sparse, expr, dense_params, query, n)
        dense = self._hits(index, self._call("search", self.client.search, name, data=[vector], anns_field="dense",
                                             limit=n, filter=expr, output_fields=["article_id"],
                                             search_params=dense_params))
        lexical = []
        if sparse:
            lexical = self._hits(index, self._call("search", self.client.search, name, data=[sparse],
                                                   anns_field="sparse", limit=n, filter=expr,
                                                   output_fields=["article_id"], search_params={"metric_type": "IP"}))
            lexical = [(row, score) for row, score in lexical if score > 0]
        return _fuse(dense, lexical, query)

    def _hybrid(self, index, name, vector, sparse, expr, dense_params, query: Query, n: int) -> Candidates:
        """Milvus fuses (`hybrid_search`); measured, not the default (class docstring). The per-list best
        scores are not returned by Milvus, so the evidence strengths stay 0."""
        from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

        requests = [AnnSearchRequest([vector], "dense", dense_params, n, expr=expr or None)]
        if sparse:
            requests.append(AnnSearchRequest([sparse], "sparse", {"metric_type": "IP"}, n, expr=expr or None))
        ranker = RRFRanker(query.rrf_k) if self.ranker == "rrf" else WeightedRanker(*query.weights[:len(requests)])
        result = self._call("search", self.client.hybrid_search, name, requests, ranker, limit=n,
                            output_fields=["article_id"])
        return Candidates(self._hits(index, result))

    @staticmethod
    def _hits(index: Index, result) -> list[tuple[int, float]]:
        """(row, score) for the first query's hits; ids the local build does not know are skipped
        (a collection shared with a process that has already synced a newer build)."""
        rows = index.row_by_id
        return [(rows[h["id"]], float(h["distance"])) for h in (result[0] if result else []) if h["id"] in rows]
