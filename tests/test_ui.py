"""The chat UI over the fake pipeline: footnotes, highlighted quotes, escaping, follow-ups, bad input,
errors, Stop, and the /chat API through gradio_client. No browser (see test_ui_browser.py)."""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from html.parser import HTMLParser

import pytest

from rag.citations import marker_numbers
from rag.errors import ModelError
from rag.pipeline import Pipeline
from rag.types import Answer, Chunk, Citation, Passage
from ui.app import Chat, create_app, mark_stopped, to_messages
from ui.render import highlight, render_answer, render_passage, render_sources

from .fakes import ScriptedGenerator, WordOverlapEmbedder

Q_PL = "Ilu pracowników z Korei Północnej Rosja chce zatrudnić w Tatarstanie?"
REPLY = ("Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]. "
         "Drony Shahed są produkowane w Ałabudze [2].")
EVIL = '<script>alert(1)</script> [click](javascript:alert(1)) ![x](javascript:alert(2)) <img src=x onerror=alert(3)>'
# what render.py itself writes; anything else in the HTML would have come from a document or the model
OUR_TAGS = {"div", "details", "summary", "span", "mark", "b", "i", "br", "h3"}


class Html(HTMLParser):
    """Tags, attributes, visible text and <mark> contents of an HTML fragment."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text, self.marks, self._in_mark = [], [], [], [], False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs
        if tag == "br":
            self.text.append("\n")
        if tag == "mark":
            self._in_mark = True
            self.marks.append("")

    def handle_endtag(self, tag):
        if tag == "mark":
            self._in_mark = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_mark:
            self.marks[-1] += data

    @property
    def visible(self) -> str:
        return "".join(self.text)


def last(iterator):
    items = list(iterator)
    return items[-1] if items else None


def chat_over(pipeline) -> Chat:
    return Chat(pipeline.settings, pipeline_factory=lambda settings: pipeline)


# -- rendering ---------------------------------------------------------------------------------------

def test_every_marker_becomes_a_footnote_with_its_passage(make_pipeline):
    answer = make_pipeline([REPLY], second_margin=0).ask(Q_PL)       # both sentences shown, whatever their scores
    assert not answer.refused and marker_numbers(answer.answer)
    page = Html(render_answer(answer))
    footnotes = [n for n in marker_numbers(page.visible)]
    assert footnotes == marker_numbers(answer.answer)              # every [n], in order, still there
    assert page.tags.count("details") == page.tags.count("summary") == len(footnotes)
    cited = {c.marker for c in answer.citations}
    assert set(footnotes) <= cited
    # each footnote holds the whole text of its passage, with the quote marked
    by_rank = {p.rank: p for p in answer.passages}
    for n in footnotes:
        assert by_rank[n].chunk.text.split("\n")[0] in page.visible
    # both sentences cite passage 1, each with its own quote: each [1] opens on its sentence's quote
    assert len(answer.citations) == 2 and page.marks == [c.quote for c in answer.citations]


def test_the_mark_holds_exactly_the_quote(make_pipeline):
    answer = make_pipeline([REPLY]).ask(Q_PL)
    c = answer.citations[0]
    passage = next(p for p in answer.passages if p.chunk.id == c.chunk_id)
    page = Html(render_passage(passage, [c]))
    assert page.marks == [c.quote]
    assert passage.chunk.text in page.visible                        # the whole passage, not just the quote
    assert passage.title in page.visible and passage.date in page.visible


def test_highlight_escapes_and_clips_spans():
    assert highlight("a <b> c", [(2, 5)]) == "a <mark>&lt;b&gt;</mark> c"
    assert highlight("abcdef", [(4, 99), (0, 2), (1, 3)]) == "<mark>ab</mark><mark>c</mark>d<mark>ef</mark>"
    assert highlight("abc", []) == "abc"


def _evil_answer(supported=True) -> Answer:
    text = f"{EVIL}\nquoted part.\n{EVIL}"
    chunk = Chunk(id="evil#0", article_id="evil", start=100, end=100 + len(text), text=text)
    q_start = text.index("quoted part.")
    citation = Citation(marker=1, chunk_id=chunk.id, article_id="evil", title=EVIL, date="2025-01-01",
                        quote="quoted part.", start=100 + q_start, end=100 + q_start + len("quoted part."),
                        supported=supported)
    passage = Passage(rank=1, chunk=chunk, score=0.5, title=EVIL, date="2025-01-01", text=text)
    return Answer(question="q", language="en", answer=f"{EVIL} claim [1].", refused=False,
                  citations=[citation], passages=[passage])


@pytest.mark.parametrize("render", [render_answer, lambda a: render_sources(a, True),
                                    lambda a: render_passage(a.passages[0], a.citations)])
def test_documents_and_model_text_render_inert(render):
    answer = _evil_answer()
    page = Html(render(answer))
    assert set(page.tags) <= OUR_TAGS                                # no <script>, <img>, <a>
    for name, value in page.attrs:
        assert not name.startswith("on") and "javascript" not in (value or "")
    assert "<script>alert(1)</script>" in page.visible               # shown as text
    assert "[click](javascript:alert(1))" in page.visible
    assert page.marks == ["quoted part."]


def test_unverified_citation_is_marked(make_pipeline):
    assert "unverified" not in Html(render_answer(_evil_answer(supported=True))).visible
    page = Html(render_answer(_evil_answer(supported=False)))
    assert "unverified" in page.visible.split("quoted part.")[0]     # visible on the [1] itself, before opening


def test_refusal_is_shown_as_is(make_pipeline):
    answer = make_pipeline(["NO ANSWER"]).ask("Jaki jest przepis na bigos?")
    page = Html(render_answer(answer))
    assert answer.refused and page.visible == answer.answer and "details" not in page.tags


def test_sources_list_the_passages_and_mark_the_cited(make_pipeline):
    answer = make_pipeline([REPLY]).ask(Q_PL)
    page = Html(render_sources(answer, show=True))
    for p in answer.passages:
        assert f"#{p.rank}" in page.visible and p.chunk.text in page.visible and f"{p.score:.4f}" in page.visible
    assert page.visible.count("cited as") == len({c.chunk_id for c in answer.citations})
    assert render_sources(answer, show=False) == "" and render_sources(None) == ""


# -- the chat function ---------------------------------------------------------------------------------

def test_answer_streams_then_becomes_the_checked_answer(make_pipeline):
    p = make_pipeline([REPLY])
    streaming = []
    for turns, answer in chat_over(p).respond(Q_PL, 4, "default", []):
        if answer is None:
            streaming.append(turns[-1].html)      # the turn is updated in place: read it now
    assert len(streaming) > 3 and all("streaming" in h for h in streaming)     # one update per token
    assert Html(streaming[-1]).visible.startswith(REPLY[:40])
    assert answer is not None and turns[-1].html == render_answer(answer) and turns[-1].answer == answer.answer
    messages = to_messages(turns)
    assert [m["role"] for m in messages] == ["user", "assistant"] and messages[0]["content"] == Q_PL


def test_a_second_look_withdraws_what_was_streamed_and_shows_what_it_does(make_pipeline):
    def reply(messages):
        return "Zatrudnienie pracowników ma na celu zwiększenie produkcji maszyn [1]." \
            if "na celu" in messages[1]["content"] else "NO ANSWER"
    p = make_pipeline(reply_fn=reply, second_look=True, prompt_budget=1)
    shown = []
    for turns, answer in chat_over(p).respond("Po co Rosja chce zatrudnić pracowników z Korei Północnej w "
                                              "Tatarstanie?", None, "default", []):
        if answer is None:
            shown.append(Html(turns[-1].html).visible)
    looking = shown.index(next(v for v in shown if "looking further" in v or "szukam dalej" in v))
    assert any("NO" in v for v in shown[:looking]) and not any("NO" in v for v in shown[looking:])
    assert shown[-1].startswith("Zatrudnienie") and answer is not None and answer.looked_again


def test_follow_up_passes_the_conversation_as_history(make_pipeline):
    p = make_pipeline([REPLY, "Gdzie Rosja produkuje drony Shahed?", REPLY])
    seen = []
    stream = p.stream
    p.stream = lambda question, k=None, history=None, where=None: (seen.append(history), stream(question, k, history))[1]
    chat = chat_over(p)
    turns, first = last(chat.respond(Q_PL, None, "default", []))
    assert list(chat.respond("   ", None, "default", turns)) == []      # ignored, not history
    turns, second = last(chat.respond("A gdzie je produkuje?", None, "default", turns))
    assert seen == [[], [(Q_PL, first.answer)]]
    assert second.retrieval_query == "Gdzie Rosja produkuje drony Shahed?"
    assert Q_PL in p.generator.prompts[1][1]["content"]            # the rewrite saw the first turn


def test_a_question_asked_while_answering_waits_its_turn(make_pipeline):
    p = make_pipeline([REPLY, "Gdzie Rosja produkuje drony Shahed?", REPLY])
    chat, turns = chat_over(p), []
    assert chat.ask(Q_PL, turns)
    answering = chat.answer_next(None, "default", turns)
    next(answering)
    assert chat.ask("A gdzie je produkuje?", turns)                      # shown at once, waiting
    assert [t.status for t in turns] == ["answering", "waiting"] and "waiting" in turns[1].html
    first = last(answering)
    second = last(chat.answer_next(None, "default", turns))
    assert first.question == Q_PL and second.question == "A gdzie je produkuje?"
    assert Q_PL in p.generator.prompts[1][1]["content"]                # the first answer is its history
    assert [t.status for t in turns] == ["done", "done"] and list(chat.answer_next(None, "default", turns)) == []


def test_empty_input_is_ignored(make_pipeline):
    p = make_pipeline([REPLY])
    for question in ["", "   \n", None]:
        assert list(chat_over(p).respond(question, None, "default", [])) == []
    assert p.generator.prompts == []


def test_too_long_input_is_refused_with_a_message(make_pipeline):
    p = make_pipeline([REPLY], max_question_chars=50)
    turns, answer = last(chat_over(p).respond("x" * 51, None, "default", []))
    page = Html(turns[-1].html)
    assert answer is None and turns[-1].answer is None and turns[-1].status == "done"
    assert "too long" in page.visible and "\n" not in page.visible
    assert p.generator.prompts == []


def _failing(exc):
    def reply(messages):
        raise exc
    return reply


@pytest.mark.parametrize("exc, shown", [(ModelError("the model file is missing: run `rag index`"), "model file is missing"),
                                        (ValueError("boom"), "unexpected error (ValueError: boom)")])
def test_errors_are_one_line_in_the_chat(make_pipeline, exc, shown):
    p = make_pipeline(reply_fn=_failing(exc))
    turns, answer = last(chat_over(p).respond(Q_PL, None, "default", []))
    page = Html(turns[-1].html)
    assert answer is None and shown in page.visible
    assert "Traceback" not in page.visible and "\n" not in page.visible
    # the conversation goes on: a failed turn is not history
    p.generator.reply_fn = None
    p.generator.replies = [REPLY]
    turns, answer = last(chat_over(p).respond(Q_PL, None, "default", turns))
    assert answer is not None and len(turns) == 2


def test_unknown_profile_is_a_message(make_pipeline):
    turns, answer = last(chat_over(make_pipeline([REPLY])).respond(Q_PL, None, "nope", []))
    assert answer is None and "unknown profile" in turns[-1].html


def test_each_profile_gets_its_own_pipeline_once(make_pipeline, settings):
    settings.profiles = {"small": {"k": 2}}
    made = []
    def factory(s):
        made.append(s)
        return Pipeline(s, embedder=WordOverlapEmbedder(), generator=ScriptedGenerator(reply_fn=lambda m: REPLY))
    chat = Chat(settings, factory)
    assert chat.pipeline("small") is chat.pipeline("small") is not chat.pipeline("default")
    assert [s.k for s in made] == [2, settings.k]


class LockingGenerator(ScriptedGenerator):
    """Like the real generator: holds a thread-owned lock for the whole stream; one word per 20 ms."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock = threading.RLock()
        self.words = 0

    def stream(self, messages, max_tokens, stop=None, first=None):
        with self.lock:
            for word in super().stream(messages, max_tokens, stop, first):
                time.sleep(0.02)
                self.words += 1
                yield word


def test_stop_ends_the_model_and_the_next_question_runs(settings):
    """Gradio calls next() from any worker thread and closes the generator from its event loop."""
    generator = LockingGenerator([REPLY, REPLY])
    chat = chat_over(Pipeline(settings, embedder=WordOverlapEmbedder(), generator=generator))
    updates = chat.respond(Q_PL, None, "default", [])

    def next_in_a_new_thread():
        box = []
        worker = threading.Thread(target=lambda: box.append(next(updates)))
        worker.start()
        worker.join(10)
        return box[0]
    for _ in range(4):
        turns, _ = next_in_a_new_thread()
    mark_stopped(turns)                                                   # Stop
    updates.close()
    box = []
    worker = threading.Thread(target=lambda: box.append(last(chat.respond(Q_PL, None, "default", turns))))
    worker.start()
    worker.join(20)
    assert box, "the next question waited forever for the model"
    turns, answer = box[0]
    assert answer is not None and "(stopped)" in turns[0].html and turns[0].answer is None
    assert generator.words < 2 * len(REPLY.split())                      # the stopped answer did not run on


# -- the app -----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def api_client(pipeline):
    """The chat app over `pipeline`, served on 127.0.0.1, and a gradio_client connected to it."""
    from gradio_client import Client

    app = create_app(pipeline.settings, pipeline_factory=lambda settings: pipeline)
    port = free_port()
    app.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    finally:
        app.close()


def test_chat_api_with_gradio_client(make_pipeline):
    p = make_pipeline(reply_fn=lambda messages: REPLY)
    with api_client(p) as client:
        result = client.predict(question=Q_PL, k=3, profile="default", api_name="/chat")
        assert result["answer"] == p.ask(Q_PL, k=3).answer and result["citations"][0]["marker"] == 1
        assert [x["chunk_id"] for x in result["passages"]] == [x.chunk.id for x in p.ask(Q_PL, k=3).passages]
        assert client.predict(question=Q_PL, api_name="/chat")["answer"] == result["answer"]   # defaults
        with pytest.raises(Exception, match="empty"):
            client.predict(question="  ", api_name="/chat")
