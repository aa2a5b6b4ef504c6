"""Evidence selection: retrieved passages -> the few sentences the prompt shows, numbered [1], [2], ...

Prompt processing is most of the time to first token on a CPU, so only the best sentences across
all retrieved passages are shown, in their original order. A sentence's score: cosine to the
question (multilingual, so English questions work), plus the idf-weighted share of the question's
words it holds, once with words cut to 6 characters and twice with words cut to 4 (short inflected
stems: "szef"/"szefem"), less a little for lower-ranked passages. The best two sentences go in,
then the next best that fit the token budget; but a best sentence that leads the second by
`margin` or more goes in alone: the second is then a distractor the small model may answer from,
and some 60 prompt tokens. A chosen sentence whose speaker or subject stands in an earlier one
("Przekazał on dziennikarzom…", "- Nigdy nie zapomnimy tej pomocy.", "… - dodał.") brings the
nearest earlier sentence of its passage that names someone and is not itself such a sentence
("Podobną narrację przyjął rzecznik Kremla Dmitrij Pieskow."), up to `antecedents` back: without
it "who said…?" cannot be answered. With `follow`, the best sentence brings the next one of its
passage when that one goes on about it ("…ponad 5 tysięcy żołnierzy… jednostek inżynieryjnych"
then "Oficjalnie mają oni wspierać odbudowę infrastruktury…"). Titles and subheadings are left out. For an
English question the words are its Polish words (by dictionary, `rag/lexicon.py`, or the model's
translation), and only words the articles contain count (a short dictionary word also meets the
longer words it begins, its inflections: "Kursk" meets "Kursku", `BM25.expand`); the dictionary's words are grouped by the
English word they render, and a sentence meets that word by any one of them (counted word by word,
"military" with its four renderings outweighed "Szef HUR"); with no Polish words at all
(`query_lexicon` and `translate_query` both off) its sentences are scored by embedding alone, since
English words meet the Polish text only by accident. Passages left with no sentence are dropped
and the rest renumbered.
Measured: README, "Levers".
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .lexical import tokens
from .terms import name_words
from .types import Passage

# a sentence whose speaker or subject stands in an earlier one: "Przekazał on dziennikarzom…",
# "- Dziękujemy… - powiedział.", "Jest to niebezpieczne… - dodał.", "Firma ta jest odpowiedzialna…"
_SPEECH = (r"(?:doda|powiedzia|stwierdzi|podkreśli|zaznaczy|oświadczy|przekaza|mówi|przekonywa|napisa|oceni|"
           r"wskaza|zauważy|zapowiedzia|zapewni|ostrzeg)\w*")
_ANAPHORIC = re.compile(rf"\b(?:on|ona|oni|one)\b|[-–—]\s*{_SPEECH}\s*[.!?]?\s*$"
                        rf"|^\s*(?:[-–—]\s|{_SPEECH}\b|\w+\s+(?:ten|ta|te|ci)\b)", re.I)
# a sentence that goes on about the one before it: a pronoun or demonstrative standing for what that
# one named ("Oficjalnie mają oni…", "wiele z tych urządzeń…", "CNN potwierdziło jej istnienie"), or
# "także/również/ponadto/dodatkowo"
_GOES_ON = re.compile(r"\b(?:on|ona|oni|one|ono|jej|jego|ich|ten|ta|te|ci|tych|tego|tej|tymi|także|również|ponadto|dodatkowo)\b",
                      re.I)


@functools.lru_cache(maxsize=1 << 14)        # the same sentences come back question after question
def _words(sentence: str, prefix: int) -> frozenset[str]:
    return frozenset(tokens(sentence, prefix))


def _wanted(bm25, groups: list[list[str]], lemmas: bool = False) -> list[dict[str, float]]:
    """Each group's tokens the articles use, with their idf (`lemmas`: a short dictionary word's
    inflections too, `BM25.expand`); a group found twice (two words of one stem) counts once."""
    out = {}
    for group in groups:
        found = {e: bm25.idf(e) for t in group for e in bm25.meets(t, lemmas)}
        if found:
            out.setdefault(frozenset(found), found)
    return list(out.values())


@dataclass
class Evidence:
    passages: list[Passage]              # pruned to their chosen sentences, renumbered 1..n
    best: list[tuple[int, int, int]]     # (passage number, start, end in the chunk), best first
    closeness: float = 1.0               # the highest cosine of any retrieved sentence to the question
    known: float = 1.0                   # the share of the question's words (or its translation's) the articles use
    shown: frozenset[tuple[str, int]] = frozenset()     # (chunk id, start) of every sentence shown


def select(passages: list[Passage], queries: list[str], index, embedder, count_tokens: Callable[[str], int],
           budget: int, by_words: bool = True, margin: float = 0.0, antecedents: int = 0,
           follow: bool = False, groups: list[str] | None = None,
           skip: frozenset[tuple[str, int]] = frozenset()) -> Evidence:
    """The sentences of `passages` that best answer `queries` (the question, then its Polish
    translation when there is one), within `budget` tokens; the best two always, unless the best
    leads the second by `margin` (0: off): then the best alone; each chosen sentence that leaves
    its speaker to an earlier one brings that one, up to `antecedents` back (0: off); with `follow`,
    the best sentence brings the next one of its passage when that one goes on about it. `by_words`
    False (an English question with no Polish words): by embedding alone. `groups`: the Polish
    words grouped by the English word they render (`lexicon.polish_groups`); a sentence meets a
    group by its best word, so a word with four renderings weighs as much as one with one
    (None: each word of the last query is its own group). `skip`: (chunk id, start) of sentences
    shown before (`Evidence.shown`), which are not chosen again, except as a speaker's antecedent."""
    lexical = queries[-1:] if len(queries) > 1 else queries      # the translation, when there is one
    flat, texts, headings, vectors = [], [], [], []
    for i, p in enumerate(passages):
        for s, e, heading in index.sentences[p.chunk.id]:
            flat.append((i, (s, e)))
            texts.append(p.chunk.text[s:e])
            headings.append(heading)
        vectors.append(index.sentence_vectors(p.chunk, embedder))
    scores = (np.vstack(vectors) @ embedder.embed_queries(queries).T).max(axis=1)
    closeness = float(scores.max()) if len(scores) else 0.0
    words = {t for q in lexical for t in tokens(q)}
    lemmas = len(queries) > 1          # dictionary words: "Kursk" meets "Kursku" (`BM25.expand`)
    known = sum(bool(index.bm25.meets(t, lemmas)) for t in words) / len(words) if words else 0.0
    for bm25, prefix, weight in ((index.bm25, 6, 1.0), (index.sentence_bm25, 4, 2.0)) if by_words else ():
        wanted = _wanted(bm25, [tokens(g, prefix) for g in groups] if groups else
                         [[t] for q in lexical for t in tokens(q, prefix)], lemmas)
        total = sum(max(g.values()) for g in wanted) or 1.0
        for j, text in enumerate(texts):
            held = _words(text, prefix)
            scores[j] += weight * sum(max((v for t, v in g.items() if t in held), default=0.0) for g in wanted) / total
    for j in range(len(flat)):
        scores[j] -= 0.05 * flat[j][0]
    order = sorted((j for j in range(len(flat)) if (passages[flat[j][0]].chunk.id, flat[j][1][0]) not in skip),
                   key=lambda j: (headings[j], -scores[j]))
    alone = margin > 0 and len(order) > 1 and scores[order[0]] - scores[order[1]] >= margin
    chosen, used = [], 0
    for j in order:
        if headings[j] and chosen or alone and chosen:
            break                     # titles and subheadings carry no facts of their own
        size = count_tokens(texts[j])
        if len(chosen) < 2 or used + size <= budget:      # the best two always: one rarely says it all
            chosen.append(j)
            used += size
    for j in list(chosen) if antecedents else ():         # the speaker of "- … - dodał."
        if _ANAPHORIC.search(texts[j]):
            for back in range(j - 1, max(j - 1 - antecedents, -1), -1):
                if flat[back][0] != flat[j][0] or headings[back]:
                    break
                if name_words(texts[back]) and not _ANAPHORIC.search(texts[back]):
                    if back not in chosen:
                        chosen.append(back)
                    break
    after = chosen[0] + 1 if follow and chosen else len(flat)      # "Oficjalnie mają oni wspierać…"
    if after < len(flat) and flat[after][0] == flat[chosen[0]][0] and not headings[after] \
            and after not in chosen and _GOES_ON.search(texts[after]):
        chosen.append(after)
    pruned, number = [], {}
    for i, p in enumerate(passages):
        keep = sorted(flat[j][1] for j in chosen if flat[j][0] == i)
        if keep:
            number[i] = len(pruned) + 1
            pruned.append(replace(p, rank=number[i], text=" … ".join(p.chunk.text[s:e] for s, e in keep)))
    return Evidence(pruned, [(number[flat[j][0]], *flat[j][1]) for j in chosen], closeness, known,
                    frozenset((passages[flat[j][0]].chunk.id, flat[j][1][0]) for j in chosen))
