"""Find the [n] markers in an answer and turn them into citations of exact article spans.

Markers may be `[1]`, `[1, 2]`, `[1; 2]` or `[1][2]`. A marker that points at no passage is dropped
from the text. Each citation quotes the sentence of the cited passage, among those the prompt
showed, that best matches the answer sentence carrying the marker, with its offsets in the
article file.

    >>> parse_markers("Kim rządzi [1]. Rosja płaci [2, 3][4].")
    [('Kim rządzi [1].', [1]), ('Rosja płaci [2, 3][4].', [2, 3, 4])]
"""
from __future__ import annotations

import re

from .chunking import sentence_spans
from .lexical import tokens
from .types import Citation, Passage

MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]")


def marker_numbers(text: str) -> list[int]:
    return [int(n) for m in MARKER.finditer(text) for n in re.split(r"\s*[,;]\s*", m.group(1))]


def answer_sentences(answer: str) -> list[str]:
    """Split an answer into sentences, keeping trailing markers with the sentence they close:
    'A [1]. B.' and 'A. [1] B.' both give 'A [1].'-style pieces that own marker 1."""
    # move markers that follow the full stop in front of it: "fact. [1]" -> "fact [1]."
    answer = re.sub(r"([.!?])((?:\s*\[[\d,;\s]+\])+)", lambda m: m.group(2) + m.group(1), answer)
    return [answer[s:e] for s, e in sentence_spans(answer)]


def parse_markers(answer: str) -> list[tuple[str, list[int]]]:
    return [(s, list(dict.fromkeys(marker_numbers(s)))) for s in answer_sentences(answer)]


def strip_markers(text: str) -> str:
    """`text` without its markers, and without the space before each ("Ryder [1] dowodzący")."""
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]*" + MARKER.pattern, "", text)).strip()


def drop_invalid_markers(answer: str, n_passages: int) -> str:
    """Remove numbers outside 1..n_passages from markers, and markers left empty."""
    def fix(m: re.Match) -> str:
        keep = [n for n in re.split(r"\s*[,;]\s*", m.group(1)) if 1 <= int(n) <= n_passages]
        return f"[{', '.join(keep)}]" if keep else ""
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", MARKER.sub(fix, answer))


def best_sentence(claim: str, passage: Passage) -> tuple[int, int]:
    """Offsets within the chunk of the passage sentence sharing most tokens with the claim, among
    the sentences the prompt showed of it (`passage.text`), so the reader is led to what the model
    read; among all the chunk's when none of them is shown whole."""
    text = passage.chunk.text
    spans = sentence_spans(text) or [(0, len(text))]
    spans = [(s, e) for s, e in spans if passage.text and text[s:e].strip() in passage.text] or spans
    claim_tokens = set(tokens(strip_markers(claim)))
    def overlap(span):
        return len(claim_tokens & set(tokens(text[span[0]:span[1]])))
    return max(spans, key=overlap)   # max keeps the first span on ties


def make_citation(marker: int, passage: Passage, claim: str, supported: bool = True,
                  span: tuple[int, int] | None = None) -> Citation:
    s, e = span if span is not None else best_sentence(claim, passage)
    chunk = passage.chunk
    return Citation(marker=marker, chunk_id=chunk.id, article_id=chunk.article_id, title=passage.title,
                    date=passage.date, quote=chunk.text[s:e], start=chunk.start + s, end=chunk.start + e,
                    supported=supported)


def cite(answer: str, passages: list[Passage]) -> tuple[str, list[Citation]]:
    """(answer with invalid markers removed, one citation per distinct (marker, sentence))."""
    answer = drop_invalid_markers(answer, len(passages))
    citations, seen = [], set()
    for sentence, numbers in parse_markers(answer):
        for n in numbers:
            c = make_citation(n, passages[n - 1], sentence)
            if (n, c.start) not in seen:
                seen.add((n, c.start))
                citations.append(c)
    return answer, citations
