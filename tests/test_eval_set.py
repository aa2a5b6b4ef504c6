"""The hand-written eval set and the judge's calibration labels are well-formed and balanced."""
import json
from collections import Counter

import pytest

from .conftest import ROOT, SEEDS

TYPES = {"fact", "number", "date", "person", "multi-article", "cross-lingual", "false-premise", "out-of-scope",
         "near-topic"}
SUBTYPES = {"wrong-country", "wrong-date", "wrong-number", "non-event", "wrong-person"}


def _load(name):
    return [json.loads(line) for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def articles():
    return {p.stem: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}


def test_questions_are_well_formed(articles):
    items = _load("questions.jsonl")
    assert len(items) >= 80
    assert len({i["id"] for i in items}) == len(items)
    for i in items:
        assert i["language"] in ("pl", "en") and i["type"] in TYPES and i["question"].strip()
        assert isinstance(i["answerable"], bool)
        for ev in i["evidence"]:
            assert ev["quote"] in articles[ev["article_id"]], (i["id"], ev["quote"])
            # never evidence from the reader comments of article 002
            text = articles[ev["article_id"]]
            comments = text.find("Komentarze (")
            assert comments < 0 or text.find(ev["quote"]) < comments, i["id"]
        if i["answerable"]:
            assert i["evidence"] and i["facts"] and all(isinstance(v, list) and v for v in i["facts"])
        else:
            assert not i["evidence"]
        if "premise" in i:      # the false premise's key terms: in none of the articles
            assert i["type"] == "false-premise" and i.get("subtype") in SUBTYPES
            text = "\n".join(articles.values()).lower()
            assert not any(stem.lower() in text for stem in i["premise"]), i["id"]


def test_unanswerable_kinds_are_each_well_represented():
    from rag.evaluate import question_kind

    kinds = Counter((i["language"], question_kind(i)) for i in _load("questions.jsonl"))
    for language in ("pl", "en"):
        for kind in ("false-premise", "near-topic", "out-of-scope"):
            assert kinds[(language, kind)] >= 3, (language, kind)


def test_questions_proportions():
    items = _load("questions.jsonl")
    n = len(items)
    assert sum(i["language"] == "en" for i in items) / n >= 0.35
    assert sum(not i["answerable"] for i in items) / n >= 0.20
    assert sum(len({e["article_id"] for e in i["evidence"]}) >= 2 for i in items) >= 10
    assert set(Counter(i["type"] for i in items)) == TYPES


def test_calibration_pairs(articles):
    pairs = _load("judge_calibration.jsonl")
    assert len(pairs) >= 60
    assert len({p["id"] for p in pairs}) == len(pairs)
    assert {p["language"] for p in pairs} == {"pl", "en"}
    assert 0.3 <= sum(p["supported"] for p in pairs) / len(pairs) <= 0.7
    for p in pairs:
        assert p["passage"] in articles[p["article_id"]], p["id"]
