"""Benchmark metrics as pure functions over eval items and answer JSON (`Answer.to_json()`).

Works on JSON, not live objects, so cached generations can be re-scored with another judge.
Citation scores follow ALCE (Gao et al. 2023):
  - recall of a sentence: 1 if it has citations and their passages together support it, else 0;
    a sentence citing a passage out of range gets 0;
  - a citation is precise unless the sentence is not supported by its citations together, or the
    citation alone does not support it while the sentence's other citations do (a redundant citation).
"""
from __future__ import annotations

import math
import re
import statistics

from .citations import answer_sentences, marker_numbers, strip_markers
from .language import detect
from .lexical import fold


def quote_span(article_text: str, quote: str) -> tuple[int, int] | None:
    i = article_text.find(quote)
    return (i, i + len(quote)) if i >= 0 else None


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def gold_spans(item: dict, articles: dict[str, str]) -> list[tuple[str, tuple[int, int]]]:
    """[(article id, (start, end))] of the item's evidence quotes."""
    out = []
    for ev in item.get("evidence", []):
        span = quote_span(articles.get(ev["article_id"], ""), ev["quote"])
        if span:
            out.append((ev["article_id"], span))
    return out


def retrieval_scores(ranked: list[tuple[str, int, int]], gold: list[tuple[str, tuple[int, int]]],
                     k_in_prompt: int) -> dict:
    """ranked: [(article id, start, end)] best first. A passage is relevant when it overlaps a gold span.

    >>> r = retrieval_scores([("a", 0, 10), ("b", 0, 50)], [("b", (20, 30))], 2)
    >>> r["hit@1"], r["hit@3"], r["mrr@10"], r["evidence_recall"]
    (0.0, 1.0, 0.5, 1.0)
    """
    def relevant(p):
        return any(p[0] == art and overlaps((p[1], p[2]), span) for art, span in gold)
    first = next((i for i, p in enumerate(ranked[:10], start=1) if relevant(p)), None)
    covered = [any(p[0] == art and overlaps((p[1], p[2]), span) for p in ranked[:k_in_prompt]) for art, span in gold]
    return {
        "hit@1": float(first is not None and first <= 1),
        "hit@3": float(first is not None and first <= 3),
        "hit@5": float(first is not None and first <= 5),
        "mrr@10": 1.0 / first if first else 0.0,
        "evidence_recall": sum(covered) / len(covered) if covered else 0.0,
    }


def in_prompt(gold: list[tuple[str, tuple[int, int]]], shown: list[tuple[str, str]], articles: dict[str, str]) -> float:
    """Share of the gold spans that the prompt shows whole. `shown`: (article id, passage text as
    the prompt showed it: its chosen sentences joined by " … "). Unlike `evidence_recall` (a gold
    span in a prompt passage's chunk), this counts only the sentences the model was shown.

    >>> art = {"a": "Ala ma kota. Kot ma Alę. Pies nie."}
    >>> in_prompt([("a", (0, 12)), ("a", (13, 24))], [("a", "Ala ma kota. … Pies nie.")], art)
    0.5
    """
    if not gold:
        return 0.0
    covered: dict[str, list[tuple[int, int]]] = {}
    for article_id, text in shown:
        article = articles.get(article_id, "")
        for piece in (p.strip() for p in text.split(" … ")):
            start = article.find(piece)
            if piece and start >= 0:
                covered.setdefault(article_id, []).append((start, start + len(piece)))
    return sum(any(s <= span[0] and span[1] <= e for s, e in covered.get(art, ())) for art, span in gold) / len(gold)


def has_fact(answer: str, variants: list[str]) -> bool:
    text = fold(answer)
    return any(fold(v) in text for v in variants)


def fact_accuracy(answer: str, facts: list[list[str]]) -> float:
    """1.0 when every fact appears in the answer in one of its accepted variants."""
    return float(all(has_fact(answer, variants) for variants in facts)) if facts else 1.0


def alce(answer: str, passages: list[str], supports) -> dict:
    """ALCE citation recall and precision of one answer. `supports(sentence, evidence) -> bool`.

    passages[i] is the text of passage [i+1]. Returns {"recall", "precision", "sentences", "citations"};
    recall/precision are None when there is nothing to score.
    """
    recall_hits = sentences = precise = total = 0
    for sentence in answer_sentences(answer):
        claim = strip_markers(sentence)
        if not claim:
            continue
        sentences += 1
        cited = list(dict.fromkeys(marker_numbers(sentence)))
        total += len(cited)
        if not cited or any(not 1 <= n <= len(passages) for n in cited):
            continue                     # no citation, or one pointing nowhere: recall 0, precision 0
        joint = supports(claim, "\n".join(passages[n - 1] for n in cited))
        recall_hits += joint
        if not joint:
            continue
        if len(cited) == 1:
            precise += 1
            continue
        for n in cited:
            alone = supports(claim, passages[n - 1])
            rest = [m for m in cited if m != n]
            redundant = not alone and supports(claim, "\n".join(passages[m - 1] for m in rest))
            precise += not redundant
    return {"recall": recall_hits / sentences if sentences else None,
            "precision": precise / total if total else None,
            "sentences": sentences, "citations": total}


def cites_gold(citations: list[dict], gold: list[tuple[str, tuple[int, int]]], chunks: dict) -> bool:
    """True when a citation's passage (chunk) overlaps a gold evidence span."""
    for c in citations:
        art, start, end = chunks.get(c["chunk_id"], (c["article_id"], c["start"], c["end"]))
        if any(art == g_art and overlaps((start, end), span) for g_art, span in gold):
            return True
    return False


def refusal_scores(pairs: list[tuple[bool, bool]]) -> dict:
    """pairs: (answerable, refused). Refusing an unanswerable item is a true positive.

    >>> refusal_scores([(False, True), (False, False), (True, True), (True, False)])
    {'precision': 0.5, 'recall': 0.5, 'f1': 0.5, 'false_refusal_rate': 0.5}
    """
    tp = sum(not a and r for a, r in pairs)
    fp = sum(a and r for a, r in pairs)
    fn = sum(not a and not r for a, r in pairs)
    answerable = sum(a for a, _ in pairs)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "false_refusal_rate": fp / answerable if answerable else 0.0}


def language_match(answer: str, language: str) -> float:
    return float(detect(strip_markers(answer)) == language)


# spellings English words hardly have: a Polish letter, "sz", "cz", "rz", "dz", a final "-ij" ("Szojgu",
# "Kim Dzong Un", "Dmitrij", "Generał"); "Pieskow" or "Seul" pass unseen, so the share is a floor
_POLISH_SPELT = re.compile(r"[ąćęłńóśźż]|sz|cz|rz|dz|ij$", re.I)


def polish_spelling(answer: str, language: str, refused: bool) -> float | None:
    """For an English answer, 1.0 when a word of it is spelt the Polish way (None: a Polish question or a refusal).

    >>> polish_spelling("Dmitrij Pieskow said so [1].", "en", False), polish_spelling("Dmitry Peskov said so [1].", "en", False)
    (1.0, 0.0)
    """
    if language != "en" or refused:
        return None
    return float(any(_POLISH_SPELT.search(w) for w in re.findall(r"[^\W\d_]+", answer)))


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


def mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else None
