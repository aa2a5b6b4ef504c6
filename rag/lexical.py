"""BM25 over Polish-aware tokens: lower case, diacritics folded, words cut to a 6-character prefix.

Folding and cutting make inflected Polish forms meet ("Korei", "Koreą", "Korea" -> "korea"/"korei"
-> "korei"), and make English spellings of names land near Polish ones ("Budanov"/"Budanow" ->
"budano"). Dictionary forms (an English question's Polish words) are shorter than the words the
articles inflect from them: a short one also meets the longer words it begins (`BM25.expand`). The
inverted index keeps scoring proportional to the query's postings, not the corpus.

    >>> tokens("Północnokoreańscy żołnierze, Szojgu i 12 tys.")
    ['polnoc', 'zolnie', 'szojgu', '12', 'tys']
"""
from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections import Counter, defaultdict

import numpy as np

PREFIX = 6
_FOLD = str.maketrans({"ł": "l", "Ł": "l"})
_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    # Polish
    "a aby ale bo by był była było były być czy dla do gdy go i ich im in jak jako je jego jej jest już"
    " lub ma mu na nad nie niż o od oraz po pod przez przy są się ta tak także te tego tej to tu tym"
    " u w we z za ze że zaś który która które którzy co kto jaki jaka jakie ile kiedy gdzie dlaczego"
    # English
    " the of and or to in on at by for with from is are was were be been it its as that this these those"
    " what which who whom whose when where why how did does do has have had an a about into than"
    " according articles article say says said".split()
)


def fold(text: str) -> str:
    """Lower-case and strip diacritics: 'Łódź Żółć' -> 'lodz zolc'."""
    text = text.translate(_FOLD).lower()
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def tokens(text: str, prefix: int = PREFIX) -> list[str]:
    """Folded words without stopwords, cut to `prefix` characters. A 4-character cut also meets
    short inflected stems ("szef", "szefem" -> "szef") at the price of more false matches.

    >>> tokens("Szef HUR, szefem wywiadu", prefix=4)
    ['szef', 'hur', 'szef', 'wywi']
    """
    return [w[:prefix] for w in _WORD.findall(fold(text)) if w not in STOPWORDS and len(w) > 1 or w.isdigit()]


class BM25:
    def __init__(self, docs: list[str], k1: float = 1.2, b: float = 0.75, prefix: int = PREFIX):
        self.k1, self.b, self.prefix = k1, b, prefix
        self.n = len(docs)
        lengths = np.zeros(self.n, dtype=np.float32)
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)   # token -> [(doc, tf)]
        for i, doc in enumerate(docs):
            counts = Counter(tokens(doc, prefix))
            lengths[i] = sum(counts.values())
            for tok, tf in counts.items():
                postings[tok].append((i, tf))
        self.avgdl = float(lengths.mean()) if self.n else 0.0
        self._norm = k1 * (1 - b + b * lengths / max(self.avgdl, 1e-9))
        # token -> (doc ids, term frequencies)
        self.postings = {t: (np.array([d for d, _ in p], dtype=np.int64), np.array([f for _, f in p], dtype=np.float32))
                         for t, p in postings.items()}
        self._sorted = sorted(self.postings)       # for the words a short token begins (`expand`)

    def expand(self, token: str) -> dict[str, float]:
        """The indexed tokens a query token stands for, with their weights: itself, and when it is a
        whole word shorter than the cut (4 letters or more), the longer words it begins, which share
        its weight: "kursk" (English "Kursk") meets "kursku" and "kurski", "saper" meets "saperz".

        >>> BM25(["w Kursku pod Kurskiem", "Kursk"]).expand("kursk")
        {'kursk': 0.3333333333333333, 'kurski': 0.3333333333333333, 'kursku': 0.3333333333333333}
        """
        found = [token] if token in self.postings else []
        if 4 <= len(token) < self.prefix and token.isalpha():
            at = bisect.bisect_left(self._sorted, token)
            while at < len(self._sorted) and self._sorted[at].startswith(token):
                if self._sorted[at] != token:
                    found.append(self._sorted[at])
                at += 1
        return {t: 1.0 / len(found) for t in found}

    def meets(self, token: str, lemmas: bool = False) -> dict[str, float]:
        """The indexed tokens a query token meets, with their weights: itself if indexed, or with
        `lemmas` (a dictionary form) `expand`'s words."""
        return self.expand(token) if lemmas else {token: 1.0} if token in self.postings else {}

    def idf(self, token: str) -> float:
        df = len(self.postings[token][0]) if token in self.postings else 0
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def query_tokens(self, query: str, lemmas: bool = False) -> dict[str, float]:
        """The indexed tokens a query meets, with their weights; with `lemmas` (the query is
        dictionary forms, which Polish text inflects), a short word's longer words too (`expand`)."""
        out: dict[str, float] = defaultdict(float)
        for tok in set(tokens(query, self.prefix)):
            for t, weight in self.meets(tok, lemmas).items():
                out[t] += weight
        return dict(out)

    def scores(self, query: str, lemmas: bool = False) -> np.ndarray:
        scores = np.zeros(self.n, dtype=np.float32)
        for tok, weight in self.query_tokens(query, lemmas).items():
            ids, tf = self.postings[tok]
            scores[ids] += weight * self.idf(tok) * tf * (self.k1 + 1) / (tf + self._norm[ids])
        return scores

    def search(self, query: str, n: int, allowed: np.ndarray | None = None, lemmas: bool = False) -> list[tuple[int, float]]:
        """[(doc index, score)] best first, only documents sharing a token with the query, and only
        among the `allowed` doc indexes when given (`lemmas`: as in `query_tokens`)."""
        scores = self.scores(query, lemmas)
        if allowed is not None:
            keep = np.zeros(self.n, dtype=bool)
            keep[allowed] = True
            scores[~keep] = 0
        hit = np.flatnonzero(scores > 0)
        if hit.size == 0:
            return []
        top = hit[np.argsort(-scores[hit], kind="stable")[:n]]
        return [(int(i), float(scores[i])) for i in top]
