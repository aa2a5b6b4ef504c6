"""Readers' thumbs on answers (rag/feedback.py, the chat's handler) and `rag eval --from-feedback`."""
from __future__ import annotations

import json

import pytest

from rag import cli, feedback
from rag.errors import BadInput
from ui.app import Chat

from .test_ui import Q_PL, REPLY

Q_OTHER = "Kto jest szefem HUR?"


def answered(make_pipeline, settings, questions):
    p = make_pipeline([REPLY] * len(questions))
    chat = Chat(settings, pipeline_factory=lambda s: p)
    turns = []
    for q in questions:
        for _ in chat.respond(q, 4, "default", turns):
            pass
    return chat, turns


def test_thumbs_on_an_answer_append_one_line_with_what_was_shown(make_pipeline, settings):
    chat, turns = answered(make_pipeline, settings, [Q_PL, Q_OTHER])
    assert chat.feedback(turns, 1, False, "  Zła liczba pracowników  ") == "Thanks: recorded with your note."
    assert chat.feedback(turns, 3, True) == "Thanks: recorded."
    assert chat.feedback(turns, 3, None) == ""                       # taken back: nothing written
    lines = feedback.path_for(settings.index_dir).read_text(encoding="utf-8").splitlines()
    first, second = (json.loads(line) for line in lines)
    assert len(lines) == 2
    assert first["question"] == Q_PL and first["liked"] is False and first["note"] == "Zła liczba pracowników"
    assert first["answer"] == turns[0].result.answer and first["citations"][0]["quote"]
    assert first["passages"] and first["models"] and first["time"]
    assert second["question"] == Q_OTHER and second["liked"] is True


def test_only_a_finished_answer_can_be_rated(make_pipeline, settings):
    chat, turns = answered(make_pipeline, settings, [Q_PL])
    assert chat.feedback(turns, 0, False) == "Only a finished answer can be rated."     # the question itself
    assert chat.feedback(turns, 9, False) == "Only a finished answer can be rated."
    with pytest.raises(BadInput, match="too long"):
        chat.feedback(turns, 1, False, "x" * 3000)
    assert not feedback.path_for(settings.index_dir).exists()


def test_thumbs_down_become_draft_eval_items_never_eval_items(make_pipeline, settings, tmp_path, monkeypatch, capsys):
    chat, turns = answered(make_pipeline, settings, [Q_PL, Q_OTHER, "Ile dronów?"])
    chat.feedback(turns, 1, False, "brak liczby")
    chat.feedback(turns, 3, True)
    chat.feedback(turns, 5, False)
    chat.feedback(turns, 5, True)                                      # the reader changed their mind
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"id": "q1", "question": "Ile dronów?"}) + "\n", encoding="utf-8")
    before = questions.read_text(encoding="utf-8")
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    assert cli.main(["eval", "--from-feedback", "--questions", str(questions), "--out", str(tmp_path)]) == 0
    assert "1 draft eval items" in capsys.readouterr().out
    [draft] = [json.loads(line) for line in (tmp_path / "drafts-from-feedback.jsonl").read_text().splitlines()]
    assert draft["question"] == Q_PL and draft["language"] == "pl" and draft["answerable"].startswith("todo")
    assert draft["draft"]["reader_note"] == "brak liczby" and draft["draft"]["answer_given"] == turns[0].result.answer
    assert draft["draft"]["passages_shown"] and draft["draft"]["cited"][0]["quote"]
    assert questions.read_text(encoding="utf-8") == before


def test_from_feedback_without_a_file_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    assert cli.main(["eval", "--from-feedback", "--out", str(tmp_path)]) == 2
    assert "no feedback file at" in capsys.readouterr().err
