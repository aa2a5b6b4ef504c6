"""Answer check: the model's text -> only sentences whose cited passage states them, with citations.

Each answer sentence is kept only if
  1. every name, number and month it asserts occurs in the sentences of the passage it cites, as
     shown to the model (`rag/terms.py`: Polish inflection folded, English names mapped). A name
     that the question itself names and that the retrieved passages hold (the premise check's
     evidence) is exempt, as an answer restating "Pjongjang" or "Szojgu" from the question
     asserts nothing new by it, unless the cited passage holds a word of it but its last, and not
     the whole ("Korea Południowa" where the passage says "Korea Północna": another entity; also
     when glued to the name before it, "Rosji Korea Południowa"; "Szojgu" alone still names
     "Siergiej Szojgu"), or a country's adjective qualifying a name that the cited sentence gives
     with another country's ("the Iranian company Jihyang" for "północnokoreańskiej firmy
     Jihyang": `misattributed`), or unless it is a capital and the cited sentences name another
     ("Kim Jong Un flew to Moscow in June [1]." for a treaty they say was signed "w Pjongjangu w
     czerwcu": the place is the fact, and the question's is a false premise). A number or a month
     is checked even when the question gives it; and
  2. the support judge accepts the passage for it (`rag/support.py`: catches text from the model's
     own knowledge and citations to the wrong passage).
A sentence whose cited passage fails is moved to a passage that passes both, if one does;
otherwise it is dropped. An aside after a name whose terms the passage lacks ("Szojgu, the
Secretary General of the Defense Ministry, announced…") is cut, and the rest checked; so are words
after the sentence's last marker whose terms the passage lacks ("…„heroiczną pomoc” [1] from the
Korean People's Army."): the marker closes what the model cited. A date the
model made more precise than the passage it is checked against ("in September 2024", "on October
1st", where the passage says only "we wrześniu", "w październiku") loses the number the passage
lacks; the month is then checked as usual. An answer left with no sentence becomes a refusal.
Each kept sentence's judge score goes into the answer's evidence score (`Checked.support`).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .asked import sides
from .citations import MARKER, answer_sentences, cite, make_citation, marker_numbers, strip_markers
from .lexical import fold
from .premise import capital
from .support import number_spans, transliterate
from .terms import _MONTHS_EN, MONTHS, TermIndex, key_terms, missing, name_words, names_country, word_keys
from .types import Citation, Passage

REFUSAL_PATTERNS = re.compile(
    r"NO[ _]ANSWER|do(es)? not (contain|answer|say|mention|provide)|no information|not (mentioned|stated)"
    r"|nie zawiera|nie odpowiada|brak (informacji|odpowiedzi)|nie (podaj|wspomina|mówi)", re.I)


_WORDS = re.compile(r"[^\W\d_]+")
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE_NUMBERS = [   # (pattern over folded text, the group holding the number to drop)
    re.compile(rf"(\s*\b(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?)\s+(?:{_MONTH})\b"),           # "1st of October"
    re.compile(rf"\b(?:{_MONTH})(\s+(\d{{1,2}})(?:st|nd|rd|th)?)\b(?![.,]?\d)"),         # "October 1st"
    re.compile(rf"\b(?:{_MONTH})(,?\s+(\d{{4}})(?:\s+(?:roku|r\.))?)(?!\d)"),            # "September 2024"
]


_ON_MONTH = re.compile(rf"\b[Oo]n ((?:{'|'.join(m.capitalize() for m in _MONTHS_EN)})\b(?! \d))")   # "on October 1st",
                                                                                        # trimmed: "in October"


def trim_dates(claim: str, shown: TermIndex) -> str:
    """`claim` without the day or year next to a month that no passage holds: a date made more
    precise than the articles' is cut back to theirs.

    >>> trim_dates("He said it in September 2024 and on October 1st [1].", TermIndex("we wrześniu, w październiku"))
    'He said it in September and in October [1].'
    >>> trim_dates("We wrześniu 2024 roku [1].", TermIndex("We wrześniu 2024 roku"))
    'We wrześniu 2024 roku [1].'
    """
    for pattern in _DATE_NUMBERS:
        folded = fold(claim)
        if len(folded) != len(claim):
            return claim
        for m in reversed(list(pattern.finditer(folded))):
            if f"n{int(m.group(2)):g}" not in shown.keys:
                claim = claim[:m.start(1)] + claim[m.end(1):]
    return _ON_MONTH.sub(lambda m: ("In " if m.group(0)[0] == "O" else "in ") + m.group(1), claim)


# an aside set off by commas right after a name: "Szojgu, the Secretary General of the Ministry of
# Defense, announced…"
_ASIDE = re.compile(r"(?<=\w),\s+([^,;:()\[\]\"„”]{3,100}?),\s+")


def drop_asides(claim: str, lacking: Callable[[str], list[str]]) -> str:
    """`claim` without the asides after a name that assert what `lacking` (text -> the terms no
    passage holds) finds: the title a model adds to a name is dropped, the claim it adorns kept.

    >>> drop_asides("Szojgu, the Secretary General of the Defense Ministry, said it [1].",
    ...             lambda text: ["Defense Ministry"] if "Defense" in text else [])
    'Szojgu said it [1].'
    """
    for m in reversed(list(_ASIDE.finditer(claim))):
        before = claim[:m.start()].split()
        if before and before[-1][:1].isupper() and lacking(m.group(1)):
            claim = claim[:m.start()] + " " + claim[m.end():]
    return claim


_CAPITALISED = re.compile(r"\b[^\W\d_a-ząćęłńóśźż][^\W\d_]{4,}")


def respell(sentence: str, cited: str) -> str:
    """`sentence` with a name the model misspelt written as the cited sentences spell it: one
    letter off, not in the word's last two (those are its ending: "Korei" is not "Koreą"), and not
    an English spelling of the name ("Budanov" for "Budanow", "Vyacheslav" for "Wiaczesław" stay).
    A reader then finds the name where the citation leads.

    >>> respell("Vyacheslav Wiłodin promised it [1]. Budanov said so.", "Wiaczesław Wołodin obiecał. Budanow mówił.")
    'Vyacheslav Wołodin promised it [1]. Budanov said so.'
    >>> respell("Korei Południowej [1].", "Koreą Południową")
    'Korei Południowej [1].'
    """
    spelled = {transliterate(w): w for w in _CAPITALISED.findall(cited)}
    for word in dict.fromkeys(_CAPITALISED.findall(sentence)):
        key = transliterate(word)
        if key in spelled:
            continue
        for other, original in spelled.items():
            apart = [i for i, (a, b) in enumerate(zip(key, other)) if a != b]
            if len(other) == len(key) and len(apart) == 1 and 0 < apart[0] < len(key) - 2 \
                    and {key[apart[0]], other[apart[0]]} != {"i", "j"}:      # "Vyacheslav" ~ "Wiaczesław"
                sentence = re.sub(rf"\b{re.escape(word)}\b", original, sentence)
                break
    return sentence


def said_twice(claim: str, cited: str) -> list[str]:
    """The numbers `claim` states more often than `cited` does: an answer to two questions at once
    that gives one number for both ("wants to hire 20,000 … and 20,000 were already working", where
    the passage says 12 tys. and 20 000) asserts it of something the passage does not.

    >>> said_twice("Rosja chce zatrudnić 20 000 osób, a pracowało już 20 000 osób [1].",
    ...            "Rosja chce zatrudnić 12 tys. osób. Pracowało już ok. 20 000 osób.")
    ['20 000']
    >>> said_twice("Wysłano 6000 osób, w tym 1000 saperów [1].", "6 tys. osób, w tym tysiąc saperów")
    []
    """
    held = [v for v, _, _ in number_spans(cited)]
    spans = number_spans(claim)
    said = [v for v, _, _ in spans]
    return list(dict.fromkeys(claim[a:b].strip() for v, a, b in spans if said.count(v) > max(held.count(v), 1)))


def uncited_tail(sentence: str) -> str:
    """The words after the last marker of an answer sentence, '' when a marker ends it: the marker
    closes what the model cited ("…„heroiczną pomoc” [1] from the Korean People's Army.").

    >>> uncited_tail("Moscow is grateful for the help [1] from the Korean People's Army.")
    "from the Korean People's Army"
    >>> uncited_tail("Moscow is grateful [1]."), uncited_tail("No marker here.")
    ('', '')
    """
    last = None
    for last in MARKER.finditer(sentence):
        pass
    tail = sentence[last.end():].strip(" .!?") if last else ""
    return tail if re.search(r"[^\W\d_]", tail) else ""


@dataclass
class Checked:
    text: str                                 # kept sentences with their (possibly moved) markers
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False                     # the model refused, or nothing it said was supported
    kept: int = 0                             # answer sentences kept ...
    dropped: list[str] = field(default_factory=list)   # ... and those dropped, with why
    support: float = 0.0                      # mean judge score of the kept sentences (0 when none)


_STRIP = ",.;:()\"'„”«»"


def _country(word: str) -> frozenset[str]:
    """The country a word names, as a side (`asked.sides`: "północnokoreańskiej" and "North Korean"
    alike) or else by its folded first four letters ("Iranian", "irańskiej" -> "iran"); empty for
    other words."""
    found = sides(word)
    return frozenset(found) if found else frozenset({fold(word)[:4]}) if names_country(word) else frozenset()


# how a country's adjective ends: "Iranian", "Chinese", "Turkish", "Saudi", "irański", "chińskiej"
# (Polish case forms of names, "Rosji", end so too: the name that must follow decides)
_ADJECTIVE = re.compile(r"(ian|ean|an|ese|ish|i|sk\w*|ck\w*)$")


def misattributed(term: str, claim: str, passage: str, gap: int = 2) -> bool:
    """True when `term`, a country the answer restates from the question, qualifies a name
    ("the Iranian company Jihyang") that `passage` gives with another country's word before it
    ("…północnokoreańskiej firmy Jihyang"): a false attribute, not the question's context.

    >>> firm = "Spotkano się z przedstawicielami północnokoreańskiej firmy Jihyang Technology Trade Company."
    >>> misattributed("Iranian", "Russia met the Iranian company Jihyang [1].", firm)
    True
    >>> misattributed("North Korean", "Russia met the North Korean company Jihyang [1].", firm)
    False
    >>> misattributed("Rosji", "Rosji dostarczono czołgi M2010 [1].", "Korea Północna dostarczyła Rosji czołgi M2010.")
    False
    """
    own = _country(term) if _ADJECTIVE.search(fold(term)) else frozenset()
    if not own:
        return False
    raw = claim.split()
    words = [w.strip(_STRIP) for w in raw]
    last = fold(term.split()[-1])
    names = set()
    for i in (i + 1 for i, w in enumerate(words) if fold(w) == last and not raw[i].endswith((",", ";", ":"))):
        for j in range(i, min(i + gap, len(words))):       # the noun it qualifies, up to a comma
            if words[j][:1].isupper() and not _country(words[j]):
                names.add(words[j])
            if raw[j].endswith((",", ";", ":")) or words[j][:1].isupper():
                break
    shown = [w.strip(_STRIP) for w in passage.split()]
    for name in names:
        keys = word_keys(name)
        for j, w in enumerate(shown):
            if w[:1].isupper() and word_keys(w) & keys:
                before = [_country(b) for b in shown[max(j - gap, 0):j]]
                if any(before) and not any(c & own for c in before):
                    return True
    return False


def check(text: str, passages: list[Passage], judge, question: str = "",
          retrieved: list[Passage] | None = None) -> Checked:
    """Keep what the cited passages state (the conditions above). `retrieved`: the passages the
    premise check searched (default: `passages`, those of the prompt)."""
    if not text or REFUSAL_PATTERNS.search(text) and not marker_numbers(text):
        return Checked("", refused=True)
    text, _ = cite(text, passages)
    texts = [p.text or p.chunk.text for p in passages]
    shown = [TermIndex(t) for t in texts]
    capitals = [{capital(w) for w in _WORDS.findall(t)} - {None} for t in texts]    # the cities each one names
    known = name_words(question + "\n" + "\n".join(p.chunk.text for p in passages))
    asked = TermIndex(" ".join(t.text for t in key_terms(question, initial=known) if t.kind == "name"))
    searched = TermIndex("\n".join(p.chunk.text for p in retrieved or passages))

    def exempt(term, n: int, claim: str = "") -> bool:   # a name of the question, restated, where passage n lacks it
        if term.kind != "name" or not asked.has(term) or not searched.has(term):
            return False
        if claim and misattributed(term.text, claim, texts[n - 1]):
            return False                   # "the Iranian company Jihyang", where it says "północnokoreańskiej firmy"
        city = capital(term.text) if len(term.parts) == 1 else None
        if city and capitals[n - 1] - {city}:
            return False                   # "Moscow", where the cited sentence says "w Pjongjangu"
        return not any(part & shown[n - 1].keys for part in term.parts[:-1])

    kept, citations, scores, dropped = [], [], [], []
    threshold = getattr(judge, "threshold", 0.5)
    for sentence in answer_sentences(text):
        sentence = respell(sentence, " ".join(texts[n - 1] for n in marker_numbers(sentence) if 1 <= n <= len(texts)))
        claim = strip_markers(sentence)
        if not claim or REFUSAL_PATTERNS.search(claim):
            continue

        def lacking(text: str, n: int) -> list[str]:      # the terms of `text` passage n does not hold
            terms = key_terms(text, initial=known)
            return missing([t for t in terms if not exempt(t, n, text)], shown[n - 1])

        tail = uncited_tail(sentence)
        head = strip_markers(sentence[:sentence.rindex(tail)]).rstrip(",;: ") + "." if tail else claim

        def claim_for(n: int) -> str:         # the claim as passage n can state it: dates no more precise,
            base = head if tail and lacking(tail, n) else claim       # nothing added after its marker,
            return drop_asides(trim_dates(base, shown[n - 1]), lambda text: lacking(text, n))   # no added title

        def absent(n: int) -> list[str]:      # the claim's terms passage n does not hold, and the numbers it
            stated = claim_for(n)             # states once that the claim states of two things
            return lacking(stated, n) + [f"{x} twice" for x in said_twice(stated, texts[n - 1])]

        scores_of: dict[int, float] = {}      # passage number -> score: each passage judged once

        def passes(n: int) -> float:
            if n not in scores_of:
                scores_of[n] = 0.0 if absent(n) else judge.score(claim_for(n), passages[n - 1].chunk.text, question)
            return scores_of[n]

        cited = [n for n in dict.fromkeys(marker_numbers(sentence)) if 1 <= n <= len(passages)]
        scored = [(passes(n), n) for n in cited]
        good = [(s, n) for s, n in scored if s >= threshold]
        if not good:
            best = max(((passes(p.rank), p.rank) for p in passages), default=(0.0, 0))
            good = [best] if best[0] >= threshold else []
        if not good:
            why = f"not in [{', '.join(map(str, cited))}]: {', '.join(absent(cited[0]))}" \
                if cited and absent(cited[0]) else "no passage supports it"
            dropped.append(f"{claim} ({why})")
            continue
        numbers = [n for _, n in good]
        scores.append(max(s for s, _ in good))
        marks = "".join(f"[{n}]" for n in numbers)
        for n in numbers:
            claim = claim_for(n)
        kept.append(f"{claim.rstrip('.!?')} {marks}" + (claim[-1] if claim[-1] in ".!?" else "."))
        for n in numbers:
            c = make_citation(n, passages[n - 1], claim)
            if (c.marker, c.start) not in {(x.marker, x.start) for x in citations}:
                citations.append(c)
    if not kept:
        return Checked("", refused=True, dropped=dropped)
    return Checked(" ".join(kept), citations, False, len(kept), dropped, sum(scores) / len(scores))
