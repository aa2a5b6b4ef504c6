"""Translation by the generator: English questions into Polish (for retrieval and for answering
in Polish), and checked Polish answers into English with their [n] markers kept.

The small model reads Polish evidence far better when it answers in Polish, so an English
question can be answered in Polish, checked in Polish against the Polish sentences, and only the
checked answer translated (`english_answers = "via-polish"`). Measured against answering in
English directly (the default) in the README's levers: it refused more false premises but stated
fewer facts and took longer to the first token, so it is a setting, not the default.
A translation that loses markers gets the Polish answer's markers back, sentence by sentence.

    >>> keep_markers("Russia sent 12,000 soldiers. They fought in Kursk.", "Rosja wysłała 12 tys. [1]. Walczyli w Kursku [2].")
    'Russia sent 12,000 soldiers [1]. They fought in Kursk [2].'
"""
from __future__ import annotations

from collections.abc import Iterator

from .citations import answer_sentences, marker_numbers, strip_markers
from .terms import TermIndex, key_terms, missing

QUESTION_SYSTEM = ("Translate the user's question into Polish, in the words a Polish newspaper would use. Keep names. "
                   "Reply with the Polish question only.\n"
                   "Example: Who leads Russia's defence ministry? -> Kto jest szefem rosyjskiego ministerstwa obrony?")

ANSWER_SYSTEM = ("Translate the user's Polish text into English. Keep every marker like [1] right after the words "
                 "it follows. Keep names, numbers and dates exactly. Reply with the English translation only.\n"
                 "Example: Szojgu spotkał się z Kim Dzong Unem w Pjongjangu [2]. -> "
                 "Shoigu met Kim Jong Un in Pyongyang [2].")


def question_messages(question: str) -> list[dict]:
    return [{"role": "system", "content": QUESTION_SYSTEM}, {"role": "user", "content": question}]


def answer_messages(polish: str) -> list[dict]:
    return [{"role": "system", "content": ANSWER_SYSTEM}, {"role": "user", "content": polish}]


def stream_answer(generator, polish: str, max_tokens: int) -> Iterator[str]:
    """The English translation of a checked Polish answer, as the generator streams it."""
    yield from generator.stream(answer_messages(polish), max_tokens)


def faithful(english: str, polish: str) -> tuple[str, list[str]]:
    """The translation's sentences whose numbers and months all occur in the Polish text, and those
    dropped, with why: a translation that turns "w czerwcu … 6000" into "in April … 60,000"
    states what no passage does.

    >>> faithful("In June he sent 6,000 people [1]. In April, 60,000 more [2].", "W czerwcu wysłał 6000 osób [1].")
    ('In June he sent 6,000 people [1].', ['In April, 60,000 more. (not in the Polish answer: April, 60,000)'])
    """
    source = TermIndex(polish)
    kept, dropped = [], []
    for sentence in answer_sentences(english):
        lost = missing([t for t in key_terms(strip_markers(sentence)) if t.kind != "name"], source)
        if lost:
            dropped.append(f"{strip_markers(sentence)} (not in the Polish answer: {', '.join(lost)})")
        else:
            kept.append(sentence)
    return " ".join(kept), dropped


def keep_markers(english: str, polish: str) -> str:
    """`english` with the markers of `polish`: as translated when they survived, else put back
    sentence by sentence (or all at the end when the sentence counts differ)."""
    wanted = marker_numbers(polish)
    if sorted(set(marker_numbers(english))) == sorted(set(wanted)):
        return english
    en = [strip_markers(s) for s in answer_sentences(strip_markers(english))]
    pl = answer_sentences(polish)
    if len(en) == len(pl):
        parts = []
        for e, p in zip(en, pl):
            marks = "".join(f"[{n}]" for n in dict.fromkeys(marker_numbers(p)))
            parts.append(f"{e.rstrip('.!?')} {marks}".rstrip() + (e[-1] if e and e[-1] in ".!?" else "."))
        return " ".join(parts)
    marks = "".join(f"[{n}]" for n in dict.fromkeys(wanted))
    text = strip_markers(english)
    return f"{text.rstrip('.!?')} {marks}" + (text[-1] if text and text[-1] in ".!?" else ".")
