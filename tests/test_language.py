import pytest

from rag.language import clean_question, detect, is_other


@pytest.mark.parametrize("q, lang", [
    ("Kto kieruje ukraińskim wywiadem wojskowym?", "pl"),
    ("Ilu żołnierzy wysłała Korea?", "pl"),
    ("Czy Szojgu był w Pjongjangu", "pl"),
    ("Who heads Ukraine's military intelligence (HUR)?", "en"),
    ("How many North Korean workers will Russia hire?", "en"),
    ("Shoigu Pyongyang visit date", "en"),
])
def test_detect(q, lang):
    assert detect(q) == lang


def test_other_languages_are_recognised():
    assert is_other("Кто возглавляет разведку Украины?")
    assert is_other("Wer leitet den ukrainischen Geheimdienst jetzt eigentlich?")
    assert not is_other("Who heads HUR?") and not is_other("Kto kieruje HUR?")


def test_clean_question_removes_control_characters():
    assert clean_question("  Kto\x00 rządzi\x1b[31m \ufeffKoreą?\n") == "Kto rządzi [31m Koreą?"
    assert clean_question("\x00\x01 \t") == ""
