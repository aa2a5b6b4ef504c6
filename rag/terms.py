"""Key terms of a text (names, numbers, months) as keys that meet across inflection and languages.

The premise check (does the question's every name, number and month occur in the evidence?) and
the answer check (does each answer sentence's every name, number and month occur in the sentence
it cites?) both ask whether the terms of one text occur in another. Keys make the forms meet:
  - a name is a run of capitalised words that does not start the sentence; each word's key is its
    first letters (4 for most; up to 6 for long words), folded and transliterated
    ("Szojgu"/"Szojgua"/"Shoigu" -> "szoj"), and a few
    English words whose Polish form differs are mapped ("Russia" -> "rosj", "Finland" -> "finl"), as
    are the words the dictionary translates (`rag/lexicon.py`: "People's Army" -> "lud", "armi");
    a name occurs when each of its words does ("Kim Jong Un" occurs where "Kim Dzong Unem" does,
    "Korea Południowa" not where only "Korei Północnej" does);
  - a number is its value ("12 tys." == "12 000" == "12,000"); a year is a number;
  - a month, in either language and any case form ("październiku" == "October"), is its number.
Acronyms (KRLD, HUR) are left out: articles expand them or use another one.

    >>> [t.text for t in key_terms("Why did Finland send deminers to Kursk in October 2024?")]
    ['Finland', 'Kursk', 'October', '2024']
    >>> missing(key_terms("Dlaczego Finlandia wysłała saperów do obwodu kurskiego?"),
    ...         TermIndex("Korea Północna wysłała saperów do obwodu kurskiego."))
    ['Finlandia']
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from .citations import MARKER
from .language import _EN_WORDS, _PL_WORDS
from .lexicon import translations
from .lexical import STOPWORDS, fold
from .support import NUMBER, numbers, transliterate

_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_SENTENCE_START = re.compile(r"(^|[.!?:;\"„“”»«(]\s*|\n)$")

# English words whose Polish forms share no 4-letter transliterated prefix with them
_EN_TO_PL = {
    "russi": ("rosj",), "ukrai": ("ukra",), "korea": ("kore",), "north": ("poln", "krld"), "south": ("polu",),
    "japan": ("japo",), "china": ("chin",), "chine": ("chin",), "finla": ("finl",), "finni": ("finl",),
    "hunga": ("wegr",), "germa": ("niem",), "polan": ("pols",), "polis": ("pols",), "ameri": ("amer", "usa", "stan"),
    "unite": ("zjed", "stan", "onz"), "belar": ("bial",), "syria": ("syri",), "iran": ("iran",), "europ": ("euro",),
    "mosco": ("mosk",), "pyong": ("pjon",), "seoul": ("seul",), "kyiv": ("kijo",), "kiev": ("kijo",),
    "krem": ("krem",), "jong": ("dzon",), "yoon": ("jun",), "peskov": ("pies",), "dmitr": ("dmit", "dymi"),
    "serge": ("sier", "siar"), "vyach": ("wiac",), "kyryl": ("kyry", "kiry"), "worke": ("prac",),
    "party": ("part",), "defen": ("obro",), "minis": ("mini",), "presi": ("prez",), "gener": ("gene",),
    "duma": ("dum",), "state": ("pans", "stan"), "red": ("czer",), "star": ("gwia", "zwie"),
    "weste": ("zach",), "west": ("zach",), "asia": ("azj",), "easte": ("wsch",), "zvezd": ("zwie",),
    "monda": ("poni",), "tuesd": ("wtor",), "wedne": ("srod",), "thurs": ("czwa",), "frida": ("piat",),
    "satur": ("sobo",), "sunda": ("nied",),
}
_MONTHS_PL = {
    1: ("styczen", "stycznia", "styczniu"), 2: ("luty", "lutego", "lutym"), 3: ("marzec", "marca", "marcu"),
    4: ("kwiecien", "kwietnia", "kwietniu"), 5: ("maj", "maju"),   # not "maja": folded, it is "mają"
    6: ("czerwiec", "czerwca", "czerwcu"),
    7: ("lipiec", "lipca", "lipcu"), 8: ("sierpien", "sierpnia", "sierpniu"), 9: ("wrzesien", "wrzesnia", "wrzesniu"),
    10: ("pazdziernik", "pazdziernika", "pazdzierniku"), 11: ("listopad", "listopada", "listopadzie"),
    12: ("grudzien", "grudnia", "grudniu"),
}
_MONTHS_EN = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
              "november", "december")
MONTHS = {form: n for n, forms in _MONTHS_PL.items() for form in forms} | \
    {name: n for n, name in enumerate(_MONTHS_EN, start=1)}
_NOT_ALWAYS_MONTHS = {"may", "march"}     # English words that are months only when capitalised


_COMMON = STOPWORDS | _PL_WORDS | _EN_WORDS | {"wedlug", "zgodnie", "jednak", "natomiast", "ponadto", "they", "there",
                                              "however", "also", "both", "he", "she", "we", "these"}


@dataclass(frozen=True)
class Term:
    text: str                       # as written: "Finland", "12 tys.", "październiku"
    kind: str                       # "name" | "number" | "month"
    parts: tuple                    # (frozenset of keys, ...): each part must be found by one of its keys


_ABBREVIATIONS = {"pld": ("polu",), "pln": ("poln",), "krld": ("kore", "poln"), "usa": ("amer", "stan", "zjed"),
                  "ue": ("unia", "euro"), "onz": ("onz", "naro")}


# adjectives that name two words of a name at once: "północnokoreańscy" holds "Korea Północna"
_COMPOUNDS = {"polnocnokorea": ("poln", "kore"), "poludniowokorea": ("polu", "kore"), "north-korea": ("poln", "kore"),
              "south-korea": ("polu", "kore")}


# the 4-letter keys that words of other forms are mapped to (above): a long word starting with one meets them
_CONCEPTS = frozenset(k for table in (_ABBREVIATIONS, _COMPOUNDS, _EN_TO_PL) for keys in table.values() for k in keys)


@functools.lru_cache(maxsize=1 << 16)      # the articles' words recur in every question's check
def word_keys(word: str, evidence: bool = False) -> frozenset[str]:
    """The keys a word can be found by: its transliterated prefix (3 letters for words of up to 5
    letters, so "Kimem" meets "Kim" and "Seulu" meets "Seul"; 4 for words of 6 or 7; for longer
    words all but their last 3 letters, at most 6, so that "Vladivostok" does not meet "Władimir",
    nor "Zaporizhzhia" "zapowiedział", while "Ałabudze" meets "Ałabuga"), an abbreviation's
    expansion, and for English words with a different Polish form, the Polish prefixes. In evidence
    every word gives its prefixes of 3 to 6 letters.

    >>> sorted(word_keys("Kimem")), sorted(word_keys("Kim", evidence=True)), sorted(word_keys("Army"))
    (['kim'], ['kim'], ['arm', 'wojsk'])
    >>> sorted(word_keys("Kharkiv")), sorted(word_keys("charakter", evidence=True))    # by "Charków": not "charakter"
    (['char', 'czarko'], ['cza', 'czar', 'czara', 'czarak'])
    >>> sorted(word_keys("Vladivostok")), sorted(word_keys("Ałabudze")), sorted(word_keys("Władimira", evidence=True))
    (['wladiw', 'wladjw'], ['alabu'], ['wla', 'wlad', 'wladi', 'wladim'])
    """
    word = re.sub(r"['’]s$", "", word)
    folded, translit = fold(word), transliterate(word)
    keys = {translit[:n] for n in (3, 4, 5, 6)} if evidence else {translit[:_key_length(len(word))]}
    if not evidence and translit[:4] in _CONCEPTS:      # "Północna" meets the "poln" that "KRLD" stands for
        keys.add(translit[:4])
    keys.update(_ABBREVIATIONS.get(folded, ()))
    for compound, parts in _COMPOUNDS.items():
        if folded.startswith(compound):
            keys.update(parts)
    if evidence:
        keys.update([k[:3] for k in keys])
    else:                                  # an English word of a name, met by its Polish words: "People's" -> "lud"
        keys.update(_lemma_key(t) for t in translations(word))
    for english, polish in _EN_TO_PL.items():
        if folded.startswith(english):
            keys.update(polish)
    return frozenset(keys)


def _lemma_key(lemma: str) -> str:
    """A dictionary form's stem, as far as its inflected forms share it: the word less its final
    vowels, at most 6 letters ("Rosja" -> "rosj" for "Rosji"; "Charków" -> "czarko" for "Charkowie",
    where 4 letters would also meet "charakter")."""
    spelled = transliterate(lemma)
    stem = spelled.rstrip("aeiouy")
    return stem[:6] if len(stem) >= 3 else spelled[:3]


def _key_length(letters: int) -> int:
    return 3 if letters < 6 else 4 if letters < 8 else min(6, letters - 3)


def name_words(text: str) -> set[str]:
    """Folded capitalised words that stand mid-sentence in `text`: words known to be names."""
    return {fold(m.group(0)) for m in _WORD.finditer(text)
            if m.group(0)[0].isupper() and not _starts_sentence(text, m.start())}


def key_terms(text: str, initial: set[str] | frozenset = frozenset()) -> list[Term]:
    """The names, months and numbers `text` asserts, in order of appearance. A capitalised word
    that starts a sentence counts as a name only when it is in `initial`, the words known as names
    elsewhere (an answer's "Finlandia wysłała…" when the question names Finlandia mid-sentence),
    so that "Odpowiedź" or "Według" starting a sentence is not taken for one."""
    text = MARKER.sub(" ", text)           # "[2]" cites; it asserts no number
    terms: list[Term] = []
    run: list[tuple[str, int]] = []

    def close_run():
        if run:
            bare = [(w, re.sub(r"['’]s$", "", w)) for w, _ in run]           # "DPRK's" is an acronym too
            words = [w for w, b in bare if len(b) > 2 and not b.isupper()]
            if words:
                parts = tuple(frozenset(word_keys(w)) for w in words)
                terms.append(Term(text[run[0][1]:run[-1][1] + len(run[-1][0])], "name", parts))
            run.clear()

    for m in _WORD.finditer(text):
        word, start = m.group(0), m.start()
        folded = fold(word)
        if folded in MONTHS and not (folded in _NOT_ALWAYS_MONTHS and word[0].islower()):
            close_run()
            terms.append(Term(word, "month", (frozenset({f"m{MONTHS[folded]}"}),)))
        elif word[0].isupper() and (not _starts_sentence(text, start) or folded in initial and folded not in _COMMON):
            if run and text[run[-1][1] + len(run[-1][0]):start].strip(" -") != "":
                close_run()
            run.append((word, start))
        else:
            close_run()
    close_run()
    for m in NUMBER.finditer(text):
        values = numbers(m.group(0))
        if values:
            terms.append(Term(m.group(0).strip(), "number", tuple(frozenset({f"n{v:g}"}) for v in values)))
    return terms


# Polish adjectives of nationality are written lower-case, so `key_terms` does not see them as
# names, yet "turecki wywiad" asserts Turkey as much as "Turcja" would: folded stem -> the word
# beginnings its country goes by (the adjective's own and the country's)
_NATIONALITIES = {
    "rosyj": "rosy|rosj", "ukrain": "ukra", "korean": "kore", "amerykan": "amer|usa", "chins": "chin",
    "japons": "japo", "turec": "ture|turc", "fins": "fins|finl", "wegiers": "wegi|wegr", "niemiec": "niem",
    "francus": "fran", "brytyj": "bryt", "wlos": "wlos|wloch", "hiszpan": "hisz", "izrael": "izra", "irans": "iran",
    "syryj": "syri", "bialorus": "bial", "gruzin": "gruz", "indyj": "indi", "kanadyj": "kana", "australij": "austral",
    "szwedz": "szwe", "norwes": "norw", "dunsk": "dun|dani", "czesk": "czes|czech", "slowack": "slowa|slowac",
    "litews": "litew|litw", "lotews": "lotew|lotw", "estons": "eston", "rumuns": "rumu", "bulgars": "bulg",
    "serbs": "serb", "polsk": "pols", "mongols": "mongol", "wietnams": "wietnam", "kazachs": "kazach",
    "pakistan": "pakistan", "saudyjs": "saud", "egips": "egip", "uzbec": "uzbe", "tajwan": "tajwan",
    "kubans": "kuba|kubi", "afgans": "afgan", "irackij": "irak", "libijs": "libi", "tadzyc": "tadzy",
    "kirgis": "kirgi", "turkmens": "turkmen", "azerbejdz": "azer", "ormians": "armen|ormian", "moldaws": "moldaw",
    "greck": "grec", "holender": "holand|holend", "belgijs": "belgi", "austriac": "austri", "szwajcar": "szwajcar",
    "portugals": "portugal", "meksykan": "meksyk", "brazylij": "brazyl", "nigeryjs": "nigeri",
}
_COUNTRY_STEMS = tuple(stem for stems in _NATIONALITIES.values() for stem in stems.split("|"))


def names_country(word: str) -> bool:
    """True for a word that names a country ("Korei", "Rosja", "Ukrainą"): a state, not a person.

    >>> names_country("Korei"), names_country("Budanow")
    (True, False)
    """
    return fold(word).startswith(_COUNTRY_STEMS)


# acronyms: as written, or with a known expansion ("ONZ" or "Narodów Zjednoczonych"); "US" and "UK"
# are left out, since English uses them as adjectives ("a US broadcaster"), not as premises
_ACRONYMS = {
    "onz": r"narodow zjednoczon", "un": r"onz\b|narodow zjednoczon", "ue": r"uni\w* europejsk",
    "eu": r"ue\b|uni\w* europejsk", "krld": r"kore\w* polnocn|polnocnokorea", "dprk": r"krld\b|kore\w* polnocn|polnocnokorea",
    "msz": r"spraw zagranicznych", "mfa": r"msz\b|spraw zagranicznych", "mon": r"ministerstw\w* obrony|obrony narodowej", "gur": r"hur\b",
}
_NOT_PREMISES = {"us", "usa", "uk"}
_ROMAN = re.compile(r"^[IVXLCDM]+$")
_ACRONYM = re.compile(r"[A-ZĄĆĘŁŃÓŚŹŻ]{2,}(-?\d+)?")          # "OBWE", "BTR-80"; not "Q19"


def implied(question: str) -> list[tuple[str, Callable[[str], bool]]]:
    """What a question asserts that `key_terms` leaves out, for the premise check only, as (the
    word as written, a test of whether a text holds it): lower-case adjectives of nationality
    ("turecki wywiad": Turkey) and acronyms ("ONZ", "OBWE"), an acronym matched as written
    ("UN" is not the "Un" of "Kim Dzong Un") or by its expansion.

    >>> [(w, holds("Rada Bezpieczeństwa Narodów Zjednoczonych")) for w, holds in
    ...  implied("Dlaczego turecki wywiad ustalił, co postanowiła ONZ?")]
    [('turecki', False), ('ONZ', True)]
    """
    found = []
    for m in _WORD.finditer(question):
        word = re.sub(r"['’]s$", "", m.group(0))          # "NATO's"
        folded = fold(word)
        if word.islower():
            stem = next((s for s in _NATIONALITIES if folded.startswith(s)), None)
            if stem:
                pattern = re.compile(rf"\b({_NATIONALITIES[stem]})")
                found.append((word, lambda text, p=pattern: bool(p.search(fold(text)))))
        elif _ACRONYM.fullmatch(word) and not _ROMAN.match(word) and folded not in _NOT_PREMISES:
            literal = re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w])")
            expansion = re.compile(rf"\b({_ACRONYMS[folded]})") if folded in _ACRONYMS else None
            found.append((word, lambda text, l=literal, e=expansion:
                          bool(l.search(text) or e and e.search(fold(text)))))
    return found


def _starts_sentence(text: str, start: int) -> bool:
    return bool(_SENTENCE_START.search(text[max(0, start - 3):start])) or start == 0


# a word and a name glued by a lost space ("Rosyjski przywódcaWładimir Putin"): the article still names him
_GLUED = re.compile(r"(?<=[a-ząćęłńóśźż])(?=[A-ZĄĆĘŁŃÓŚŹŻ])")


class TermIndex:
    """The keys present in a text: every word's (any case; each of two words glued by a lost space
    too), its numbers and its months.

    >>> TermIndex("Rosyjski przywódcaWładimir Putin powiedział").has(key_terms("Władimir Putin")[0])
    True
    """

    def __init__(self, text: str):
        self.keys: set[str] = set()
        for m in _WORD.finditer(text):
            self.keys.update(_evidence_keys(m.group(0)))
            parts = _GLUED.split(m.group(0))
            for part in parts if len(parts) > 1 else ():
                self.keys.update(_evidence_keys(part))
        self.keys.update(f"n{v:g}" for v in numbers(text))

    def has(self, term: Term) -> bool:
        return all(part & self.keys for part in term.parts)


@functools.lru_cache(maxsize=1 << 16)
def _evidence_keys(word: str) -> frozenset[str]:
    folded = fold(word)
    return word_keys(word, evidence=True) | ({f"m{MONTHS[folded]}"} if folded in MONTHS else set())


def missing(terms: list[Term], index: TermIndex) -> list[str]:
    """The terms (as written) that do not occur in the indexed text, without repeats."""
    return list(dict.fromkeys(t.text for t in terms if not index.has(t)))
