"""English glosses for the Polish dates and amounts in an English question's prompt: "w czerwcu" ->
"w czerwcu (June)", "14 tys." -> "14 tys. (14,000)".

The small model answering in English misreads Polish month names ("W czerwcu szef ukraińskiego
wywiadu…" answered "in March"), and the answer check then rightly removes the sentence, so the
question is refused though its month is in the cited sentence. Months, weekdays, "last week/month/
year", amounts in thousands or millions and amounts in words ("kilka tysięcy", "setki", "przez całą
dobę": the model wrote "1,000" and "24 hours" for them) are written out in English after the Polish
words, in the prompt only: citations and the answer check still use the articles' own text.

    >>> gloss("W czerwcu Szojgu ogłosił, że Korea wyśle 6 tys. osób; w zeszłym tygodniu, w poniedziałek.")
    'W czerwcu (June) Szojgu ogłosił, że Korea wyśle 6 tys. (6,000) osób; w zeszłym tygodniu (last week), w poniedziałek (Monday).'
    >>> gloss("Od 10 do 12 tysięcy żołnierzy, kilka tysięcy w drodze, setki wyrzutni, przez całą dobę.")
    'Od 10 do 12 tysięcy (10,000 to 12,000) żołnierzy, kilka tysięcy (several thousand) w drodze, setki (hundreds) wyrzutni, przez całą dobę (around the clock).'
"""
from __future__ import annotations

import re

from .lexical import fold
from .support import NUMBER_WORDS, THOUSANDS_IN_WORDS
from .terms import _MONTHS_EN, MONTHS

_WEEKDAYS = {"poniedzial": "Monday", "wtor": "Tuesday", "srod": "Wednesday", "czwart": "Thursday",
             "piat": "Friday", "sobot": "Saturday", "niedziel": "Sunday"}
_WEEKDAY = re.compile(r"\b(?:w|we|od|do)\s+(poniedziałe?k\w*|wtor\w+|środ\w+|czwart\w+|piąt\w+|sobot\w+|niedziel\w+)",
                      re.IGNORECASE)
_LAST = re.compile(r"\b(?:w\s+)?(?:zeszłym|ubiegłym|poprzednim)\s+(tygodniu|miesiącu|roku)\b", re.IGNORECASE)
_LAST_EN = {"tygodniu": "last week", "miesiącu": "last month", "roku": "last year"}
_AMOUNT = re.compile(r"\b(?:(\d+(?:[.,]\d+)?)\s*(?:do|-|–)\s*)?(\d+(?:[.,]\d+)?)\s*(tys\.|tysi[ąę]c\w*|mln\b|mld\b)",
                     re.IGNORECASE)
_SCALE = {"tys": 1_000, "mln": 1_000_000, "mld": 1_000_000_000}
# amounts in words, longest first; not after a number ("12 tysięcy" is glossed as 12,000)
_AMOUNT_WORDS = [
    (THOUSANDS_IN_WORDS, None),                                                 # "trzech tysięcy": 3,000
    (r"kilk(?:a|u) tysi[ęą]c\w*", "several thousand"), (r"kilkana[śs]\w* tysi[ęą]c\w*", "over ten thousand"),
    (r"kilkadziesi[ąę]t\w* tysi[ęą]c\w*", "tens of thousands"), (r"tysi[ąę]ce|tysi[ęe]cy", "thousands"),
    (r"tysi[ąę]ca?", "a thousand"), (r"kilk(?:a|u)set", "several hundred"), (r"setki|setek|setkach", "hundreds"),
    (r"dziesi[ąę]tki|dziesi[ąę]tek", "dozens"), (r"(?:przez )?ca[łl][ąa] dob[ęe]|ca[łl]ej doby", "around the clock"),
    (r"niewielk\w*(?: \w+)? liczb\w*", "a small number"),
]
_WORDS_AMOUNT = re.compile(r"\b(?:" + "|".join(f"({p})" for p, _ in _AMOUNT_WORDS) + r")\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def gloss(text: str) -> str:
    text = _AMOUNT.sub(_amount, text)
    text = _WORDS_AMOUNT.sub(_amount_words, text)
    text = _LAST.sub(lambda m: f"{m.group(0)} ({_LAST_EN[m.group(1).lower()]})", text)
    text = _WEEKDAY.sub(_weekday, text)
    return _WORD.sub(_month, text)


def _amount(m: re.Match) -> str:
    scale = _SCALE[m.group(3).lower().rstrip(".")[:3]]
    values = [f"{float(v.replace(',', '.')) * scale:,.0f}" for v in (m.group(1), m.group(2)) if v]
    return f"{m.group(0)} ({' to '.join(values)})"


def _amount_words(m: re.Match) -> str:
    if re.search(r"\d\s*$", m.string[:m.start()]):
        return m.group(0)
    if m.group(1):
        folded = fold(m.group(1).split()[0])
        value = next(n for stem, n in NUMBER_WORDS.items() if folded.startswith(stem)) * 1_000
        return f"{m.group(0)} ({value:,})"
    english = next(en for i, (_, en) in enumerate(_AMOUNT_WORDS) if m.group(i + 1))
    return f"{m.group(0)} ({english})"


def _weekday(m: re.Match) -> str:
    folded = fold(m.group(1))
    english = next(en for pl, en in _WEEKDAYS.items() if folded.startswith(pl))
    return f"{m.group(0)} ({english})"


def _month(m: re.Match) -> str:
    folded = fold(m.group(0))
    if folded in MONTHS and folded not in _MONTHS_EN:
        return f"{m.group(0)} ({_MONTHS_EN[MONTHS[folded] - 1].capitalize()})"
    return m.group(0)
