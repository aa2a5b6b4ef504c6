"""Judge whether a passage supports a sentence: the role behind citation checking and ALCE scoring.

`OverlapJudge` is the offline default. It needs no model beyond the embedder already loaded:
  - every number in the sentence must occur in the evidence ("12 tys." == "12 000" == "12,000");
  - the sentence's content words (folded, cut to a prefix, so Budanov meets Budanow) are mostly
    found in the evidence, or the multilingual embedding of sentence and evidence is close.
Its thresholds are calibrated on eval/judge_calibration.jsonl (`rag eval --calibrate`).
`NLIJudge` uses a cross-encoder NLI model (e.g. an mDeBERTa XNLI model from the hub) when configured.
"""
from __future__ import annotations

import re
from typing import Protocol

import numpy as np

from .chunking import sentence_spans
from .lexical import STOPWORDS, fold

_NUM = re.compile(r"\d+(?:[ \u00a0.,]\d{3})*(?:[.,]\d+)?(?:\s*(?:tys\.?|thousand|mln|million|milion\w*))?", re.I)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class Judge(Protocol):
    id: str

    def score(self, sentence: str, evidence: str) -> float: ...   # higher = more supported

    def supports(self, sentence: str, evidence: str) -> bool: ...


def numbers(text: str) -> set[float]:
    """Numeric values mentioned: '12 tys.' and '12 000' both give 12000.0; years stay years.

    >>> sorted(numbers("12 tys. żołnierzy, 3,5 mln i 2024 r."))
    [2024.0, 12000.0, 3500000.0]
    """
    found = set()
    for m in _NUM.finditer(text):
        raw = m.group(0).lower()
        mult = 1000 if re.search(r"tys|thousand", raw) else 1_000_000 if re.search(r"mln|million|milion", raw) else 1
        digits = re.sub(r"[^\d.,\s\u00a0]", "", raw).strip()
        digits = re.sub(r"(?<=\d)[ \u00a0.,](?=\d{3}\b)", "", digits).replace(" ", "").replace(",", ".")
        try:
            found.add(float(digits.strip(".")) * mult)
        except ValueError:
            continue
    return found


def content_keys(text: str, prefix: int = 5) -> set[str]:
    return {w[:prefix] for w in _WORD.findall(fold(text)) if w not in STOPWORDS and len(w) > 2 and not w.isdigit()}


class OverlapJudge:
    id = "overlap"

    def __init__(self, embedder=None, lexical_threshold: float = 0.5, semantic_threshold: float = 0.55,
                 weight: float = 0.5, threshold: float = 0.5):
        self.embedder = embedder
        self.lexical_threshold, self.semantic_threshold = lexical_threshold, semantic_threshold
        self.weight, self.threshold = weight, threshold

    def lexical(self, sentence: str, evidence: str) -> float:
        keys = content_keys(sentence)
        if not keys:
            return 0.0
        ev = content_keys(evidence) | content_keys(evidence, prefix=4)
        return sum(k in ev or k[:4] in ev for k in keys) / len(keys)

    def semantic(self, sentence: str, evidence: str) -> float:
        if self.embedder is None:
            return 0.0
        pieces = [evidence[s:e] for s, e in sentence_spans(evidence)] or [evidence]
        # whole evidence plus each sentence: a claim may restate one sentence or sum up two
        vecs = self.embedder.embed_passages([sentence, evidence, *pieces])
        return float(np.max(vecs[1:] @ vecs[0]))

    def score(self, sentence: str, evidence: str) -> float:
        claimed = numbers(sentence)
        if claimed and not claimed <= numbers(evidence):
            return 0.0
        lex = self.lexical(sentence, evidence)
        if self.embedder is None:
            return lex
        sem = self.semantic(sentence, evidence)
        # map each signal to [0, 1] around its own threshold, then mix
        return self.weight * min(lex / (2 * self.lexical_threshold), 1.0) + \
            (1 - self.weight) * min(max((sem - self.semantic_threshold) / (1 - self.semantic_threshold) + 0.5, 0.0), 1.0)

    def supports(self, sentence: str, evidence: str) -> bool:
        return self.score(sentence, evidence) >= self.threshold


class NLIJudge:
    """Entailment probability from a sentence-transformers CrossEncoder NLI model (hub id or directory)."""

    def __init__(self, model: str, threshold: float = 0.5):
        self.id = f"nli:{model}"
        self.model_name, self.threshold = model, threshold
        self._model = None

    def score(self, sentence: str, evidence: str) -> float:
        if self._model is None:
            from sentence_transformers import CrossEncoder
            self._model = CrossEncoder(self.model_name, device="cpu")
        logits = np.asarray(self._model.predict([(evidence, sentence)]))[0]
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        labels = {v.lower(): k for k, v in self._model.model.config.id2label.items()}
        return float(probs[labels.get("entailment", 0)])

    def supports(self, sentence: str, evidence: str) -> bool:
        return self.score(sentence, evidence) >= self.threshold
