"""Hybrid retrieval: FAISS dense search and BM25, for one or more phrasings of the question,
fused by reciprocal rank (RRF): score(chunk) = sum over ranked lists of 1 / (rrf_k + rank).

RRF needs no score calibration between retrievers, which matters here: cosine similarities of a
multilingual encoder and BM25 sums live on unrelated scales.

    >>> rrf([[("a", 1.0), ("b", .5)], [("b", 9.), ("c", 3.)]], rrf_k=60)[0][0]
    'b'
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .embedders import Embedder
from .index import Index
from .types import Passage


def rrf(ranked_lists: list[list[tuple[object, float]]], rrf_k: int = 60) -> list[tuple[object, float]]:
    """Fuse ranked lists of (key, score): [(key, fused score)] best first, ties by first appearance."""
    fused: dict[object, float] = defaultdict(float)
    order: dict[object, int] = {}
    for ranked in ranked_lists:
        for rank, (key, _) in enumerate(ranked, start=1):
            fused[key] += 1.0 / (rrf_k + rank)
            order.setdefault(key, len(order))
    return sorted(fused.items(), key=lambda kv: (-kv[1], order[kv[0]]))


@dataclass
class Retrieval:
    passages: list[Passage]
    best_dense: float      # highest cosine similarity among the dense hits (evidence strength)
    best_lexical: float    # highest BM25 score


class HybridRetriever:
    def __init__(self, index: Index, embedder: Embedder, candidates: int = 20, rrf_k: int = 60):
        self.index, self.embedder = index, embedder
        self.candidates, self.rrf_k = candidates, rrf_k

    def retrieve(self, queries: list[str], k: int) -> Retrieval:
        queries = [q for q in dict.fromkeys(queries) if q.strip()]
        ranked_lists, best_dense, best_lexical = [], 0.0, 0.0
        dense = self.index.dense_search(self.embedder.embed_queries(queries), self.candidates)
        for query, dense_hits in zip(queries, dense):
            lexical_hits = self.index.bm25.search(query, self.candidates)
            ranked_lists += [dense_hits, lexical_hits]
            best_dense = max([best_dense, *(s for _, s in dense_hits[:1])])
            best_lexical = max([best_lexical, *(s for _, s in lexical_hits[:1])])
        passages = []
        for rank, (i, score) in enumerate(rrf(ranked_lists, self.rrf_k)[:k], start=1):
            chunk = self.index.chunks[i]
            meta = self.index.article_meta(chunk.article_id)
            passages.append(Passage(rank=rank, chunk=chunk, score=score, title=meta["title"],
                                    date=meta["date"], text=chunk.text))
        return Retrieval(passages, best_dense, best_lexical)
