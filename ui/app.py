"""The chat in a browser: a Gradio app over `rag.pipeline.Pipeline`.

`create_app(settings)` builds the app; `launch(settings)` builds or loads the index first (progress
in the terminal) and serves it. An answer streams in token by token, then is replaced by the checked
answer whose [n] markers open the cited passage (HTML from ui/render.py). `Chat` holds the logic
without Gradio, so tests drive it with a fake pipeline. The same answering is the API endpoint
`/chat` for gradio_client. Nothing is re-implemented here: every step is the pipeline's.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rag.config import Settings
from rag.errors import RagError
from rag.types import Answer

from .render import CSS, escape_text, render_answer, render_error, render_sources, render_streaming

log = logging.getLogger(__name__)

SHOWN_QUESTION_CHARS = 500      # a refused 100 kB question is not echoed whole into the chat


@dataclass
class Turn:
    question: str
    html: str                   # what the chat shows for the answer
    answer: str | None = None   # the checked answer text, given back as history; None for errors and stops
    done: bool = False


def to_messages(turns: list[Turn]) -> list[dict]:
    """Chatbot messages; the chat renders HTML as is, so user text is escaped too."""
    messages = []
    for t in turns:
        q = t.question if len(t.question) <= SHOWN_QUESTION_CHARS else t.question[:SHOWN_QUESTION_CHARS] + "…"
        messages += [{"role": "user", "content": escape_text(q)}, {"role": "assistant", "content": t.html}]
    return messages


def mark_stopped(turns: list[Turn]) -> list[Turn]:
    for t in turns:
        if not t.done:
            t.html, t.done = t.html.replace('<span class="cursor">▌</span>', "") + " <i>(stopped)</i>", True
    return turns


def _in_own_thread(events: Iterator, cancel: threading.Event) -> Iterator:
    """Iterate `events` in one thread of its own and hand its items over.

    Gradio calls next() on a chat function from whichever worker thread is free, and closes it from
    the event loop when Stop is pressed. The generator holds a thread-owned lock for the whole stream,
    so the stream must start, run and be closed in a single thread; `cancel` ends it early."""
    items: queue.Queue = queue.Queue()
    end = object()

    def produce():
        try:
            for item in events:
                items.put(item)
                if cancel.is_set():
                    break
        except BaseException as exc:     # handed to the consumer, which shows it
            items.put(exc)
        finally:
            events.close()               # stops the model mid-answer after Stop, releasing its lock here
            items.put(end)

    threading.Thread(target=produce, name="rag-stream", daemon=True).start()
    while (item := items.get()) is not end:
        if isinstance(item, BaseException):
            raise item
        yield item


def _terminal_progress():
    from rag.cli import _notify, _progress_bar   # the CLI's progress reporting, so `rag chat` looks like `rag index`

    return _notify, _progress_bar("embedding")


class Chat:
    """Answers questions for the UI: one pipeline per model profile, created on first use."""

    def __init__(self, settings: Settings, pipeline_factory: Callable | None = None):
        if pipeline_factory is None:
            from rag.pipeline import Pipeline
            pipeline_factory = Pipeline
        self.settings = settings
        self._factory = pipeline_factory
        self._pipelines: dict = {}       # profile name -> Pipeline
        self._lock = threading.Lock()

    def pipeline(self, profile: str | None):
        profile = profile or "default"
        with self._lock:
            if profile not in self._pipelines:
                pipeline = self._factory(self.settings.with_profile(profile))
                notify, progress = _terminal_progress()
                pipeline.index(notify=notify, progress=progress)   # another embedder may need its own index
                self._pipelines[profile] = pipeline
            return self._pipelines[profile]

    def respond(self, question: str, k: int | None, profile: str | None,
                turns: list[Turn]) -> Iterator[tuple[list[Turn], Answer | None]]:
        """Yields (turns, answer): the new turn streaming, then with the checked answer (answer set once).
        Empty input yields nothing; errors become a one-line message in the turn."""
        if not isinstance(question, str) or not question.strip():
            return
        turns = mark_stopped(list(turns))
        history = [(t.question, t.answer) for t in turns if t.answer is not None]
        turn = Turn(question, render_streaming(""))
        turns.append(turn)
        yield turns, None
        cancel = threading.Event()
        try:
            pipeline = self.pipeline(profile)
            streamed = ""
            for event in _in_own_thread(pipeline.stream(question, k=int(k) if k else None, history=history), cancel):
                if event.kind == "token":
                    streamed += event.text
                    turn.html = render_streaming(streamed)
                    yield turns, None
                elif event.kind == "status":
                    turn.html = render_streaming(streamed, status=event.text)
                    yield turns, None
                elif event.kind == "answer":
                    turn.html, turn.answer, turn.done = render_answer(event.answer), event.answer.answer, True
                    yield turns, event.answer
        except RagError as exc:
            turn.html, turn.done = render_error(str(exc)), True
            yield turns, None
        except Exception as exc:      # a bug: logged in full for the terminal, one line for the user
            log.exception("the chat failed")
            turn.html, turn.done = render_error(f"unexpected error ({type(exc).__name__}: {exc})"), True
            yield turns, None
        finally:
            cancel.set()              # also runs when Gradio closes this generator (Stop)

    def answer(self, question: str, k: int | None = None, profile: str | None = None) -> Answer:
        """One question, no history: the API endpoint."""
        pipeline = self.pipeline(profile)
        result = None
        for event in _in_own_thread(pipeline.stream(question, k=int(k) if k else None), threading.Event()):
            if event.kind == "answer":
                result = event.answer
        return result


def create_app(settings: Settings, pipeline_factory: Callable | None = None):
    """The Gradio Blocks app. `pipeline_factory(settings) -> Pipeline` (tests pass fakes)."""
    import gradio as gr

    chat = Chat(settings, pipeline_factory)

    def on_submit(question, k, profile, show, turns):
        answered = False
        for turns, answer in chat.respond(question, k, profile, turns):
            answered = True
            sources = render_sources(answer, show) if answer is not None else gr.skip()
            yield to_messages(turns), turns, sources, answer if answer is not None else gr.skip()
        if not answered:              # empty input: nothing changes
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()

    def on_stop(turns):
        return to_messages(mark_stopped(turns)), turns

    def chat_api(question: str, k: int = settings.k, profile: str = "default") -> dict:
        """Answer one question from the articles; returns the answer with citations and passages as JSON."""
        try:
            return chat.answer(question, k, profile).to_json()
        except RagError as exc:
            raise gr.Error(str(exc)) from None

    with gr.Blocks(title="Ask the articles", analytics_enabled=False) as app:   # local and private: no analytics
        gr.HTML(f"<style>{CSS}</style>")
        gr.Markdown("### Ask the articles\nAnswers come only from the news articles. "
                    "Click a number like **[1]** to see the quoted passage.")
        chatbot = gr.Chatbot(label="Chat", elem_id="chat", height=520, render_markdown=False,
                             latex_delimiters=[], feedback_options=None)
        with gr.Row():
            question = gr.Textbox(placeholder="Ask a question about the articles…", show_label=False,
                                  elem_id="question", scale=8, autofocus=True)
            send = gr.Button("Send", variant="primary", elem_id="send", scale=1)
            stop = gr.Button("Stop", variant="stop", elem_id="stop", scale=1)
        with gr.Accordion("Settings", open=False):
            k = gr.Slider(1, max(10, settings.k), value=settings.k, step=1, label="Passages given to the model (k)")
            profile = gr.Dropdown(settings.profile_names(), value="default", label="Model profile")
            show = gr.Checkbox(value=True, label="Show retrieved passages")
        sources = gr.HTML(elem_id="sources")
        turns = gr.State([])            # list[Turn] of this browser tab
        last = gr.State(None)           # the last Answer, to re-render the sources on toggling

        triggers = [question.submit, send.click]
        # one answer at a time over all tabs (the LLM is not thread-safe); "multiple" queues a question
        # asked while one is running instead of dropping it; turns are read when it starts, so no mixing
        answering = gr.on(triggers, on_submit, [question, k, profile, show, turns], [chatbot, turns, sources, last],
                          concurrency_limit=1, concurrency_id="llm", trigger_mode="multiple",
                          show_progress="minimal", api_visibility="private")
        gr.on(triggers, None, None, question, js="() => ''", queue=False, api_visibility="private")  # clear the box
        stop.click(on_stop, turns, [chatbot, turns], cancels=[answering], queue=False, api_visibility="private")
        show.change(render_sources, [last, show], sources, queue=False, api_visibility="private")
        gr.api(chat_api, api_name="chat", concurrency_limit=1, concurrency_id="llm")
    return app


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Build or load the index (a first start embeds the articles, with a progress bar), then serve."""
    from rag.pipeline import Pipeline

    first = Pipeline(settings)
    notify, progress = _terminal_progress()
    first.index(notify=notify, progress=progress)
    print("index ready; the model loads with the first question", flush=True)
    app = create_app(settings, pipeline_factory=lambda s: first if s is settings else Pipeline(s))
    app.queue().launch(server_name=host, server_port=port)
