"""Benchmark metrics on small cases worked out by hand."""
import pytest

from rag import metrics as M


def supports(sentence, evidence):
    """A sentence is supported when every all-capitals word in it occurs in the evidence."""
    needed = [w for w in sentence.rstrip(".").split() if w.isupper()]
    return all(w in evidence for w in needed)


P = ["AAA is here.", "BBB is here.", "AAA and BBB both."]


def test_alce_single_supported_citation():
    r = M.alce("AAA holds [1].", P, supports)
    assert (r["recall"], r["precision"]) == (1.0, 1.0)


def test_alce_no_citation_gives_recall_zero_and_nothing_to_be_precise_about():
    r = M.alce("AAA holds.", P, supports)
    assert (r["recall"], r["precision"], r["citations"]) == (0.0, None, 0)


def test_alce_out_of_range_citation_scores_zero():
    r = M.alce("AAA holds [7].", P, supports)
    assert (r["recall"], r["precision"]) == (0.0, 0.0)


def test_alce_redundant_citation_is_imprecise():
    # [1] supports alone; [2] does not, and the rest ([1]) does -> [2] is redundant
    r = M.alce("AAA holds [1][2].", P, supports)
    assert (r["recall"], r["precision"]) == (1.0, 0.5)


def test_alce_two_citations_needed_together_are_both_precise():
    r = M.alce("AAA BBB hold [1][2].", P, supports)
    assert (r["recall"], r["precision"]) == (1.0, 1.0)


def test_alce_unsupported_sentence_makes_its_citations_imprecise():
    r = M.alce("AAA holds [1]. BBB holds [1].", P, supports)
    assert (r["recall"], r["precision"]) == (0.5, 0.5)


def test_retrieval_scores_by_hand():
    ranked = [("x", 0, 100), ("a", 0, 100), ("a", 100, 200), ("b", 0, 50)]
    gold = [("a", (120, 130)), ("b", (10, 20))]
    r = M.retrieval_scores(ranked, gold, k_in_prompt=3)
    assert r["hit@1"] == 0.0 and r["hit@3"] == 1.0 and r["mrr@10"] == pytest.approx(1 / 3)
    assert r["evidence_recall"] == 0.5          # b's evidence is ranked 4th, outside the 3 in the prompt


def test_fact_accuracy_accepts_variants_and_needs_every_fact():
    facts = [["12 tys.", "12 000", "12,000"], ["Tatarstan"]]
    assert M.fact_accuracy("Rosja zatrudni 12 000 osób w Tatarstanie.", facts) == 1.0
    assert M.fact_accuracy("Russia will hire 12,000 people.", facts) == 0.0
    assert M.fact_accuracy("Budanov leads HUR", [["Budanow", "Budanov"]]) == 1.0


def test_refusal_scores_by_hand():
    pairs = [(False, True)] * 3 + [(False, False)] + [(True, True)] + [(True, False)] * 4
    r = M.refusal_scores(pairs)
    assert r["precision"] == pytest.approx(3 / 4) and r["recall"] == pytest.approx(3 / 4)
    assert r["f1"] == pytest.approx(3 / 4) and r["false_refusal_rate"] == pytest.approx(1 / 5)


def test_percentile_nearest_rank():
    assert M.percentile([5, 1, 3, 2, 4], 50) == 3
    assert M.percentile(list(range(1, 11)), 90) == 9
    assert M.percentile([], 50) is None


def test_gold_citation():
    chunks = {"a#0": ("a", 0, 100)}
    assert M.cites_gold([{"chunk_id": "a#0", "article_id": "a", "start": 5, "end": 9}], [("a", (50, 60))], chunks)
    assert not M.cites_gold([{"chunk_id": "a#0", "article_id": "a", "start": 5, "end": 9}], [("b", (50, 60))], chunks)
