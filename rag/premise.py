"""Premise check: a question whose own names, numbers or months occur in none of the retrieved
passages, or whose names occur only in different articles, is not answered; the refusal names
what is missing.

A small model restates a false premise as fact ("Finland sent deminers because… [1]"), citing a
passage on the same topic, so the pipeline checks the premise before any answer is written. For an
English question the Polish translation is checked too, and a term counts as missing only when
the translation also misses something: English spellings of names that transliteration and the
small word map in `rag/terms.py` do not bring to their Polish form would otherwise be refused.
A capital standing for its government ("według Kijowa") is found where its country is.

    >>> from rag.types import Chunk, Passage
    >>> p = [Passage(1, Chunk("a#0", "a", 0, 40, "Korea Północna wysłała saperów do Kurska."), 1.0)]
    >>> gaps("Dlaczego Finlandia wysłała saperów do Kurska?", None, p)
    ['Finlandia']
    >>> refusal(["Finland"], "en")
    'The articles do not mention Finland, so they cannot answer this question as asked.'
    >>> q = [Passage(1, Chunk("a#0", "a", 0, 30, "Zełenski rozmawiał z Jun Suk Jeolem."), 1.0),
    ...      Passage(2, Chunk("b#0", "b", 0, 30, "Szojgu rozmawiał z Kim Dzong Unem."), 1.0)]
    >>> apart("Dlaczego Zełenski spotkał się z Kim Dzong Unem?", q)
    ['Zełenski', 'Kim Dzong Unem']
    >>> refusal(apart("Dlaczego Zełenski spotkał się z Kim Dzong Unem?", q), "pl", together=True)
    'Artykuły nie wspominają o: Zełenski razem z: Kim Dzong Unem, więc nie odpowiadają na tak postawione pytanie.'
    >>> apart("Z kim rozmawiał Zełenski i o czym Szojgu rozmawiał z Kim Dzong Unem?", q)   # two parts, two articles
    []
"""
from __future__ import annotations

from . import asked
from .support import transliterate
from .terms import TermIndex, implied, key_terms, missing, name_words, word_keys
from .types import Passage


def gaps(question: str, translation: str | None, passages: list[Passage]) -> list[str]:
    """The question's key terms (as written in it) that no retrieved passage holds: its names,
    numbers and months, and what it implies without capitals ("turecki wywiad", "ONZ")."""
    text = "\n".join(p.chunk.text for p in passages)
    index = TermIndex(text)

    def lacking(words: str) -> list[str]:
        return [*missing(key_terms(words), index), *(w for w, holds in implied(words) if not holds(text))]

    found = [term for term in lacking(question) if not _capital_of(term, index)]
    if found and translation and not lacking(translation):
        return []
    return list(dict.fromkeys(found))


# a capital stands for its government in the news ("według Kijowa", "Washington says"): one the
# passages lack is no missing premise when they hold its country. Transliterated stem -> the city
# (English and Polish spellings meet there) -> its country's keys
_CAPITALS = {"kijo": "kyiv", "kjiw": "kyiv", "kiew": "kyiv", "waszjng": "washington", "waszing": "washington",
             "pekin": "beijing", "beijing": "beijing", "tokio": "tokyo", "tokjo": "tokyo", "mins": "minsk",
             "teheran": "tehran", "moskw": "moscow", "moscow": "moscow", "pjongj": "pyongyang", "seul": "seoul",
             "seoul": "seoul"}
_COUNTRY = {"kyiv": ("ukra",), "washington": ("usa", "amer"), "beijing": ("chin",), "tokyo": ("japo",),
            "minsk": ("bial",), "tehran": ("iran",), "moscow": ("rosj",), "pyongyang": ("kore",), "seoul": ("kore",)}


def capital(word: str) -> str | None:
    """The capital city a word names, in any spelling or case, else None.

    >>> capital("Moskwie"), capital("Moscow's"), capital("Pyongyang"), capital("Kursk")
    ('moscow', 'moscow', 'pyongyang', None)
    """
    spelled = transliterate(word)
    return next((city for stem, city in _CAPITALS.items() if spelled.startswith(stem)), None)


def _capital_of(term: str, index: TermIndex) -> bool:
    """True when `term` is one word, a capital whose country `index` holds.

    >>> _capital_of("Kijowa", TermIndex("Ukraiński wywiad oszacował…")), _capital_of("Kijowa", TermIndex("Rosja"))
    (True, False)
    """
    city = capital(term) if " " not in term.strip() else None
    return any(key in index.keys for key in _COUNTRY.get(city, ()))


def apart(question: str, passages: list[Passage]) -> list[str]:
    """The names (as written) of a part of the question when no one article among the retrieved
    passages holds them all: a premise linking what the articles never link ("Zelensky met Kim
    Jong Un", each named, in different articles). A question of two parts ("…, and how many
    more…?") is checked part by part. Names no passage holds are left to `gaps`; [] when together."""
    for part in asked.parts(question):
        names = _apart(part, passages)
        if names:
            return names
    return []


def _apart(question: str, passages: list[Passage]) -> list[str]:
    by_article: dict[str, list[str]] = {}
    for p in passages:
        by_article.setdefault(p.chunk.article_id, []).append(p.chunk.text)
    articles = [TermIndex("\n".join(texts)) for texts in by_article.values()]
    known = name_words(question + "\n" + "\n".join(p.chunk.text for p in passages))
    names = [t for t in key_terms(question, initial=known) if t.kind == "name"
             and any(a.has(t) for a in articles)]
    if len(names) < 2 or any(all(a.has(t) for t in names) for a in articles):
        return []
    return list(dict.fromkeys(t.text for t in names))


def off_topic(question: str, passages: list[Passage], closeness: float, known: float, threshold: float) -> bool:
    """True when the question is about something else than the articles: no retrieved sentence is
    within `threshold` cosine of it, fewer than half its words are the articles' words, and none of
    its names occurs in the passages. A short question on a name ("Gdzie jest Ałabuga?", "Kto jest
    szefem HUR?") embeds far from every sentence, so closeness alone would refuse it."""
    if closeness >= threshold or known >= 0.5:
        return False
    found = TermIndex(" ".join(p.text for p in passages))
    return not any(word_keys(w) & found.keys for w in name_words(question))


def refusal(terms: list[str], language: str, together: bool = False) -> str:
    if together:       # names that occur, but never in the same article
        first, rest = terms[0], ", ".join(terms[1:])
        if language == "pl":
            return (f"Artykuły nie wspominają o: {first} razem z: {rest}, więc nie odpowiadają na tak "
                    f"postawione pytanie.")
        return f"The articles do not mention {first} together with {rest}, so they cannot answer this question as asked."
    named = ", ".join(terms)
    if language == "pl":
        return f"Artykuły nie wspominają o: {named}, więc nie odpowiadają na tak postawione pytanie."
    return f"The articles do not mention {named}, so they cannot answer this question as asked."
