"""Narrowing a question to chosen articles and months, the same from the CLI, the chat and its
/chat API: the filter applies before ranking, a filtered answer says what was searched and the
period it drew on, and a bad filter is one line."""
from __future__ import annotations

import json

import pytest

from rag import cli
from rag.errors import BadInput
from rag.stores import Filter
from ui.app import Chat

from .test_ui import Q_PL, REPLY, api_client

TATARSTAN = "001_345fe1ab6c1f8ba1"          # 2025-11-14: the article Q_PL's answer comes from
PENTAGON = "003_2a17d32c4422d886"           # 2024-10


def test_blank_fields_are_no_filter_and_bad_ones_are_one_line():
    assert Filter.of() is None and Filter.of([], "", "  ") is None and Filter.of(None, None, None) is None
    f = Filter.of([" a ", ""], "2024-10", "")
    assert f == Filter(frozenset({"a"}), "2024-10", None)
    assert Filter.of("a").article_ids == {"a"}
    with pytest.raises(BadInput, match="month like 2024-10"):
        Filter.of(None, "październik")
    with pytest.raises(BadInput, match="after its until"):
        Filter.of(None, "2025-02", "2024-12")
    with pytest.raises(BadInput, match="list of article ids"):
        Filter.of([1, 2])


def test_the_scope_names_what_was_searched_and_the_period_drawn_on():
    f = Filter(None, "2024-10", "2024-12")
    assert f.scope(["2024-11-05", None, "2024-10"], "en") == (
        "Searched only articles from 2024-10 up to 2024-12. The answer draws on articles dated 2024-10 – 2024-11-05.")
    assert f.scope([], "pl") == "Przeszukano tylko: artykuły od 2024-10 do 2024-12."
    assert Filter(frozenset({"a", "b"})).scope(["2025-11-14"], "pl") == (
        "Przeszukano tylko: 2 wybrane artykuły. Odpowiedź opiera się na artykułach z 2025-11-14.")
    assert Filter(frozenset({"a"})).scope([], "en") == "Searched only the 1 chosen article."


def test_a_filter_that_excludes_the_answers_article_changes_the_answer(make_pipeline):
    pipeline = make_pipeline(reply_fn=lambda messages: REPLY)
    unfiltered = pipeline.ask(Q_PL)
    assert unfiltered.citations[0].article_id == TATARSTAN and unfiltered.scope == ""

    filtered = pipeline.ask(Q_PL, where=Filter.of(None, "2024-10", "2024-12"))
    assert all(p.chunk.article_id == PENTAGON for p in filtered.passages)
    assert all(c.article_id != TATARSTAN for c in filtered.citations)
    assert filtered.scope.startswith("Przeszukano tylko: artykuły od 2024-10 do 2024-12.")
    assert filtered.answer != unfiltered.answer or filtered.refused
    assert filtered.to_json()["scope"] == filtered.scope

    only = pipeline.ask(Q_PL, where=Filter.of([TATARSTAN]))
    assert only.citations and {c.article_id for c in only.citations} == {TATARSTAN}
    assert only.scope == "Przeszukano tylko: 1 wybrany artykuł. Odpowiedź opiera się na artykułach z 2025-11-14."

    nothing = pipeline.ask(Q_PL, where=Filter.of(None, "2030-01"))
    assert nothing.refused and nothing.scope == "Przeszukano tylko: artykuły od 2030-01."
    with pytest.raises(BadInput, match="no article 999_x in the collection"):
        pipeline.ask(Q_PL, where=Filter.of(["999_x"]))


def test_the_chat_passes_its_filter_fields_and_shows_the_scope(make_pipeline, settings):
    pipeline = make_pipeline(reply_fn=lambda messages: REPLY)
    chat = Chat(settings, pipeline_factory=lambda s: pipeline)
    turns = []
    for _ in chat.respond(Q_PL, 4, "default", turns, articles=[TATARSTAN], since="", until=""):
        pass
    assert 'class="scope"' in turns[-1].html and "1 wybrany artykuł" in turns[-1].html
    assert turns[-1].record["scope"].startswith("Przeszukano tylko")
    for _ in chat.respond(Q_PL, 4, "default", turns, articles=[], since="2024-13", until=""):
        pass
    assert "rag-error" in turns[-1].html and "month like 2024-10" in turns[-1].html

    from ui.history import markdown
    assert "_Przeszukano tylko: 1 wybrany artykuł." in markdown(turns)


def test_the_chat_api_takes_the_filter(make_pipeline):
    with api_client(make_pipeline(reply_fn=lambda messages: REPLY)) as client:
        result = client.predict(question=Q_PL, since="2024-10", until="2024-12", api_name="/chat")
        assert {x["article_id"] for x in result["passages"]} == {PENTAGON}
        assert result["scope"].startswith("Przeszukano tylko: artykuły od 2024-10 do 2024-12.")
        only = client.predict(question=Q_PL, articles=[TATARSTAN], api_name="/chat")
        assert {x["article_id"] for x in only["passages"]} == {TATARSTAN}
        assert "scope" not in client.predict(question=Q_PL, api_name="/chat")       # no filter, no scope
        with pytest.raises(Exception, match="month like 2024-10"):
            client.predict(question=Q_PL, since="10/2024", api_name="/chat")


def test_the_cli_filter_prints_the_scope(settings, monkeypatch, capsys, make_pipeline):
    pipeline = make_pipeline(reply_fn=lambda messages: REPLY)
    monkeypatch.setattr(cli, "_pipeline", lambda args: pipeline)
    assert cli.main(["ask", Q_PL, "--article", TATARSTAN, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scope"].startswith("Przeszukano tylko: 1 wybrany artykuł")
    assert cli.main(["ask", Q_PL, "--since", "2025-11"]) == 0
    assert "(Przeszukano tylko: artykuły od 2025-11." in capsys.readouterr().out
    assert cli.main(["ask", Q_PL, "--article", "nope"]) == 2
    assert "no article nope in the collection" in capsys.readouterr().err
