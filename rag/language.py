"""Tell Polish from English (the two languages answers are written in), and clean question text.

Detection counts Polish diacritics in lower-case words (a name such as "Kyryło Budanow" in an
English sentence says nothing about its language) and common function words of each language;
ties go to English. Other languages are answered in English (`detect` reports them through `is_other`).

    >>> detect("Ilu żołnierzy wysłała Korea Północna?"), detect("How many soldiers were sent?")
    ('pl', 'en')
    >>> detect("Generał Kyryło Budanow heads Ukraine's military intelligence (HUR).")
    'en'

A lower-case word spelt as Polish words are and English ones hardly ever ("rz", "cz", "sz", a
final "-ych" or "-ej") counts for Polish too, so a short answer of names and one verb is told:

    >>> detect("Wołodin przewodniczy Dumie Państwowej Federacji Rosyjskiej [1].")
    'pl'
"""
from __future__ import annotations

import re
import unicodedata

_PL_CHARS = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
_PL_WORDS = set("i w z na do nie się że jest jak co czy ile kto kiedy gdzie dlaczego jaki jaka jakie który która "
                "które ilu o od po przez dla oraz a ten ta to tym tego jego ich są był była było były zostało "
                "według jakiej jakim mówi podaje czym kim czego".split())
_EN_WORDS = set("the a an of and or to in on at by for with from is are was were be been what which who whom "
                "whose when where why how did does do has have had many much about according that this these "
                "tell me say says said".split())
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


# Polish spellings English words hardly have: "przewodniczy", "szef", "wojskowych"
_PL_SPELLING = re.compile(r"rz|cz|sz|ych\b|ej\b")


def _scores(text: str) -> tuple[float, float, int]:
    found = _WORD.findall(text)
    words = [w.lower() for w in found]
    pl = sum(w in _PL_WORDS for w in words) + 2 * sum(c in _PL_CHARS for w in found if w[0].islower() for c in w) + \
        sum(bool(_PL_SPELLING.search(w)) for w in found if w[0].islower())
    en = sum(w in _EN_WORDS for w in words)
    return pl, en, len(words)


def detect(text: str) -> str:
    pl, en, _ = _scores(text)
    return "pl" if pl > en else "en"


def mixes_in_polish(text: str) -> bool:
    """True when English text is Polish or carries Polish words: a lower-case word with a Polish
    letter ("rosyjscy and północnokoreańscy soldiers"); names keep their spelling and do not count.

    >>> mixes_in_polish("Rosyjscy i północnokoreańscy żołnierze [1]."), mixes_in_polish("Kyryło Budanow said so.")
    (True, False)
    """
    return detect(text) == "pl" or any(c in _PL_CHARS for w in _WORD.findall(text) if w[0].islower() for c in w)


def is_other(text: str) -> bool:
    """True for text that is clearly neither Polish nor English (another script, or no known words)."""
    letters = [c for c in text if c.isalpha()]
    if letters and sum("LATIN" not in unicodedata.name(c, "") for c in letters) > len(letters) / 2:
        return True
    pl, en, n = _scores(text)
    return n >= 4 and pl == 0 and en == 0


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def clean_question(text: str) -> str:
    """Drop control characters and undecodable leftovers, collapse whitespace."""
    text = text.encode("utf-8", "replace").decode("utf-8", "replace") if isinstance(text, str) else str(text)
    text = text.replace("\ufffd", " ")
    text = _CONTROL.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()
