"""Hybrid retrieval: dense search and BM25, fused by weighted reciprocal rank (RRF):
score(chunk) = sum over ranked lists of weight / (rrf_k + rank). The index's store runs both
searches and the fusion (rag/stores.py: FAISS + in-memory BM25, or Milvus), restricted by an
optional `Filter` (article ids, months) before ranking.

RRF needs no score calibration between retrievers, which matters here: cosine similarities of a
multilingual encoder and BM25 sums live on unrelated scales. The weights depend on the question's
language, as measured on the eval set (README, "Retrieval"): BM25 is the strong retriever for Polish
questions over Polish text, the multilingual encoder for English ones, where BM25 runs on the
question's Polish translation instead (English words rarely match Polish text). `bridge_words`
can add the articles' own words closest to the question's words by the multilingual encoder
("heads" -> "szef", "grateful" -> "wdzięczna"); off by default: it put more facts into the
prompt but the answers did not gain (README, "Levers").

    >>> rrf([[("a", 1.0), ("b", .5)], [("b", 9.), ("c", 3.)]], rrf_k=60)[0][0]
    'b'
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .embedders import Embedder
from .index import Index
from .lexical import STOPWORDS
from .stores import Filter, Query, rrf  # noqa: F401  (rrf: re-exported, its home was here)
from .types import Passage


# (dense weight, lexical weight) per question language
LANGUAGE_WEIGHTS = {"pl": (0.5, 1.0), "en": (1.0, 0.5)}


_QUESTION_WORD = re.compile(r"[^\W\d_]{3,}")
_MORE_STOPWORDS = frozenset("many much per their there them they will would could should can".split())


def bridge_words(question: str, index: Index, embedder: Embedder, per_word: int = 1,
                 min_similarity: float = 0.7) -> list[str]:
    """The articles' words closest to each content word of the question (at most `per_word`
    each, cosine >= `min_similarity`): Polish search terms for an English question, found by the
    encoder alone. Measured on the eval set (README, "Levers")."""
    asked = [w for w in dict.fromkeys(w.lower() for w in _QUESTION_WORD.findall(question))
             if w not in STOPWORDS and w not in _MORE_STOPWORDS]
    if not asked or per_word < 1:
        return []
    words, vectors = index.vocabulary(embedder)
    if not words:
        return []
    sims = embedder.embed_queries(asked) @ vectors.T
    found: dict[str, None] = {}
    for row in sims:
        for i in np.argsort(-row)[:per_word]:
            if row[i] >= min_similarity:
                found[words[i]] = None
    return list(found)


@dataclass
class Retrieval:
    passages: list[Passage]
    best_dense: float      # highest cosine similarity among the dense hits (evidence strength)
    best_lexical: float    # highest BM25 score


class HybridRetriever:
    def __init__(self, index: Index, embedder: Embedder, candidates: int = 20, rrf_k: int = 60,
                 fusion: str = "language"):
        self.index, self.embedder = index, embedder
        self.candidates, self.rrf_k, self.fusion = candidates, rrf_k, fusion

    def retrieve(self, question: str, k: int, language: str = "pl", translation: str | None = None,
                 where: Filter | None = None, words: str = "") -> Retrieval:
        """Top-k passages for a question; `translation` is its Polish rendering for English questions;
        `where` restricts the chunks searched (article ids, months) before ranking; `words` are
        searched for beside a Polish question's own (`asked.post_words`)."""
        lexical_query = translation if language == "en" and translation else f"{question} {words}".strip()
        weights = LANGUAGE_WEIGHTS["en" if language == "en" else "pl"] if self.fusion == "language" else (1.0, 1.0)
        found = self.index.search(Query(self.embedder.embed_queries([question])[0], lexical_query, self.candidates,
                                        weights, self.rrf_k, where, lemmas=language == "en" and bool(translation)))
        passages = []
        for rank, (i, score) in enumerate(found.fused[:k], start=1):
            chunk = self.index.chunks[i]
            meta = self.index.article_meta(chunk.article_id)
            passages.append(Passage(rank=rank, chunk=chunk, score=score, title=meta["title"],
                                    date=meta["date"], text=chunk.text))
        return Retrieval(passages, found.best_dense, found.best_lexical)
