"""English spellings for the names an English answer copies from the Polish articles.

Answering in English, the model copies names as the passages spell and inflect them ("Dmitrij
Pieskow", "Kim Dzong Unem", "organised by the prezydenta Władimira Putina", "in Pjongjangu"). A
reader of English knows them as Dmitry Peskov, Kim Jong Un, Vladimir Putin and Pyongyang, and
searches for them so. Each Polish form in the glossary below (people, places, countries, titles in
this news domain, in every case the articles inflect them) becomes its English spelling. Only the
answer's text changes, after the answer check has matched the Polish spelling against the cited
sentence; citations still quote the articles. Text in quotation marks is left as quoted.

    >>> english_names("Siergiej Szojgu met Kim Dzong Unem in Pjongjangu [1].")
    'Sergei Shoigu met Kim Jong Un in Pyongyang [1].'
    >>> english_names("Generał Kyryło Budanow said Korea Północna covers 40% [2].")
    'General Kyrylo Budanov said North Korea covers 40% [2].'
    >>> english_names("The visit was ordered by the prezydenta Władimira Putina [1].")
    'The visit was ordered by the President Vladimir Putin [1].'
    >>> english_names('Moscow is grateful for "bezinteresowną pomoc Korei Północnej" [1].')
    'Moscow is grateful for "bezinteresowną pomoc Korei Północnej" [1].'

English words the glossary's stems begin are not touched: "Ukraine", "China", "Kremlin", "Seoul".

    >>> english_names("Ukraine, China, the Kremlin and Seoul; Ukrainie, Chinom, Kremla, Seulu.")
    'Ukraine, China, the Kremlin and Seoul; Ukraine, China, Kremlin, Seoul.'
"""
from __future__ import annotations

import re

# Polish endings of the case forms, by the shape of the word they end
_M = "(?:a|u|em|owi|ie|iem|owie|ów)?"       # a masculine noun or name: Putin-a, Pjongjang-u, Seul-em
_ADJ = "(?:i|y|ego|emu|im|ym|ą|a|ej)"         # an adjectival name: Zełensk-i, -iego, -im
_F = "(?:a|y|i|ie|ę|ą)"                        # a feminine noun: Moskw-a, -y, -ie, -ę, -ą

# Polish form (a regular expression over one or more words) -> English spelling; longer names first
GLOSSARY: list[tuple[str, str]] = [
    # people, with the title the articles write before some of them
    (rf"[Pp]rezydent{_M} Władimir{_M} Putin{_M}", "President Vladimir Putin"),
    (rf"[Pp]rezydent{_M} Wołodymyr{_M} Zełensk{_ADJ}", "President Volodymyr Zelensky"),
    (rf"[Pp]rzewodnicząc(?:y|ego|emu|ym) Dum{_F} Państwow(?:a|ej|ą)(?: Federacji Rosyjskiej)?", "Chairman of the State Duma"),
    (r"[Rr]zeczni(?:k|ka|kiem|kowi) Kreml(?:a|u)", "Kremlin spokesman"),
    (rf"Kim Dzong Un{_M}", "Kim Jong Un"), (rf"Kim Jo Dzong", "Kim Yo Jong"),
    (rf"Jun Suk Jeol{_M}", "Yoon Suk Yeol"), (rf"Li Dze Mjung{_M}", "Lee Jae-myung"),
    (rf"Czoe Son Hui", "Choe Son Hui"),
    (rf"Władimir{_M} Putin{_M}", "Vladimir Putin"), (rf"Putin{_M}", "Putin"),
    (rf"Siergiej{_M} Szojgu", "Sergei Shoigu"), ("Szojgu", "Shoigu"),
    (rf"Siergiej{_M} Ławrow{_M}", "Sergei Lavrov"), (rf"Ławrow{_M}", "Lavrov"),
    (rf"Dmitrij{_M} Pieskow{_M}", "Dmitry Peskov"), (rf"Pieskow{_M}", "Peskov"),
    (rf"Dmitrij{_M} Miedwiediew{_M}", "Dmitry Medvedev"), (rf"Miedwiediew{_M}", "Medvedev"),
    (rf"Andriej{_M} Biełousow{_M}", "Andrei Belousov"), (rf"Biełousow{_M}", "Belousov"),
    (rf"Walerij{_M} Gierasimow{_M}", "Valery Gerasimov"), (rf"Gierasimow{_M}", "Gerasimov"),
    (rf"Wiaczesław{_M} Wołodin{_M}", "Vyacheslav Volodin"), (rf"Wołodin{_M}", "Volodin"),
    (rf"Wołodymyr{_M} Zełensk{_ADJ}", "Volodymyr Zelensky"), (rf"Zełensk{_ADJ}", "Zelensky"),
    (rf"Kyrył(?:o|a|y|ą|e|owi) Budanow{_M}", "Kyrylo Budanov"), (rf"Budanow{_M}", "Budanov"),
    (rf"Ołeksandr{_M} Syrsk{_ADJ}", "Oleksandr Syrskyi"), (rf"Syrsk{_ADJ}", "Syrskyi"),
    (rf"Andrij{_M} Sybih{_F}", "Andrii Sybiha"), (rf"Dmytr(?:o|a|em|owi) Kułeb{_F}", "Dmytro Kuleba"),
    (rf"Siergiej{_M}", "Sergei"), (rf"Dmitrij{_M}", "Dmitry"), (rf"Władimir{_M}", "Vladimir"),
    (rf"Wiaczesław{_M}", "Vyacheslav"), (rf"Wołodymyr{_M}", "Volodymyr"), (r"Kyrył(?:o|a|y|ą|e|owi)", "Kyrylo"),
    # places, papers, bodies
    (rf"Pjongjang{_M}", "Pyongyang"), (rf"Seul{_M}", "Seoul"), (rf"Moskw{_F}", "Moscow"),
    (r"Kij(?:ów|owa|owie|owem)", "Kyiv"), (r"Chark(?:ów|owa|owie|owem)", "Kharkiv"),
    (rf"Władywostok{_M}", "Vladivostok"), (r"Ałabu(?:ga|gi|dze|gę|gą)", "Alabuga"),
    (r"Postojał(?:yje|ych) Dwor(?:y|ach|ami|ów)", "Postoyalye Dvory"), (r"Postojał(?:yje|ych)", "Postoyalye"),
    (r"Krasn(?:aja|ej|ą) Zwiezd(?:a|y|ie|ę|ą)", "Krasnaya Zvezda"),
    (rf"Krem(?:l|la|lu|lem)", "Kremlin"), (r"Gerań", "Geran"),
    (rf"Dum{_F} Państwow(?:a|ej|ą)", "State Duma"), (r"Federacj(?:a|i|ę|ą) Rosyjsk(?:a|iej|ą)", "Russian Federation"),
    # countries and peoples
    (rf"Kore{_F} Północn(?:a|ej|ą)", "North Korea"), (rf"Kore{_F} Południow(?:a|ej|ą)", "South Korea"),
    (r"KRLD", "DPRK"), (r"Stan(?:y|ów|ach|om) Zjednoczon(?:e|ych|ym)", "United States"),
    (rf"Rosj{_F}", "Russia"), (r"Rosjan(?:ie|om|ami|ach)?", "Russians"), (rf"Ukrain{_F}", "Ukraine"),
    (r"Chin(?:y|om|ach|ami)", "China"),
    # titles written before a name
    (r"Generał", "General"), (r"Prezydent", "President"),
]

# one group per entry (the entries' own groups do not capture): the group that matched is its entry
_NAME = re.compile("(?<![\\w-])(?:" + "|".join(f"({p})" for p, _ in GLOSSARY) + ")(?![\\w-])")
_QUOTED = re.compile(r"„[^”\"]*[”\"]|\"[^\"]*\"|“[^”]*”")


def _english(m: re.Match) -> str:
    return GLOSSARY[m.lastindex - 1][1]


def english_names(text: str) -> str:
    """`text` with the glossary's Polish names in English spelling, outside quotation marks."""
    out, at = [], 0
    for q in _QUOTED.finditer(text):
        out.append(_NAME.sub(_english, text[at:q.start()]) + q.group(0))
        at = q.end()
    return "".join(out) + _NAME.sub(_english, text[at:])
