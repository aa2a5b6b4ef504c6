"""The nouns every module passes around: articles, chunks, passages, citations, answers.

Offsets are character offsets into the article file's text exactly as read from disk
(UTF-8 decoded, nothing stripped), so `article.text[start:end]` is the span a citation shows.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Article:
    id: str            # file stem, e.g. "001_345fe1ab6c1f8ba1"
    title: str
    date: str | None   # "YYYY-MM" or "YYYY-MM-DD" from a leading " date ..." line
    text: str          # the whole file, as read
    body: tuple[tuple[int, int], ...]  # spans of `text` that are reporting (furniture and comments left out)
    sha256: str        # of the file's text, drives incremental indexing


@dataclass(frozen=True)
class Chunk:
    id: str            # "<article_id>#<n>"
    article_id: str
    start: int
    end: int
    text: str          # == article.text[start:end]


@dataclass(frozen=True)
class Passage:
    rank: int          # 1-based position in the retrieved list, also the [n] the prompt uses
    chunk: Chunk
    score: float       # fused retrieval score (higher is better)
    title: str = ""
    date: str | None = None
    text: str = ""     # what the prompt shows; may be pruned to the relevant sentences of chunk.text


@dataclass(frozen=True)
class Citation:
    marker: int        # the n of [n] as it appears in the answer
    chunk_id: str
    article_id: str
    title: str
    date: str | None
    quote: str         # exact substring of the article text at [start, end)
    start: int
    end: int
    supported: bool = True   # False when the support check could not confirm it (shown with a mark)


@dataclass
class Timings:
    retrieve_ms: float = 0.0
    ttft_ms: float = 0.0
    total_ms: float = 0.0


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class Answer:
    question: str
    language: str                       # "pl" | "en"
    answer: str
    refused: bool
    citations: list[Citation]
    passages: list[Passage]
    timings: Timings = field(default_factory=Timings)
    usage: Usage = field(default_factory=Usage)
    models: dict = field(default_factory=dict)    # {"embedder", "llm", "llm_file", "llm_load"}
    retrieval_query: str | None = None            # the standalone question used for retrieval, when rewritten
    translation: str | None = None                # Polish search words of an English question (BM25, pruning)
    ranking: list[str] = field(default_factory=list)   # retrieved chunk ids, best first, deeper than k
    evidence_score: float = 0.0         # 0..1: judge support of the kept sentences x their share (0 when refused)
    missing: list[str] = field(default_factory=list)   # the question's terms no passage holds (premise check)
    dropped: list[str] = field(default_factory=list)   # answer sentences removed by the check, with why
    polish: str | None = None           # the checked Polish answer an English answer was translated from
    scope: str = ""                     # with a filter on: what was searched and the period drawn on
    no_answer_p: float | None = None    # how likely the model's first token was NO ANSWER's (None: not measured)
    looked_again: bool = False          # answered from the next-best sentences after a refusal (second_look)

    def to_json(self) -> dict:
        """The JSON contract of `rag ask --json` (one object per question)."""
        return {
            "question": self.question,
            "language": self.language,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [asdict(c) for c in self.citations],
            "passages": [
                {"rank": p.rank, "chunk_id": p.chunk.id, "article_id": p.chunk.article_id,
                 "score": round(p.score, 6), "text": p.chunk.text, "shown": p.text or p.chunk.text}
                for p in self.passages
            ],
            "timings": {k: round(v, 1) for k, v in asdict(self.timings).items()},
            "usage": asdict(self.usage),
            "models": dict(self.models),
            **({"scope": self.scope} if self.scope else {}),
            **({"no_answer_p": round(self.no_answer_p, 4)} if self.no_answer_p is not None else {}),
            **({"looked_again": True} if self.looked_again else {}),
        }
