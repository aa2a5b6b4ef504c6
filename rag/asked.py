"""What a question asks for, and whether an answer gives it: a question -> "quantity" | "time" | "who" |
"name" (a place or body known by its name) | None; and its parts, when it asks two things (`parts`).

A question that asks how many, when, who, or which place or body is answered only by a number, a
time, or a name that the question does not already hold. An answer without one, however well its sentences are cited,
is a nearby fact ("Ilu członków liczyła delegacja?" answered with "Ukraina i Republika Korei
wymienią delegacje [1]."): the pipeline refuses it. So is an answer to who holds a post ("Kto
kieruje NIS?") whose cited sentences name no post at all. Other questions are not checked.

    >>> asks("Ilu żołnierzy wysłała Korea Północna?"), asks("When did Shoigu visit Pyongyang?")
    ('quantity', 'time')
    >>> asks("On exactly which day in June was the treaty signed?"), asks("Którego dnia podpisano traktat?")
    ('time', 'time')
    >>> asks("Which North Korean officials met Shoigu?"), asks("Który rosyjski urzędnik przyjechał?")
    ('who', 'who')
    >>> asks("Whose inauguration coincided with the visit?"), asks("Z kim spotkał się Szojgu?")
    ('who', 'who')
    >>> asks("What are the names of the officials who met them?"), asks("Jak nazywają się ci urzędnicy?")
    ('who', 'who')
    >>> gives("Ile trwał pobyt Szojgu?", "Pobyt był jednodniowy [1].")
    True
    >>> gives("Ile pieniędzy Rosja zapłaciła?", "Korea Północna dostarczała amunicję [1].")
    False
    >>> gives("Ilu członków liczyła delegacja?", "Delegacja odwiedzi Ukrainę w tym tygodniu [1].")
    False

"Jedna" is an amount; "jednak", "jednocześnie", "jednostki" and "jednodniowy" are not (a day-long
visit answers how long, not how many):
    >>> (gives("Ilu członków liczyła delegacja?", "Wizyta miała charakter jednodniowy [1]."),
    ...  gives("Ilu żołnierzy zginęło?", "Pjongjang jednak zaprzecza [1]."), gives("Ile dronów?", "Jedna fabryka [1]."))
    (False, False, True)
    >>> gives("Who heads HUR?", "Kyryło Budanow heads HUR [1].")
    True
    >>> gives("Who met Kim Jong Un?", "Kim Dzong Un met him [1].")
    False
    >>> gives("Whose inauguration coincided with Shoigu's meeting with Kim?", "It coincided with the meeting "
    ...       "with Kim Dzong Un [1].")
    False
    >>> gives("Which Ukrainian general spoke of ammunition?", "Generał Kyryło Budanow spoke of it [1].")
    True
    >>> gives("Jak nazywa się rosyjskie centrum szkoleniowe?", "Centrum szkoleniowe to Rosja [1].")
    False

A place or body known by its name is asked for by name, its acronym or its kind's word and name:
    >>> asks("W której stoczni buduje się okręty?"), asks("Which news agency got the footage?")
    ('name', 'name')
    >>> asks("W których dziedzinach robi postępy?"), asks("W którym obwodzie walczą?")
    (None, None)
    >>> asks("Która rosyjska gazeta pisała o minach?"), asks("Jakie informacje przekazała agencja Yonhap?")
    ('name', None)
    >>> asks("Which South Korean news agency reported it?"), asks("Which reports did the agency publish?")
    ('name', None)
    >>> (gives("Which US broadcaster confirmed the base?", "CNN confirmed the base [1]."),
    ...  gives("Która firma werbuje pracowników?", "Firma Jihyang Technology Trade Company werbuje [1]."),
    ...  gives("W której stoczni buduje się okręty podwodne?", "Okręty podwodne buduje się w stoczni [1]."))
    (True, True, False)

A country names no shipyard, agency or city, unless a country is what is asked:
    >>> (gives("W której stoczni Korea Północna buduje okręty?", "Rosja mogła przekazać KRLD moduły [1]."),
    ...  gives("Z jakiego kraju pochodzi pierwowzór dronów Shahed?", "Pochodzi z Iranu [1]."),
    ...  gives("Która agencja to ujawniła?", "Narodowa Służba Wywiadowcza Korei Południowej [1]."),
    ...  gives("Która agencja to ujawniła?", "Ujawniła to Korea Północna [1]."))
    (False, True, True, False)
    >>> asks("Jaką kwotę pomocy zapowiedziano?"), gives("Jaka powierzchnia pozostaje zaminowana?", "Prace trwają [1].")
    ('quantity', False)
    >>> asks("Jaki zasięg w kilometrach mają drony?"), asks("What monthly salary do the soldiers receive?")
    ('quantity', 'quantity')
    >>> gives("What is the range of the drones in kilometres?", "The drones are long-range [1].")
    False
"""
from __future__ import annotations

import re
from collections.abc import Callable

from .citations import strip_markers
from .lexical import fold, tokens
from .support import number_spans, numbers
from .terms import TermIndex, implied, key_terms, names_country, word_keys

# units an amount may be asked in: "w kilometrach", "in dollars"
_UNITS_ASKED = r"kilometr\w*|km|metr\w*|ton\w*|dolar\w*|dollars|euro|rubl\w*|roubles|rubles|kilogram\w*|kilograms?|kg"
# measures an amount may be asked by: a range, cost, weight, salary… ("Jaki zasięg…?", "What monthly salary…?")
_MEASURES = (r"zasi[eę]g\w*|koszt\w*|mas[aęy]|wag[aęi]|wynagrodzeni\w*|p[lł]ac\w*|pensj\w*|[zż]o[lł]d\w*|stawk\w*|"
             r"pr[eę]dko[sś]\w*|cen[aęy]|range|cost|weight|mass|salary|wages?|pay|rate|speed|price")
# places and bodies known by their names ("stocznia", "agencja", "broadcaster"), not by a lowercase
# adjective as regions are ("w obwodzie kurskim")
_BODIES = (r"stoczni\w*|miast(o|a|u|em|ach)?|mie[sś]cie|miejscowo\w*|kraj(u|em|e|ów|ach)?|państw(o|a|u|em|ie|ach)?|agencj\w*|"
           r"gazet\w*|dziennik(a|u|i|iem|ów)?|firm\w*|shipyards?|city|cities|towns?|country|countries|agency|agencies|"
           r"newspapers?|broadcasters?|compan(y|ies)|firms?")
# a Polish adjective before the noun: "rosyjska", "północnokoreańskiej", "prasowa", "telewizyjną"
_PL_ADJECTIVE = r"\w+(sk|ck|n|w)(a|ą|i|ie|iej|iego|ich|im|ym|y|e|ej|ego|ych)"
_ASKS = [
    ("quantity", re.compile(r"^\s*(ile|ilu|ilo[sś][cć]|how (many|much|long|large|big|far|heavy)|"
                            r"jak(a|ą|i|ie|iej|im) (jest )?((kwot|sum|liczb|powierzchni|odleg[lł]o[sś]|warto[sś]|"
                            rf"procent|odset|obszar)\w*|({_MEASURES})\b)|what (is the )?((hourly|daily|weekly|monthly|"
                            r"annual|yearly|average|total) )?(amount|number|sum|percentage|share|proportion|area|distance|"
                            rf"value|size|{_MEASURES})\b)"
                            # a unit asked for: "Jaki zasięg w kilometrach…", "… in dollars?"
                            rf"|\b(w|in) ({_UNITS_ASKED}|procent\w*|percent)\b", re.I)),
    ("time", re.compile(r"^\s*(kiedy|od kiedy|do kiedy|when|since when|w (którym|jakim) (roku|miesiącu|dniu|tygodniu)|"
                        r"(którego|jakiego) dnia|((on|in) )?(exactly )?(which|what) (exact )?(month|year|date|day))\b", re.I)),
    ("who", re.compile(r"^\s*(kto|kogo|komu|z kim|czyj\w*|who|whom|whose|with whom|to whom|jak (się )?nazywa(ją)?( się)?|"
                       r"what (is|are|was|were) the names?|(which|któr\w*|jac[iy]|jaki)\s+(\w+\s+){0,3}?"
                       r"(officials?|leaders?|ministers?|generals?|commanders?|persons?|people|politicians?|"
                       r"spokes\w+|presidents?|urzędni\w*|polity\w*|generał\w*|dowódc\w*|minist\w*|rzeczni\w*|"
                       r"przywódc\w*|osob\w*|osób|prezydent\w*|heads?|chiefs?|chairm[ae]n|secretar(y|ies)|directors?|"
                       r"szef\w*|przewodnicząc\w*|sekretarz\w*|dyrektor\w*|prezes\w*|premier\w*))\b", re.I)),
    # a place or body known by its name: "W której stoczni…?", "Która rosyjska gazeta…?", "Which news
    # agency…?"; adjectives between, not a verb or a noun ("Jakie informacje przekazała agencja…?",
    # "Which reports did the agency…?" ask what it said)
    ("name", re.compile(r"^\s*((w|we|z|ze|do|na|od|dla|przez)\s+)?(któr\w*|jak\w*)\s+"
                        rf"({_PL_ADJECTIVE}\s+){{0,2}}({_BODIES})\b"
                        r"|^\s*((in|at|from|to|by|for)\s+)?which\s+"
                        rf"((?!(did|does|do|was|were|is|are|has|have|had|will|would|can|could)\b)[\w-]+\s+){{0,3}}"
                        rf"({_BODIES})\b", re.I)),
]
# amounts written in words: "kilka tysięcy", "one-day", "half"
_AMOUNT = re.compile(
    r"\b(tysi[aą]c\w*|tysi[eę]cy|setk\w*|kilk\w*|kilkana[sś]cie|kilkadziesi[aą]t|dziesi[aą]t\w*|"
    r"jed(en|na|nego|nej|nemu|nym|n[aą]|no)|jedena[sś]\w*|"
    r"dw(a|óch|oje|ie|u)|trz(y|ech)|czter\w*|pi[eę][cć]\w*|po[lł]ow\w*|thousand\w*|hundred\w*|several|dozens?|one|"
    r"two|three|four|five|half)\b", re.I)
# durations ("ponad rok", "a few weeks") answer only a question about how long: "Ilu członków liczyła
# delegacja?" is not answered by "w tym tygodniu"
_DURATION = re.compile(r"\b(rok\w*|roku|lat|miesi[aą]c\w*|dni|dzie[nń]|tygod\w*|godzin\w*|years?|months?|days?|weeks?|"
                       r"hours?|\w+(dniow|roczn|miesi[eę]czn|tygodniow|godzinn)\w*)\b", re.I)
_HOW_LONG = re.compile(r"^\s*(ile (trwa\w*|czasu|godzin\w*|dni|lat|miesi\w*|tygod\w*)|jak d[lł]ugo|how long|"
                       r"for how (many|long)|how many (hours|days|weeks|months|years))\b", re.I)
# times written without a month or a number: a weekday, a season, "last year"
_TIME = re.compile(
    r"\b(poniedzia[lł]\w*|wtor\w*|[sś]rod\w*|czwart\w*|pi[aą]t\w*|sobot\w*|niedziel\w*|wiosn\w*|lat\w*|jesie\w*|"
    r"zim\w*|wczoraj|ubieg[lł]\w*|zesz[lł]\w*|monday|tuesday|wednesday|thursday|friday|saturday|sunday|spring|"
    r"summer|autumn|fall|winter|yesterday|last)\b", re.I)
_CAPITALISED = re.compile(r"\b[^\W\d_][\w'’-]*", re.UNICODE)


# where a question of two parts starts its second ("…, and how many more did Kim agree…?", "… i kto
# go tam wysłał?", "… i na jakie źródło się powołał?", "…, and in which building…?")
_SECOND_PART = re.compile(r",?\s+(?:and|i|a|oraz)\s+(?=(?:(?:in|on|at|to|from|for|with|by|of|w|we|na|do|z|ze|o|od|"
                          r"przed|po|za|dla|przy|pod|nad|u)\s+)?(?:how|what|when|who|whom|which|where|why|ile|ilu|"
                          r"kiedy|kto|kogo|komu|czyj\w*|whose|jak\w*|któr\w*|gdzie|dlaczego|czy|co|czym|czego|o czym)\b)", re.I)


def parts(question: str) -> list[str]:
    """The question's parts, each asking one thing of at least three words; one part for most questions.

    >>> parts("Ile trwał pobyt Szojgu w Pjongjangu i kto go tam wysłał?")
    ['Ile trwał pobyt Szojgu w Pjongjangu', 'kto go tam wysłał?']
    >>> parts("What did Shoigu announce in June, and in which building did he meet Kim?")
    ['What did Shoigu announce in June', 'in which building did he meet Kim?']
    >>> parts("When was the treaty signed, and whose swearing-in fell on that day?")
    ['When was the treaty signed', 'whose swearing-in fell on that day?']
    >>> parts("Kto i kiedy podpisał traktat?"), parts("Why did Russia and North Korea sign it?")
    (['Kto i kiedy podpisał traktat?'], ['Why did Russia and North Korea sign it?'])
    """
    pieces = _SECOND_PART.split(question)
    return pieces if all(len(p.split()) >= 3 for p in pieces) else [question]    # "Kto i kiedy…?" asks together


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
        return bool(new_names(question, text))
    if kind == "name":                   # a body may be named by its acronym: "CNN", "NIS"
        # a country names no shipyard, agency or city ("…Rosja mogła przekazać…" for "W której stoczni…?")
        country = bool(_COUNTRY_ASKED.search(question))
        named = [n for n in new_names(question, text) if country or not all(_country_word(w) for w in n)]
        return bool(named or {a for a in set(_ACRONYM.findall(text)) - set(_ACRONYM.findall(question))
                              if country or not names_country(a) and a not in _COUNTRY_ACRONYMS})
    return True


_COUNTRY_ASKED = re.compile(r"\b(kraj\w*|państw\w*|countr\w*)\b", re.I)
_COMPASS = re.compile(r"(p[oó][lł]noc|po[lł]udni|wsch[oó]d|zach[oó]d|north|south|east|west)", re.I)


def _country_word(word: str) -> bool:
    """A word of a country's name: "Rosja", "Korei", "Północnej" ("Narodowa Służba Wywiadowcza Korei
    Południowej" names a body, "Korei Północnej" a country)."""
    return names_country(word) or bool(_COMPASS.match(word))
_COUNTRY_ACRONYMS = {"KRLD", "DPRK", "ChRL", "PRC", "ZSRR", "USSR", "RP"}


_ACRONYM = re.compile(r"\b[A-ZĄĆĘŁŃÓŚŹŻ]{2,6}\b")
_BODY = re.compile(rf"(?:{_BODIES})", re.I)


def new_names(question: str, answer: str) -> list[list[str]]:
    """The names `answer` gives that `question` does not hold, each as its words, titles left out.
    A capitalised word starting the answer counts too ("Putin claimed…"). Names are compared by
    their keys, and a name sharing a word with the question's is that name written out: "Kim Dzong
    Un" restates the question's "Kim Jong Un", and its "Kim"; a title is no part of the name:
    "Generał Kyryło Budanow" is new to "Which general…?". Nor are the question's words in lower
    case ("centrum": "Centrum…" starting the answer), nor the country of a nationality it names
    ("rosyjskie centrum": "Rosja"). But a post, its body and its holder run together as one
    capitalised name ("Rzecznik Kremla Dmitrij Pieskow"): after a post, two or more words after the
    last one the question holds, none of them a country's, are the holder's name, new though the
    body is asked.

    >>> new_names("Which general spoke?", "Generał Kyryło Budanow spoke [1].")
    [['Kyryło', 'Budanow']]
    >>> new_names("Who is the Kremlin spokesman?", "Rzecznik Kremla Dmitrij Pieskow [1].")
    [['Dmitrij', 'Pieskow']]
    >>> new_names("Kto przewodniczy Dumie?", "Przewodniczący Dumy Państwowej Federacji Rosyjskiej [1].")
    []
    >>> new_names("Kto kieruje HUR?", "Szef HUR Kyryło Budanow [1]."), new_names("Who met Kim?", "He met Kim Dzong Un [1].")
    ([['Kyryło', 'Budanow']], [])
    """
    text = strip_markers(answer)
    capitalised = {fold(w) for w in _CAPITALISED.findall(text) if w[0].isupper()}
    asked = {k for w in _CAPITALISED.findall(question) if w[0].isupper() or len(w) >= 5 for k in word_keys(w)}
    restated = [holds for _, holds in implied(question)]
    out = []
    for t in key_terms(text, initial=capitalised):
        words = [w for w in t.text.split() if not _POST.fullmatch(w) and not _BODY.fullmatch(w)]   # "Firma Jihyang…"
        if t.kind != "name":
            continue
        if _new_name(words, asked):
            if not any(holds(t.text) for holds in restated):
                out.append(words)
        elif len(holder := _holder(words, asked)) >= 2 and _HOLDS_POST.search(_before(text, t.text) + t.text) \
                and not any(holds(" ".join(holder)) for holds in restated):
            out.append(holder)
    return out


def _new_name(words: list[str], asked: set[str]) -> bool:
    return bool(words) and all(not word_keys(w, evidence=True) & asked for w in words)


def _before(text: str, term: str) -> str:
    """The word just before `term` in `text` ("Szef" of "Szef HUR Kyryło Budanow"), or the post an
    English "of" joins to it ("Secretary of" of "Secretary of Russia's Security Council Siergiej Szojgu").

    >>> _before("Secretary of Russia's Security Council Siergiej Szojgu [1].", "Russia's Security Council Siergiej Szojgu")
    'Secretary of '
    >>> _before("The Head of the HUR Kyrylo Budanov [1].", "HUR Kyrylo Budanov"), _before("Szef HUR Budanow", "HUR Budanow")
    ('Head of the ', 'Szef ')
    """
    words = text[:max(text.find(term), 0)].split()
    joined = words[:-1] if words and words[-1].lower() == "the" else words          # "Head of the HUR …"
    if len(joined) > 1 and joined[-1].lower() == "of":
        return " ".join(words[len(joined) - 2:]) + " "
    return words[-1] + " " if words else ""


def _holder(words: list[str], asked: set[str]) -> list[str]:
    """The words of a name after the last one `asked` holds, unless one of them names a country
    ("Dumy Państwowej Federacji Rosyjskiej" ends with a state, not a person)."""
    tail = []
    for w in reversed(words):
        if word_keys(w, evidence=True) & asked:
            break
        tail.insert(0, w)
    return [] if len(tail) == len(words) or any(names_country(w) for w in tail) else tail


# a quantity asked by its measure or unit, answered by a number with a unit: "What monthly salary…?" is not
# answered by the "14 tys. żołnierzy" of the cited sentence
_MEASURE = re.compile(rf"\b({_MEASURES})\b|\b(w|in) ({_UNITS_ASKED})\b", re.I)
_UNIT = re.compile(r"[\s\u00a0]*(\$|€|z[lł]\b|z[lł]ot\w*|dolar\w*|dollars?|USD|euro|EUR|rubl\w*|rubles?|roubles?|"
                   r"juan\w*|yuan|won\w*|jen\w*|yen|km\b|kilometr\w*|kilomet(er|re)s?|metr\w*|met(er|re)s?|kg\b|"
                   r"kilogram\w*|ton\w*|%|procent\w*|percent)", re.I)
# losses a how-many question may ask about, and how a sentence says them: "How many … were wounded?"
# is not answered by the "14 tys. żołnierzy" a sentence says were sent, nor "ilu zginęło" by those wounded
_CASUALTIES = [(re.compile(asked_by, re.I), re.compile(said, re.I)) for asked_by, said in (
    (r"\b(kill\w*|dead|died|die|deaths?|zgin\w*|zabi\w*|poleg\w*|śmier\w*|zmar\w*)\b",
     r"\b(zgin\w*|zabi\w*|poleg\w*|śmier\w*|zmar\w*|ofiar\w*|killed|dead|died|deaths?)"),
    (r"\b(wounded|injur\w*|rann\w*)\b", r"\b(rann\w*|obraże\w*|wounded|injur\w*)"),
    (r"\b(captur\w*|prisoners?|pows?|jeńc\w*|jeniec|niewol\w*|pojman\w*)\b",
     r"\b(jeńc\w*|jeniec|niewol\w*|pojman\w*|schwyt\w*|captur\w*|prisoners?)"))]
# words of a how-many question that say how many, not of what
_QUANTITY_WORDS = {"ilu", "ilos", "many", "much", "larg", "big", "far", "amou", "numb", "jaka", "jaki", "licz", "kwot",
                   "tota", "lacz", "okol"}
_AFTER = 4           # words after a number that may name what it counts: "12 tys. północnokoreańskich pracowników"


def counts_asked(question: str, answer: str, quotes: list[str], words: str | None = None) -> bool:
    """False when a how-many question is answered with numbers that, in the sentences they are
    cited to, count something else: "Ile dronów wytwarza zakład?" answered with the "12 tys. …
    pracowników" of its cited sentence. A number counts what the question asks for when one of
    the question's common words (or of `words`, its Polish words for an English question; names
    are where, not what) stands in the four words after it there (what a number counts follows
    it, in Polish and English alike). Years, amounts in words, numbers the question gives and
    numbers no cited sentence holds are not judged (the answer check sees to the last); nor is an
    English question without Polish words (`words` None), whose words cannot meet the Polish text.

    >>> quote = "Rosja planuje zatrudnić 12 tys. północnokoreańskich pracowników w Tatarstanie."
    >>> counts_asked("Ile dronów wytwarza zakład?", "Zakład zatrudni 12 tys. pracowników [1].", [quote], "")
    False
    >>> counts_asked("Ilu pracowników chce zatrudnić Rosja?", "12 tys. [1].", [quote], "")
    True
    >>> counts_asked("How many workers will Russia hire?", "12,000 [1].", [quote], "pracownik zatrudnić Rosja")
    True

    A loss (killed, wounded, captured) is said in the sentence with the number:
    >>> sent, lost = "Korea Północna wysłała ok. 14 tys. żołnierzy.", "Śmierć poniosło ponad 6 tys. z nich."
    >>> counts_asked("How many soldiers were wounded?", "14,000 soldiers [1].", [sent], "żołnierz ranny")
    False
    >>> counts_asked("How many soldiers were killed?", "Over 6,000 [1].", [lost], "żołnierz zabity")
    True

    A salary, cost, range or weight is a number with its unit there:
    >>> counts_asked("What monthly salary do the soldiers get?", "14,000 yuan [1].", ["Wysłała 14 tys. żołnierzy."])
    False
    >>> counts_asked("Jaką stawkę oferuje Rosja?", "2,5 dolara [1].", ["Oferują około 2,5 dolara za godzinę."], "")
    True
    """
    if asks(question) != "quantity" or _HOW_LONG.search(question):
        return True
    given = {v for v in numbers(strip_markers(answer)) - numbers(question)
             if not (1900 <= v <= 2100 and v.is_integer())}          # years say when, not how many
    lost = [said for asked_by, said in _CASUALTIES if asked_by.search(question)]
    if lost:                              # killed, wounded, captured: the sentence says which
        return _judged(given, quotes, lambda after: True, lambda quote: any(said.search(quote) for said in lost))
    if _MEASURE.search(question):         # a salary, range or weight is a number with its unit
        return _judged(given, quotes, lambda after: bool(_UNIT.match(after)))
    if words is None:
        return True
    text = f"{question} {words}"
    named = set(tokens(" ".join(w for w in _CAPITALISED.findall(text)[1:] if w[0].isupper()), 4))
    asked = {t for t in tokens(text, 4) if t not in _QUANTITY_WORDS and t not in named and not t.isdigit()}
    if not asked:
        return True
    return _judged(given, quotes, lambda after: bool(asked & set(tokens(" ".join(after.split()[:_AFTER]), 4))))


# who holds a post: "Kto kieruje…?", "Kto stał na czele…?", "Who commanded…?"; and the posts a sentence
# that answers it names ("Szef HUR, generał Kyryło Budanow…")
_LEADS = re.compile(r"\b(kieruj\w*|kierował\w*|na czele|dowodz\w*|dowodził\w*|dowódc\w*|szef\w*|przewodnicz\w*|"
                    r"heads?|headed|leads?|led|command\w*|chairs?|chaired|in charge)\b", re.I)
_POST = re.compile(r"\b(szef\w*|dowódc\w*|przewodnicząc\w*|dyrektor\w*|prezes\w*|prezydent\w*|premier\w*|minist\w*|"
                   r"generał\w*|gen\.|sekretarz\w*|przywódc\w*|komendant\w*|kierowni\w*|naczelni\w*|"
                   r"head|chief|commander|director|chair\w*|president|minister|general|leader|secretary)\b", re.I)
# a post, for a name run that may end with its holder: `_POST`'s, and a spokesman's
_HOLDS_POST = re.compile(rf"{_POST.pattern}|\b(rzeczni\w*|spokes\w*)\b", re.I)


_BEFORE_POST, _AFTER_POST = 2, 6    # words around a post that may name its holder: "Przewodniczący Dumy
                                    # Państwowej Federacji Rosyjskiej Wiaczesław Wołodin", "Kyryło Budanow, szef HUR"

# a Polish verb of leading and the post it stands for: "Kto kieruje HUR?" is answered by "Szef HUR, …"
_LEAD_POSTS = ((re.compile(r"\b(kieruj\w*|kierował\w*|na czele)\b", re.I), "szef"),
               (re.compile(r"\b(dowodz\w*|dowodził\w*)\b", re.I), "dowódca"))


def post_words(question: str) -> str:
    """The posts a Polish who-question's verb of leading stands for, as search words ('' for others).

    >>> post_words("Kto kieruje ukraińskim wywiadem wojskowym HUR?"), post_words("Kto dowodzi wojskami KRLD?")
    ('szef', 'dowódca')
    >>> post_words("Ilu żołnierzy dowodzi Kim?"), post_words("Kto przewodniczy Dumie?")
    ('', '')
    """
    if asks(question) != "who":
        return ""
    return " ".join(post for pattern, post in _LEAD_POSTS if pattern.search(question))


# the side of the war a post belongs to, by the country, capital or body named with it (folded text):
# "Rzecznik Pentagonu generał", "Szef HUR", "rzecznik Kremla", "północnokoreański generał"
_SIDES = {side: re.compile(pattern) for side, pattern in {
    "north korea": r"\b(polnocnokore|kore\w* poln|north(ern)? kore|krld\b|dprk\b|pjongjang|pyongyang)",
    "south korea": r"\b(poludniowokore|kore\w* polu|south(ern)? kore|seul|seoul|nis\b|republi\w* kore|republic of kore)",
    "russia": r"\b(ros[jy]|russia|krem|moskw|moscow|dum[aeyi]\b)",
    "ukraine": r"\b(ukrai|hur\b|gur\b|kijow|kyiv|kiev)",
    "united states": r"\b(amerykan|americ|usa\b|pentagon|waszyngton|washington|stan\w* zjednoczon|united states)",
    "china": r"\b(chin|pekin|beijing)",
}.items()}


def sides(text: str) -> set[str]:
    """The sides `text` names ("Rzecznik Pentagonu generał" -> {"united states"}).

    >>> sorted(sides("północnokoreański generał w obwodzie kurskim")), sorted(sides("the Kremlin spokesman"))
    (['north korea'], ['russia'])
    >>> sorted(sides("Przewodniczący Dumy Państwowej")), sorted(sides("Szef HUR, generał")), sides("sekretarz Rady")
    (['russia'], ['ukraine'], set())
    """
    folded = fold(text)
    return {side for side, pattern in _SIDES.items() if pattern.search(folded)}


def _named_after(words: list[str], post: int) -> int:
    """Where the words after the post at `post` that may name its holder end: any lower-case words
    that qualify it, then its first run of capitalised words ("sekretarz Rady Bezpieczeństwa Siergiej
    Szojgu", not the "Kim" of "…Szojgu poinformował, że Kim Dzong Un…"), at most `_AFTER_POST` words."""
    end, named = post + 1, False
    while end < min(post + 1 + _AFTER_POST, len(words)):
        capital = words[end].lstrip("„\"(")[:1].isupper()
        if named and not capital:
            break
        named, end = named or capital, end + 1
    return end


def _post_phrase(words: list[str], post: int, end: int) -> str:
    """The post at `post` with the words that qualify it, up to its holder's name: two before it in
    its sentence ("Rzecznik Pentagonu generał Patrick Ryder", "Szef HUR, generał Kyryło Budanow"),
    and those after it, up to `end` (`_named_after`)."""
    start = post
    while start > max(post - _BEFORE_POST, 0) and not words[start - 1].endswith((".", ";", ":")):
        start -= 1
    return " ".join(words[start:end])


def post_named(question: str, quotes: list[str], answer: str) -> bool:
    """False when a question asks who holds a post and no cited sentence names a post with one of
    the answer's new names beside it: "Kto kieruje NIS?" answered with "…powołując się na Narodową
    Służbę Wywiadowczą (NIS)…" names no one in it, and "Kto stał na czele delegacji?" is not
    answered by "Ukraina i Republika Korei wymienią delegacje [1]." though another cited sentence
    says "Prezydent poinformował…": the name given holds no post there. A country is no holder
    ("prezydent Republiki Korei"). Nor is the holder of another side's post: asked for the North
    Korean general in Kursk, "Rzecznik Pentagonu generał Patrick Ryder" or "Szef HUR, generał
    Kyryło Budanow" names no one in it (the sides: `sides`, of the question and of the words that
    qualify the post, `_post_phrase`; a post with no side named passes).

    >>> post_named("Kto kieruje NIS?", ["Parlamentarzyści powołali się na NIS."], "NIS kieruje NIS [1].")
    False
    >>> post_named("Who heads HUR?", ["Szef HUR, generał Kyryło Budanow, oświadczył…"], "Kyryło Budanow [1].")
    True
    >>> post_named("Who heads HUR?", ["Kyryło Budanow, szef HUR, oświadczył…"], "Kyryło Budanow [1].")
    True
    >>> post_named("Kto stał na czele delegacji?", ["Ukraina i Republika Korei wymienią delegacje.",
    ...            "Prezydent poinformował również, że przekazał dane.", "Według agencji Yonhap, w poniedziałek "
    ...            "prezydent Republiki Korei zapowiedział"], "Republika Korei wymieni delegacje, podał Yonhap [1].")
    False
    >>> ryder = ["Rzecznik Pentagonu generał Patrick Ryder przyznał, że żołnierze z Korei Północnej zmierzają do Kurska."]
    >>> post_named("Jak nazywa się północnokoreański generał dowodzący żołnierzami KRLD?", ryder, "Patrick Ryder [1].")
    False
    >>> budanow = ["Szef HUR, generał Kyryło Budanow, oświadczył, że Korea Północna zaspokaja 40% zapotrzebowania."]
    >>> post_named("What is the name of the North Korean commander?", budanow, "Kyrylo Budanov [1].")
    False
    >>> post_named("Who commands the American troops?", ryder, "Patrick Ryder [1]."), post_named("Who heads the HUR?",
    ...            budanow, "Kyryło Budanow [1].")
    (True, True)
    >>> duma = "Which head of the Russian State Duma thanked the Korean soldiers?"
    >>> post_named(duma, ["Kyiv Post poinformował, że przywódca Korei Północnej Kim Dzong Un stwierdził…"], "Kim Jong Un [1].")
    False
    >>> post_named(duma, ["Przewodniczący Dumy Państwowej Federacji Rosyjskiej Wiaczesław Wołodin oświadczył…"],
    ...            "Vyacheslav Volodin [1].")
    True
    >>> post_named("Kto jest północnokoreańskim dowódcą saperów?", ["W czerwcu sekretarz Rady Bezpieczeństwa Siergiej "
    ...            "Szojgu poinformował, że Kim Dzong Un zgodził się wysłać 1000 saperów."], "Kim Dzong Un [1].")
    False
    """
    if asks(question) != "who" or not _LEADS.search(question):
        return True
    keys = [word_keys(w) for name in new_names(question, answer) if not any(names_country(w) for w in name)
            for w in name]                # "prezydent Republiki Korei": the post's country, not who holds it
    asked_sides = sides(question)
    for quote in quotes:
        words = quote.split()
        for i, word in enumerate(words):
            if _POST.fullmatch(word.strip(",.:;()\"„”")):
                # before the post only a name set off by a comma: "Kyryło Budanow, szef HUR"
                before = words[max(i - _BEFORE_POST, 0):i] if i and words[i - 1].endswith(",") else []
                end = _named_after(words, i)
                near = " ".join([*before, *words[i:end]])
                if any(k & TermIndex(near).keys for k in keys):
                    held = sides(_post_phrase(words, i, end))
                    if not (asked_sides and held and not held & asked_sides):   # not the post of another side
                        return True
    return False


def shortfall(question: str, answer: str, quotes: list[str], words: str | None = None) -> str:
    """Why `answer`, citing `quotes`, does not give what `question` asks ('' when it does): no
    number, time or name (`gives`), numbers that count something else (`counts_asked`; `words` as
    there), or no post named for who holds one (`post_named`).

    >>> shortfall("Ile dronów wytwarza zakład?", "Zakład zatrudni pracowników [1].", [])
    'no quantity as asked'
    """
    if not gives(question, answer):
        return f"no {asks(question)} as asked"
    if not counts_asked(question, answer, quotes, words):
        return "its numbers count something else"
    if not post_named(question, quotes, answer):
        return "names no one in the post asked"
    return ""


def _judged(given: set[float], quotes: list[str], counts: Callable[[str], bool],
            holds: Callable[[str], bool] = lambda quote: True) -> bool:
    """True unless some number of `given` stands in `quotes` and none of its places there passes
    `counts` (the text after the number) in a quote that `holds` accepts; numbers no quote holds
    are not judged."""
    judged = False
    for quote in quotes:
        for value, _, end in number_spans(quote):
            if value in given:
                judged = True
                if counts(quote[end:]) and holds(quote):
                    return True
    return not judged
