"""Premise check: a question whose own names, numbers or months occur in none of the retrieved
passages is not answered; the refusal names what is missing.

A small model restates a false premise as fact ("Finland sent deminers because… [1]"), citing a
passage on the same topic, so the pipeline checks the premise before any answer is written. For an
English question the Polish translation is checked too, and a term counts as missing only when
the translation also misses something: English spellings of names that transliteration and the
small word map in `rag/terms.py` do not bring to their Polish form would otherwise be refused.

    >>> from rag.types import Chunk, Passage
    >>> p = [Passage(1, Chunk("a#0", "a", 0, 40, "Korea Północna wysłała saperów do Kurska."), 1.0)]
    >>> gaps("Dlaczego Finlandia wysłała saperów do Kurska?", None, p)
    ['Finlandia']
    >>> refusal(["Finland"], "en")
    'The articles do not mention Finland, so they cannot answer this question as asked.'
"""
from __future__ import annotations

from .terms import TermIndex, key_terms, missing
from .types import Passage


def gaps(question: str, translation: str | None, passages: list[Passage]) -> list[str]:
    """The question's key terms (as written in it) that no retrieved passage holds."""
    index = TermIndex("\n".join(p.chunk.text for p in passages))
    found = missing(key_terms(question), index)
    if found and translation and not missing(key_terms(translation), index):
        return []
    return found


def refusal(terms: list[str], language: str) -> str:
    named = ", ".join(terms)
    if language == "pl":
        return f"Artykuły nie wspominają o: {named}, więc nie odpowiadają na tak postawione pytanie."
    return f"The articles do not mention {named}, so they cannot answer this question as asked."
