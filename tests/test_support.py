"""Support judges: the numbers and names gates, worked examples."""
from rag.support import GateJudge, SimilarityJudge, containment, names, numbers

from .fakes import WordOverlapEmbedder

PASSAGE = ("Szef HUR, generał Kyryło Budanow, oświadczył, że Korea Północna zaspokaja już około 40% "
           "zapotrzebowania rosyjskiej armii na amunicję. Rosja zatrudni 12 tys. pracowników w Tatarstanie.")


def test_numbers_read_polish_and_english_forms():
    assert numbers("12 tys. osób") == numbers("12,000 people") == numbers("12 000 ludzi") == {12000.0}


def test_names_are_transliterated_and_skip_acronyms():
    assert names("Then Budanov of HUR met Shoigu") == {"buda", "szoj"}


def test_containment_is_per_sentence():
    assert containment("Rosja zatrudni pracowników w Tatarstanie", PASSAGE) == 1.0
    assert containment("Budanow zatrudni pracowników", PASSAGE) < 1.0


def test_gate_rejects_names_and_numbers_no_passage_holds():
    judge = GateJudge(WordOverlapEmbedder())
    assert judge.supports("Szef HUR to generał Budanow", PASSAGE)
    assert not judge.supports("Szefem HUR jest generał Jurij Zmejko", PASSAGE)        # own knowledge
    assert not judge.supports("Rosja zatrudni 20 tys. pracowników w Tatarstanie", PASSAGE)   # wrong number
    assert not judge.supports("The capital of Australia is Canberra", PASSAGE)


def test_gate_lets_the_questions_own_names_count():
    judge = GateJudge(WordOverlapEmbedder())
    claim = "Next year Russia will hire 12,000 workers in Tatarstan"
    question = "How many workers will Russia hire in Tatarstan?"
    # "Russia" is "Rosja" in the passage; the question used it first, so it is not made up
    assert judge.score(claim, PASSAGE) == 0.0
    assert judge.score(claim, PASSAGE, question) > 0.0


def test_gate_leaves_month_and_weekday_names_to_the_date_check():
    # "November" is a date, checked against "w listopadzie" by the answer check (rag/verify.py); as a
    # name it met nothing in the Polish passage, and a right answer with two other names was refused
    judge = GateJudge(WordOverlapEmbedder())
    passage = "Oba kraje zawarły w listopadzie ubiegłego roku pakt o partnerstwie z Rosją i Koreą Północną."
    claim = "Russia and North Korea concluded their pact in November"
    question = "In which month did Russia and North Korea conclude their pact?"
    assert names(claim + " on Tuesday") == names("Russia and North Korea concluded their pact") == {"nort", "kore"}
    assert judge.score(claim, passage, question) > 0.0


def test_similarity_judge_needs_every_number():
    judge = SimilarityJudge(WordOverlapEmbedder(), threshold=0.1)
    assert judge.supports("Rosja zatrudni 12 tys. pracowników", PASSAGE)
    assert not judge.supports("Rosja zatrudni 13 tys. pracowników", PASSAGE)


def test_an_amount_given_by_size_alone_needs_one_of_that_size():
    judge = SimilarityJudge(WordOverlapEmbedder(), threshold=0.1)
    detectors = "Na nagraniu widać, że przekazywane są im różnego rodzaju urządzenia do wykrywania min."
    assert not judge.supports("Przekazywane są im tysiące urządzeń do wykrywania min", detectors)   # no amount there
    assert judge.supports("Rosja zatrudni tysiące pracowników w Tatarstanie", PASSAGE)           # 12 tys. is thousands
    assert not judge.supports("Rosja zatrudni miliony pracowników w Tatarstanie", PASSAGE)


def test_one_thousand_in_words_is_a_number():
    assert numbers("około tysiąca inżynierów") == numbers("about 1,000 engineers") == {1000.0}
    assert numbers("tysiące inżynierów") == set()                   # thousands: a size, not a number


def test_nli_judge_reads_the_entailment_probability(monkeypatch):
    """The hub NLI path, on a stand-in CrossEncoder (no model can be downloaded here)."""
    import sys
    import types

    import numpy as np

    from rag.support import NLIJudge

    class FakeCrossEncoder:
        def __init__(self, name, device="cpu"):
            self.model = types.SimpleNamespace(
                config=types.SimpleNamespace(id2label={0: "entailment", 1: "neutral", 2: "contradiction"}))

        def predict(self, pairs):
            premise, hypothesis = pairs[0]
            return np.array([[4.0, 0.0, 0.0]]) if "Budanow" in premise and "Budanov" in hypothesis \
                else np.array([[0.0, 0.0, 4.0]])

    monkeypatch.setitem(sys.modules, "sentence_transformers",
                        types.SimpleNamespace(CrossEncoder=FakeCrossEncoder))
    judge = NLIJudge("someone/xnli-model")
    assert judge.id == "nli:someone/xnli-model"
    assert judge.supports("Budanov heads HUR", PASSAGE)
    assert judge.score("Budanov heads HUR", PASSAGE) > 0.9
    assert not judge.supports("Zmeyko heads HUR", PASSAGE)
