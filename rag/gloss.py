"""English glosses for the Polish dates and amounts in an English question's prompt: "w czerwcu" ->
"w czerwcu (June)", "14 tys." -> "14 tys. (14,000)".

The small model answering in English misreads Polish month names ("W czerwcu szef ukraińskiego
wywiadu…" answered "in March"), and the answer check then rightly removes the sentence, so the
question is refused though its month is in the cited sentence. Months, weekdays, "last week/month/
year" and amounts in thousands or millions are written out in English after the Polish words, in
the prompt only: citations and the answer check still use the articles' own text.

    >>> gloss("W czerwcu Szojgu ogłosił, że Korea wyśle 6 tys. osób; w zeszłym tygodniu, w poniedziałek.")
    'W czerwcu (June) Szojgu ogłosił, że Korea wyśle 6 tys. (6,000) osób; w zeszłym tygodniu (last week), w poniedziałek (Monday).'
"""
from __future__ import annotations

import re

from .lexical import fold
from .terms import _MONTHS_EN, MONTHS

_WEEKDAYS = {"poniedzial": "Monday", "wtor": "Tuesday", "srod": "Wednesday", "czwart": "Thursday",
             "piat": "Friday", "sobot": "Saturday", "niedziel": "Sunday"}
_WEEKDAY = re.compile(r"\b(?:w|we|od|do)\s+(poniedziałe?k\w*|wtor\w+|środ\w+|czwart\w+|piąt\w+|sobot\w+|niedziel\w+)",
                      re.IGNORECASE)
_LAST = re.compile(r"\b(?:w\s+)?(?:zeszłym|ubiegłym|poprzednim)\s+(tygodniu|miesiącu|roku)\b", re.IGNORECASE)
_LAST_EN = {"tygodniu": "last week", "miesiącu": "last month", "roku": "last year"}
_AMOUNT = re.compile(r"\b(\d+(?:[.,]\d+)?)\s*(tys\.|mln\b|mld\b)", re.IGNORECASE)
_SCALE = {"tys.": 1_000, "mln": 1_000_000, "mld": 1_000_000_000}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def gloss(text: str) -> str:
    text = _AMOUNT.sub(_amount, text)
    text = _LAST.sub(lambda m: f"{m.group(0)} ({_LAST_EN[m.group(1).lower()]})", text)
    text = _WEEKDAY.sub(_weekday, text)
    return _WORD.sub(_month, text)


def _amount(m: re.Match) -> str:
    value = float(m.group(1).replace(",", ".")) * _SCALE[m.group(2).lower()]
    return f"{m.group(0)} ({value:,.0f})"


def _weekday(m: re.Match) -> str:
    folded = fold(m.group(1))
    english = next(en for pl, en in _WEEKDAYS.items() if folded.startswith(pl))
    return f"{m.group(0)} ({english})"


def _month(m: re.Match) -> str:
    folded = fold(m.group(0))
    if folded in MONTHS and folded not in _MONTHS_EN:
        return f"{m.group(0)} ({_MONTHS_EN[MONTHS[folded] - 1].capitalize()})"
    return m.group(0)
