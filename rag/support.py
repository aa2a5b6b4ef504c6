"""Judge whether a passage supports a sentence: the role behind citation checking and ALCE scoring.

`SimilarityJudge` is the offline default; it needs no model beyond the multilingual embedder:
  - every number in the sentence must occur in the evidence ("12 tys." == "12 000" == "12,000"), and an
    amount it gives by size alone ("several thousand") needs one of that size there;
  - the sentence's embedding must be close to the evidence's or to one of its sentences
    (the encoder is multilingual, so an English sentence can be checked against Polish text).
Its threshold is calibrated on eval/judge_calibration.jsonl (`rag eval --calibrate`; README).
Word overlap was measured as a signal too and added nothing (README), so it is not used.
`GateJudge` is the pipeline's citation checker: looser, because real answers from a small model
restate passages in a mixed register where embedding similarity alone runs low; its job is to catch
text from the model's own knowledge (names and numbers no passage holds) and citations to the wrong
passage. The benchmark scores with the stricter, calibrated `SimilarityJudge`, so the checker is
not graded by itself.
`NLIJudge` uses a cross-encoder NLI model (e.g. an mDeBERTa XNLI model from the hub) when configured.
"""
from __future__ import annotations

import re
from typing import Protocol

import numpy as np

from .chunking import sentence_spans
from .citations import strip_markers
from .lexical import STOPWORDS, fold

# a number as written, with its scale word ("12 tys.", "3,5 mln"); rag/terms.py reads numbers by it too
NUMBER = re.compile(r"(?<!\w)\d+(?:[ \u00a0.,]\d{3})*(?:[.,]\d+)?(?:\s*(?:tys\.?|thousand|mln|million|milion\w*))?", re.I)
# "od 10 do 12 tysięcy": the first number of a range takes the scale written after the second
_RANGE = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)\s*(?:do|to|-|–)\s*\d+(?:[.,]\d+)?\s*"
                    r"(tys|thousand|mln|million|milion)", re.I)
# thousands in words: "trzech tysięcy" is 3000 (stems of the number words, folded)
NUMBER_WORDS = {"dw": 2, "trz": 3, "czter": 4, "pi": 5, "sze": 6, "siedem": 7, "siedm": 7, "osiem": 8, "osm": 8,
                "dziewi": 9, "dziesi": 10}
THOUSANDS_IN_WORDS = (r"(?:dwa|dwie|dwóch|trzy|trzech|cztery|czterech|pięć|pięciu|sześć|sześciu|siedem|siedmiu|osiem|"
                      r"ośmiu|dziewięć|dziewięciu|dziesięć|dziesięciu) tysi[ąęe]\w*")
_IN_WORDS = re.compile(rf"\b{THOUSANDS_IN_WORDS}", re.I)
# one thousand, written as a word: "około tysiąca inżynierów", "a thousand engineers"
_A_THOUSAND = re.compile(r"(?<!\d )(?<!\d)\b(?:tysi[aą]c(?:a|em|u)?|(?:a|one) thousand)\b(?![ \u00a0]\d)", re.I)
# amounts said by their size alone: "several thousand", "setki systemów", "millions"
_MAGNITUDE = {100: re.compile(r"\b(?:hundreds?|set(?:ki|ek|kami|kach)|kilk(?:a|u)set)\b", re.I),
              1000: re.compile(r"\b(?:thousands?|tysi[aąęe]\w*|tys\.?)(?!\w)", re.I),
              10**6: re.compile(r"\b(?:millions?|milion\w*|mln)\b", re.I),
              10**9: re.compile(r"\b(?:billions?|miliard\w*|mld)\b", re.I)}


class Judge(Protocol):
    id: str

    # `question`: the question being answered, for judges that let its words count as known
    def score(self, sentence: str, evidence: str, question: str = "") -> float: ...   # higher = more supported

    def supports(self, sentence: str, evidence: str, question: str = "") -> bool: ...


def _scale(text: str) -> int:
    """The multiplier a scale word in `text` gives: tys./thousand 1000, mln/million 1000000, else 1."""
    text = text.lower()
    return 1000 if re.search(r"tys|thousand", text) else 1_000_000 if re.search(r"mln|million|milion", text) else 1


def numbers(text: str) -> set[float]:
    """Numeric values mentioned: '12 tys.' and '12 000' both give 12000.0; years stay years; a
    range's first number takes the scale of its second, and thousands may be written in words.

    >>> sorted(numbers("12 tys. żołnierzy, 3,5 mln i 2024 r. (pytanie Q16)"))
    [2024.0, 12000.0, 3500000.0]
    >>> sorted(numbers("od 10 do 12 tysięcy żołnierzy i ok. trzech tysięcy osób"))
    [10.0, 3000.0, 10000.0, 12000.0]
    """
    return {value for value, _, _ in number_spans(text)}


def number_spans(text: str) -> list[tuple[float, int, int]]:
    """(value, start, end) of every number `numbers` reads, where it is written in `text`.

    >>> number_spans("wysłała 12 tys. żołnierzy")
    [(12000.0, 8, 15)]
    """
    found = []
    for m in _RANGE.finditer(text):
        found.append((float(m.group(1).replace(",", ".")) * _scale(m.group(2)), m.start(), m.end()))
    for m in _IN_WORDS.finditer(text):
        stem = fold(m.group(0).split()[0])
        found.append((next(n for prefix, n in NUMBER_WORDS.items() if stem.startswith(prefix)) * 1000.0,
                      m.start(), m.end()))
    for m in _A_THOUSAND.finditer(text):
        found.append((1000.0, m.start(), m.end()))
    for m in NUMBER.finditer(text):
        raw = m.group(0).lower()
        mult = _scale(raw)
        digits = re.sub(r"[^\d.,\s\u00a0]", "", raw).strip()
        digits = re.sub(r"(?<=\d)[ \u00a0.,](?=\d{3}\b)", "", digits).replace(" ", "").replace(",", ".")
        try:
            found.append((float(digits.strip(".")) * mult, m.start(), m.end()))
        except ValueError:
            continue
    return found


def magnitudes(text: str) -> set[int]:
    """The sizes of the amounts `text` gives, in words or in figures: "several thousand" and
    "14 tys." both give 1000.

    >>> sorted(magnitudes("kilka tysięcy żołnierzy i setki systemów")), magnitudes("14 000 osób, 12 godzin")
    ([100, 1000], {1000})
    """
    found = {size for size, pattern in _MAGNITUDE.items() if pattern.search(text)}
    sizes = sorted(_MAGNITUDE)
    return found | {size for value in numbers(text) for size, below in zip(sizes, [*sizes[1:], 10**12])
                    if size <= value < below and not (1900 <= value <= 2100 and value.is_integer())}


def said_in_words(text: str) -> set[int]:
    """The sizes of the amounts `text` says by size alone ("several thousand", "setki"), not
    those it gives as numbers ("5 thousand", "trzech tysięcy", "tysiąca").

    >>> said_in_words("several thousand troops"), said_in_words("5 thousand troops, about a thousand engineers")
    ({1000}, set())
    """
    rest = _A_THOUSAND.sub(" ", _IN_WORDS.sub(" ", NUMBER.sub(" ", text)))
    return {size for size, pattern in _MAGNITUDE.items() if pattern.search(rest)}


class SimilarityJudge:
    id = "similarity"

    def __init__(self, embedder, threshold: float = 0.525):
        self.embedder, self.threshold = embedder, threshold

    def score(self, sentence: str, evidence: str, question: str = "") -> float:
        claimed = numbers(sentence)
        if claimed and not claimed <= numbers(evidence):
            return 0.0
        vague = said_in_words(sentence)          # "several thousand mine detectors" from a sentence with no amount
        if vague and not vague <= magnitudes(evidence):
            return 0.0
        pieces = [evidence[s:e] for s, e in sentence_spans(evidence)]
        # whole evidence plus each of its sentences: a claim may restate one sentence or sum up several
        vecs = self.embedder.embed_passages([sentence, evidence, *pieces])
        return float(np.max(vecs[1:] @ vecs[0]))

    def supports(self, sentence: str, evidence: str, question: str = "") -> bool:
        return self.score(sentence, evidence) >= self.threshold


_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_TRANSLIT = (("sh", "sz"), ("ch", "cz"), ("v", "w"), ("y", "j"), ("oi", "oj"), ("kh", "ch"), ("ts", "c"))


def transliterate(word: str) -> str:
    """Fold and bring English spellings of Slavic names near Polish ones: Shoigu -> szojgu ~ Szojgu."""
    word = fold(word)
    for a, b in _TRANSLIT:
        word = word.replace(a, b)
    return word


# English month and weekday names: capitalised, yet dates, which the answer check matches by their
# Polish words ("November" ~ "w listopadzie", rag/terms.py); as names they met nothing in Polish
_DATE_WORDS = frozenset("january february march april may june july august september october november december "
                        "monday tuesday wednesday thursday friday saturday sunday".split())


def names(text: str) -> set[str]:
    """Capitalised words that are not the first word, as 4-letter transliterated keys.
    Acronyms (KRLD, HUR, NIS) are left out: they are often expanded or swapped for a synonym;
    so are English month and weekday names.

    >>> sorted(names("Then Budanov met Shoigu in Pyongyang on Tuesday, in November"))
    ['buda', 'pjon', 'szoj']
    """
    words = _WORD.findall(text)
    return {transliterate(w)[:4] for i, w in enumerate(words)
            if i > 0 and len(w) > 2 and w[0].isupper() and not w.isupper() and w.lower() not in _DATE_WORDS}


def content_keys(text: str) -> set[str]:
    return {w[:5] for w in _WORD.findall(fold(text)) if w not in STOPWORDS and len(w) > 2}


def containment(sentence: str, evidence: str) -> float:
    """Largest share of the sentence's content words found in one evidence sentence."""
    keys = content_keys(sentence)
    if not keys:
        return 0.0
    best = 0.0
    for s, e in sentence_spans(evidence) or [(0, len(evidence))]:
        ev = {k[:4] for k in content_keys(evidence[s:e])}
        best = max(best, sum(k[:4] in ev for k in keys) / len(keys))
    return best


_NOT_LATIN = re.compile(r"\w*[^\W\d_a-zA-Z\u00C0-\u024F]\w*")     # a word with a letter of another script


def adds_nothing(answer: str, question: str) -> bool:
    """True when the answer holds no word stem or number that the question does not: it restates
    the question ("Szojgu rozmawiał z Kimem [1]." for "O czym Szojgu rozmawiał z Kimem?").

    >>> adds_nothing("Szojgu rozmawiał z Kimem [1].", "O czym Szojgu rozmawiał z Kimem?")
    True
    >>> adds_nothing("Szojgu rozmawiał z Kimem o minach [1].", "O czym Szojgu rozmawiał z Kimem?")
    False

    A word in another script than Latin adds nothing either: it is the small model's garble
    ("W rosyjskiej gazете wojskowej…").
    >>> adds_nothing("Szojgu rozmawiał z Kimem о минах [1].", "O czym Szojgu rozmawiał z Kimem?")
    True
    """
    answer = _NOT_LATIN.sub(" ", strip_markers(answer))
    asked = {k[:4] for k in content_keys(question)}
    return not {k[:4] for k in content_keys(answer)} - asked and numbers(answer) <= numbers(question)


class GateJudge:
    id = "gate"

    def __init__(self, embedder, semantic: float = 0.30, contained: float = 0.5, names_share: float = 0.75):
        self.similarity = SimilarityJudge(embedder, threshold=semantic)
        self.contained, self.names_share = contained, names_share
        self.threshold = 0.5

    def score(self, sentence: str, evidence: str, question: str = "") -> float:
        """Names the question itself uses count as known: an English answer repeats "Russia" from
        the question, which Polish passages spell "Rosja"."""
        wanted = names(sentence)
        if wanted:
            found = {transliterate(w)[:4] for w in _WORD.findall(evidence + " " + question)}
            if len(wanted & found) / len(wanted) < self.names_share:
                return 0.0
        semantic = self.similarity.score(sentence, evidence)     # 0.0 when a number is missing
        if semantic == 0.0:
            return 0.0
        passed = semantic >= self.similarity.threshold or containment(sentence, evidence) >= self.contained
        return 0.5 + semantic / 2 if passed else semantic / 2

    def supports(self, sentence: str, evidence: str, question: str = "") -> bool:
        return self.score(sentence, evidence, question) >= self.threshold


class NLIJudge:
    """Entailment probability from a sentence-transformers CrossEncoder NLI model (hub id or directory)."""

    def __init__(self, model: str, threshold: float = 0.5):
        self.id = f"nli:{model}"
        self.model_name, self.threshold = model, threshold
        self._model = None

    def score(self, sentence: str, evidence: str, question: str = "") -> float:
        if self._model is None:
            from sentence_transformers import CrossEncoder
            self._model = CrossEncoder(self.model_name, device="cpu")
        logits = np.asarray(self._model.predict([(evidence, sentence)]))[0]
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        labels = {v.lower(): k for k, v in self._model.model.config.id2label.items()}
        return float(probs[labels.get("entailment", 0)])

    def supports(self, sentence: str, evidence: str, question: str = "") -> bool:
        return self.score(sentence, evidence) >= self.threshold
