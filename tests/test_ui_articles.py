"""The articles in the chat: the list, one article's text with cited spans marked and left-out
parts labelled, adding articles by upload (only the new one embedded), removing one (its passages
leave the index at once), read-only mode and the bounds on uploads."""
from __future__ import annotations

import re

import pytest

from rag.errors import BadInput
from rag.pipeline import Pipeline
from ui import app as ui_app
from ui.app import Chat

from .fakes import ScriptedGenerator, WordOverlapEmbedder
from .test_extract import PAGE
from .test_ui import Q_PL, REPLY

Q_NEW = "Ile dronów miesięcznie produkuje fabryka w Sunan?"


def quoting_reply(messages) -> str:
    """A fake model that answers from the passage holding 'Sunan' when there is one, else REPLY."""
    prompt = messages[-1]["content"]
    found = re.search(r"^\[(\d+)\][^\n]*Sunan produkuje 300 dronów", prompt, flags=re.M)
    if found:
        return f"Fabryka w Sunan produkuje 300 dronów miesięcznie [{found.group(1)}]."
    return REPLY


@pytest.fixture
def chat(settings):
    embedder = WordOverlapEmbedder()
    pipeline = Pipeline(settings, embedder=embedder, generator=ScriptedGenerator(reply_fn=quoting_reply))
    pipeline.index()
    return Chat(settings, pipeline_factory=lambda s: pipeline)


def ask(chat, question, turns):
    for _ in chat.respond(question, 4, "default", turns):
        pass
    return turns[-1].result


def test_the_list_shows_every_article_with_its_passages_and_citations(chat):
    turns = []
    answer = ask(chat, Q_PL, turns)
    html = chat.articles_overview(turns)
    articles = chat.articles()
    assert len(articles) == 5 and all(a.title[:20] in html for a in articles)
    cited = answer.citations[0].article_id
    row = re.search(rf"<tr>(?:(?!</tr>).)*{cited}(?:(?!</tr>).)*</tr>", html).group(0)
    assert re.search(r"<td>(\d+)</td><td>(\d+)</td>", row).group(2) == str(len(answer.citations))


def test_an_article_opens_with_the_cited_spans_marked_and_the_left_out_parts_labelled(chat):
    turns = []
    answer = ask(chat, Q_PL, turns)
    c = answer.citations[0]
    html = chat.article_view(c.article_id, turns)
    assert f"<mark>{c.quote[:30]}" in html.replace("&#91;", "[").replace("&#93;", "]")
    commented = next(a for a in chat.articles() if "Komentarze (" in a.text)
    view = chat.article_view(commented.id, [])
    assert "[reader comments, not indexed]" in view and "<mark>" not in view
    assert chat.article_view("../../etc/passwd", turns) == ""


def test_an_uploaded_page_is_embedded_alone_and_answers_its_own_question(chat, settings, tmp_path):
    page = tmp_path / "strona.html"
    page.write_text(PAGE, encoding="utf-8")
    before = chat.pipeline(None).index().manifest["count"]
    seen = []
    message = chat.add_files([str(page)], progress=lambda done, total: seen.append((done, total)))
    assert message.startswith("Added: Korea Północna otwiera fabrykę dronów") and "(2025-03-12)" in message
    index = chat.pipeline(None).index()
    assert index.manifest["embedded"] == index.manifest["count"] - before > 0       # only the new article
    assert seen and seen[-1][0] == seen[-1][1]
    new_id = next(a.id for a in chat.articles() if a.date == "2025-03-12")
    answer = ask(chat, Q_NEW, [])
    assert not answer.refused and "300" in answer.answer and answer.citations[0].article_id == new_id

    with pytest.raises(BadInput, match="same text as"):                # the same page again: nothing changes
        chat.add_files([str(page)])
    assert len(chat.articles()) == 6

    assert chat.remove_article(new_id).startswith("Removed: Korea Północna otwiera")
    assert all(c.article_id != new_id for c in chat.pipeline(None).index().chunks)
    assert not (settings.seeds_dir / f"{new_id}.txt").exists()
    assert ask(chat, Q_NEW, []).citations == [] or all(c.article_id != new_id for c in ask(chat, Q_NEW, []).citations)


def test_bad_uploads_change_nothing(chat, settings, tmp_path, monkeypatch):
    good, empty = tmp_path / "strona.html", tmp_path / "pusta.html"
    good.write_text(PAGE, encoding="utf-8")
    empty.write_text("<html><body><nav>Menu</nav></body></html>", encoding="utf-8")
    before = sorted(p.name for p in settings.seeds_dir.iterdir())
    with pytest.raises(BadInput, match="pusta.html: no article text"):
        chat.add_files([str(good), str(empty)])
    monkeypatch.setattr(ui_app, "MAX_UPLOAD_FILES", 1)
    with pytest.raises(BadInput, match="at most 1 files"):
        chat.add_files([str(good), str(good)])
    monkeypatch.setattr("rag.extract.MAX_BYTES", 100)
    with pytest.raises(BadInput, match="too large"):
        chat.add_files([str(good)])
    with pytest.raises(BadInput, match="choose one of the listed articles"):
        chat.remove_article("../index/CURRENT")
    assert sorted(p.name for p in settings.seeds_dir.iterdir()) == before


def test_read_only_chat_neither_adds_nor_removes(settings, tmp_path):
    pipeline = Pipeline(settings, embedder=WordOverlapEmbedder(), generator=ScriptedGenerator([REPLY]))
    chat = Chat(settings, pipeline_factory=lambda s: pipeline, read_only=True)
    page = tmp_path / "strona.html"
    page.write_text(PAGE, encoding="utf-8")
    with pytest.raises(BadInput, match="read-only"):
        chat.add_files([str(page)])
    with pytest.raises(BadInput, match="read-only"):
        chat.remove_article(chat.articles()[0].id)
