"""The conversation's browser copy and its Markdown export (ui/history.py), without a browser."""
from __future__ import annotations

from ui import history
from ui.app import Chat, Turn

from .test_ui import Q_PL, REPLY


def test_saved_and_restored_give_the_same_conversation(make_pipeline, settings):
    p = make_pipeline([REPLY])
    turns = []
    for _ in Chat(settings, pipeline_factory=lambda s: p).respond(Q_PL, 4, "default", turns):
        pass
    again = history.restored(history.saved(turns), Turn)
    assert [(t.question, t.html, t.answer, t.record) for t in again] == \
        [(t.question, t.html, t.answer, t.record) for t in turns]
    assert history.markdown(again) == history.markdown(turns)


def test_the_export_holds_each_answer_its_quotes_titles_and_dates(make_pipeline, settings):
    p = make_pipeline([REPLY])
    turns = []
    chat = Chat(settings, pipeline_factory=lambda s: p)
    for _ in chat.respond(Q_PL, 4, "default", turns):
        pass
    turns.append(Turn("Pytanie przerwane", "<i>(stopped)</i>", None, "done"))
    md = history.markdown(turns)
    answer = turns[0].result
    assert md.startswith("# Conversation with the articles") and f"## 1. {Q_PL}" in md
    assert answer.answer in md and "## 2. Pytanie przerwane" in md and "_(no answer: stopped or failed)_" in md
    for c in answer.citations:
        assert f"*{c.title}*" in md and f"„{' '.join(c.quote.split())}”" in md
        assert (c.date is None) or f", {c.date} " in md


def test_a_damaged_or_foreign_copy_starts_a_new_conversation():
    for data in (None, "x", {"format": 99, "turns": []}, {"format": 1}, {"format": 1, "turns": [{"question": 1}]},
                 {"format": 1, "turns": [{"html": "<b>"}]}):
        assert history.restored(data, Turn) == []
