"""What a question asks for, and whether an answer gives it: a question -> "quantity" | "time" | "who" | None.

A question that asks how many, when, or who is answered only by a number, a time, or a name that
the question does not already hold. An answer without one, however well its sentences are cited,
is a nearby fact ("Ilu członków liczyła delegacja?" answered with "Ukraina i Republika Korei
wymienią delegacje [1]."): the pipeline refuses it. Other questions are not checked.

    >>> asks("Ilu żołnierzy wysłała Korea Północna?"), asks("When did Shoigu visit Pyongyang?")
    ('quantity', 'time')
    >>> gives("Ile trwał pobyt Szojgu?", "Pobyt był jednodniowy [1].")
    True
    >>> gives("Ile pieniędzy Rosja zapłaciła?", "Korea Północna dostarczała amunicję [1].")
    False
    >>> gives("Ilu członków liczyła delegacja?", "Delegacja odwiedzi Ukrainę w tym tygodniu [1].")
    False
    >>> gives("Who heads HUR?", "Kyryło Budanow heads HUR [1].")
    True
    >>> asks("Jaką kwotę pomocy zapowiedziano?"), gives("Jaka powierzchnia pozostaje zaminowana?", "Prace trwają [1].")
    ('quantity', False)
"""
from __future__ import annotations

import re

from .citations import strip_markers
from .lexical import fold
from .support import numbers
from .terms import key_terms

_ASKS = [
    ("quantity", re.compile(r"^\s*(ile|ilu|ilo[sś][cć]|how (many|much|long|large|big|far)|"
                            r"jak(a|ą|i|ie|iej|im) (kwot|sum|liczb|powierzchni|odleg[lł]o[sś]|warto[sś]|procent|"
                            r"odset|cen|obszar)\w*|what (amount|number|sum|percentage|share|"
                            r"proportion|area|distance|price|value|size)\b)", re.I)),
    ("time", re.compile(r"^\s*(kiedy|od kiedy|do kiedy|when|since when|w (którym|jakim) (roku|miesiącu|dniu)|"
                        r"in (which|what) (month|year)|on what (date|day))\b", re.I)),
    ("who", re.compile(r"^\s*(kto|who|jak nazywa się|what is the name)\b", re.I)),
]
# amounts written in words: "kilka tysięcy", "one-day", "half"
_AMOUNT = re.compile(
    r"\b(tysi[aą]c\w*|tysi[eę]cy|setk\w*|kilk\w*|kilkana[sś]cie|kilkadziesi[aą]t|dziesi[aą]t\w*|jed(en|na|nego|nej|no)\w*|"
    r"dw(a|óch|oje|ie|u)|trz(y|ech)|czter\w*|pi[eę][cć]\w*|po[lł]ow\w*|thousand\w*|hundred\w*|several|dozens?|one|"
    r"two|three|four|five|half)\b", re.I)
# durations ("ponad rok", "a few weeks") answer only a question about how long: "Ilu członków liczyła
# delegacja?" is not answered by "w tym tygodniu"
_DURATION = re.compile(r"\b(rok\w*|roku|lat|miesi[aą]c\w*|dni|dzie[nń]|tygod\w*|godzin\w*|years?|months?|days?|weeks?|"
                       r"hours?)\b", re.I)
_HOW_LONG = re.compile(r"^\s*(ile (trwa\w*|czasu|godzin\w*|dni|lat|miesi\w*|tygod\w*)|jak d[lł]ugo|how long|"
                       r"for how (many|long)|how many (hours|days|weeks|months|years))\b", re.I)
# times written without a month or a number: a weekday, a season, "last year"
_TIME = re.compile(
    r"\b(poniedzia[lł]\w*|wtor\w*|[sś]rod\w*|czwart\w*|pi[aą]t\w*|sobot\w*|niedziel\w*|wiosn\w*|lat\w*|jesie\w*|"
    r"zim\w*|wczoraj|ubieg[lł]\w*|zesz[lł]\w*|monday|tuesday|wednesday|thursday|friday|saturday|sunday|spring|"
    r"summer|autumn|fall|winter|yesterday|last)\b", re.I)
_CAPITALISED = re.compile(r"\b[^\W\d_][\w'’-]*", re.UNICODE)


def asks(question: str) -> str | None:
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


def gives(question: str, answer: str) -> bool:
    """True when the answer holds what the question asks for (always, for questions of no kind)."""
    kind = asks(question)
    text = strip_markers(answer)
    new_numbers = numbers(text) - numbers(question)
    if kind == "quantity":
        return bool(new_numbers or _AMOUNT.search(text) or _HOW_LONG.search(question) and _DURATION.search(text))
    if kind == "time":
        return bool(new_numbers or _TIME.search(text) or any(t.kind == "month" for t in key_terms(text)))
    if kind == "who":
        # a name the question does not hold; a capitalised word starting the answer counts too ("Putin claimed…")
        capitalised = {fold(w) for w in _CAPITALISED.findall(text) if w[0].isupper()}
        asked = {fold(w)[:4] for w in _CAPITALISED.findall(question) if w[0].isupper()}
        return any(t.kind == "name" and any(fold(w)[:4] not in asked for w in t.text.split())
                   for t in key_terms(text, initial=capitalised))
    return True
