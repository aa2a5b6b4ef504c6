"""The chat in a browser: a Gradio app over `rag.pipeline.Pipeline`.

`create_app(settings)` builds the app; `launch(settings)` builds or loads the index first (progress
in the terminal) and serves it. An answer streams in token by token, then is replaced by the checked
answer whose [n] markers open the cited passage (HTML from ui/render.py). `Chat` holds the logic
without Gradio, so tests drive it with a fake pipeline. The same answering is the API endpoint
`/chat` for gradio_client. Nothing is re-implemented here: every step is the pipeline's.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.config import Settings
from rag.errors import BadInput, RagError
from rag.openai_api import is_server_spec
from rag.stores import Filter
from rag.types import Answer

from . import history as conversation
from .render import (ARTICLES_CSS, CSS, CURSOR, escape_text, render_answer, render_article, render_article_list,
                     render_error, render_sources, render_streaming)

log = logging.getLogger(__name__)

SHOWN_QUESTION_CHARS = 500      # a refused 100 kB question is not echoed whole into the chat


@dataclass
class Turn:
    question: str
    html: str                   # what the chat shows for the answer
    answer: str | None = None   # the checked answer text, given back as history; None for errors and stops
    status: str = "waiting"     # "waiting" (queued) | "answering" | "done"
    result: Answer | None = None   # the whole checked answer, for the readers' feedback (not kept over a reload)
    record: dict | None = None     # what the export and the browser's copy keep of it (ui/history.py)


WAITING = "<i>waiting for the model…</i>"   # another answer (this tab's or another's) is being written


def to_messages(turns: list[Turn]) -> list[dict]:
    """Chatbot messages; the chat renders HTML as is, so user text is escaped too."""
    messages = []
    for t in turns:
        q = t.question if len(t.question) <= SHOWN_QUESTION_CHARS else t.question[:SHOWN_QUESTION_CHARS] + "…"
        messages += [{"role": "user", "content": escape_text(q)}, {"role": "assistant", "content": t.html}]
    return messages


def mark_stopped(turns: list[Turn]) -> list[Turn]:
    """After Stop: the answer being written and the questions waiting behind it end here."""
    for t in turns:
        if t.status == "waiting":
            t.html, t.status = "<i>(stopped before it was answered)</i>", "done"
        elif t.status == "answering":
            t.html, t.status = t.html.replace(CURSOR, " <i>(stopped)</i>"), "done"
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
    from rag import progress

    return progress.notify, progress.bar("embedding")


MAX_UPLOAD_FILES = 10            # files in one upload
MAX_ARTICLES = 1000              # articles in the collection; each upload is also bounded in size (rag/extract.py)


def _read_upload(path: Path) -> bytes:
    from rag import extract

    try:
        if path.stat().st_size > extract.MAX_BYTES:
            raise BadInput(f"{path.name}: too large ({path.stat().st_size / 1e6:.1f} MB, "
                           f"at most {extract.MAX_BYTES / 1e6:.0f} MB)")
        return path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path.name}: the upload cannot be read ({exc.strerror})") from None


class Chat:
    """Answers questions for the UI: one pipeline per model profile, created on first use."""

    def __init__(self, settings: Settings, pipeline_factory: Callable | None = None, read_only: bool = False):
        if pipeline_factory is None:
            from rag.pipeline import Pipeline
            pipeline_factory = Pipeline
        self.settings = settings
        self.read_only = read_only       # no adding or removing articles from the chat
        self._factory = pipeline_factory
        self._pipelines: dict = {}       # profile name -> Pipeline
        self._lock = threading.Lock()
        self._articles_lock = threading.Lock()    # one change of the collection at a time

    def pipeline(self, profile: str | None):
        profile = profile or "default"
        with self._lock:
            if profile not in self._pipelines:
                pipeline = self._factory(self.settings.with_profile(profile))
                notify, progress = _terminal_progress()
                pipeline.index(notify=notify, progress=progress)   # another embedder may need its own index
                self._pipelines[profile] = pipeline
            return self._pipelines[profile]

    def ask(self, question, turns: list[Turn]) -> bool:
        """Add a question to the conversation, shown at once and answered in turn (`answer_next`).
        Empty input is ignored (False). `turns` is changed in place: the answering and a question
        asked meanwhile share this tab's one list."""
        if not isinstance(question, str) or not question.strip():
            return False
        turns.append(Turn(question, WAITING))
        return True

    def answer_next(self, k: int | None, profile: str | None, turns: list[Turn], articles=None,
                    since: str | None = None, until: str | None = None) -> Iterator[Answer | None]:
        """Answer the oldest waiting question, updating its turn: streamed text (yields None), then the
        checked answer (yields it). `articles`/`since`/`until` narrow the search (rag/stores.Filter).
        Errors become a one-line message in the turn."""
        turn = next((t for t in turns if t.status == "waiting"), None)
        if turn is None:
            return
        earlier = turns[:turns.index(turn)]
        history = [(t.question, t.answer) for t in earlier if t.answer is not None]
        turn.html, turn.status = render_streaming(""), "answering"
        yield None
        cancel = threading.Event()
        try:
            where = Filter.of(articles, since, until)
            pipeline = self.pipeline(profile)
            streamed = ""
            events = pipeline.stream(turn.question, k=int(k) if k else None, history=history, where=where)
            for event in _in_own_thread(events, cancel):
                if turn.status != "answering":       # Stop marked it while Gradio was closing this generator
                    break
                if event.kind == "token":
                    streamed += event.text
                    turn.html = render_streaming(streamed)
                    yield None
                elif event.kind == "status":          # what was streamed is withdrawn (a second look)
                    streamed = ""
                    turn.html = render_streaming(streamed, status=event.text)
                    yield None
                elif event.kind == "answer":
                    turn.html, turn.answer, turn.status = render_answer(event.answer), event.answer.answer, "done"
                    turn.result, turn.record = event.answer, conversation.summary(event.answer)
                    yield event.answer
        except RagError as exc:
            turn.html, turn.status = render_error(str(exc)), "done"
            yield None
        except Exception as exc:      # a bug: logged in full for the terminal, one line for the user
            log.exception("the chat failed")
            turn.html, turn.status = render_error(f"unexpected error ({type(exc).__name__}: {exc})"), "done"
            yield None
        finally:
            cancel.set()              # also runs when Gradio closes this generator (Stop)

    def respond(self, question, k: int | None, profile: str | None, turns: list[Turn],
                **where) -> Iterator[tuple[list[Turn], Answer | None]]:
        """`ask` then `answer_next` in one: yields (turns, answer) as the answer comes in."""
        if self.ask(question, turns):
            for answer in self.answer_next(k, profile, turns, **where):
                yield turns, answer

    def feedback(self, turns: list[Turn], message_index, liked: bool | None, note: str = "") -> str:
        """A reader's thumbs on the answer shown at `message_index` of the chat (user and answer
        messages alternate), appended to the feedback file beside the index; what to tell them."""
        from rag import feedback

        if liked is None:                       # a thumbs taken back: the line written stays, as given
            return ""
        i = message_index[0] if isinstance(message_index, (list, tuple)) else message_index
        turn = turns[i // 2] if isinstance(i, int) and i % 2 == 1 and 0 <= i // 2 < len(turns) else None
        if turn is None or turn.result is None:
            return "Only a finished answer can be rated."
        feedback.record(feedback.path_for(self.settings.index_dir), turn.result, liked, note)
        return "Thanks: recorded" + (" with your note." if note and note.strip() else ".")

    # -- the articles --------------------------------------------------------------------------------
    def articles(self):
        from rag.articles import load_articles

        return load_articles(self.settings.seeds_dir)

    def articles_overview(self, turns: list[Turn]) -> str:
        """The list of articles with their passages and how often this conversation cited them."""
        index = self.pipeline(None).index()
        passages: dict[str, int] = {}
        for c in index.chunks:
            passages[c.article_id] = passages.get(c.article_id, 0) + 1
        cited: dict[str, int] = {}
        for t in turns:
            for c in (t.record or {}).get("citations", []):
                cited[c["article_id"]] = cited.get(c["article_id"], 0) + 1
        return render_article_list(self.articles(), passages, cited)

    def article_view(self, article_id: str | None, turns: list[Turn]) -> str:
        """One article's whole text, this conversation's cited spans marked."""
        found = {a.id: a for a in self.articles()}.get(article_id or "")
        if found is None:
            return ""
        spans = [(c["start"], c["end"]) for t in turns for c in (t.record or {}).get("citations", [])
                 if c["article_id"] == found.id]
        return render_article(found, spans)

    def add_files(self, files: list, progress: Callable | None = None) -> str:
        """Uploaded files in as articles (rag/extract.py), then only they are embedded, in every
        pipeline in use. All files are checked first: one bad file adds nothing."""
        from rag import extract

        if self.read_only:
            raise BadInput("this chat is read-only: articles cannot be added here")
        files = [f for f in (files or []) if f]
        if not files:
            return ""
        if len(files) > MAX_UPLOAD_FILES:
            raise BadInput(f"at most {MAX_UPLOAD_FILES} files at once, got {len(files)}")
        if len(self.articles()) + len(files) > MAX_ARTICLES:
            raise BadInput(f"the collection is limited to {MAX_ARTICLES} articles")
        seen = extract.known(self.settings.seeds_dir)
        found = []
        for f in files:
            path = Path(f)
            item = extract.extract(path, data=_read_upload(path))
            digest = extract.text_hash(item.article_text())
            if digest in seen:
                raise BadInput(f"{path.name}: same text as {seen[digest]}, already in the articles")
            seen[digest] = path.name
            found.append(item)
        with self._articles_lock:
            added = [extract.save(item, self.settings.seeds_dir) for item in found]
            self._refresh(progress)
        return "Added: " + "; ".join(f"{item.title} ({item.date or 'no date'}) as {p.stem}"
                                     for item, p in zip(found, added))

    def remove_article(self, article_id: str | None, progress: Callable | None = None) -> str:
        if self.read_only:
            raise BadInput("this chat is read-only: articles cannot be removed here")
        found = {a.id: a for a in self.articles()}.get(article_id or "")
        if found is None:                  # only an id of a listed article names a file: never a path
            raise BadInput("choose one of the listed articles to remove")
        if len(self.articles()) == 1:
            raise BadInput("the last article cannot be removed: the assistant needs at least one")
        with self._articles_lock:
            (Path(self.settings.seeds_dir) / f"{found.id}.txt").unlink()
            self._refresh(progress)
        return f"Removed: {found.title} ({found.id}); its passages are out of the index."

    def _refresh(self, progress: Callable | None) -> None:
        for pipeline in {id(p): p for p in [self.pipeline(None), *self._pipelines.values()]}.values():
            pipeline.refresh_index(progress=progress)

    def answer(self, question: str, k: int | None = None, profile: str | None = None, articles=None,
               since: str | None = None, until: str | None = None) -> Answer:
        """One question, no history, optionally narrowed to articles and months: the API endpoint."""
        where = Filter.of(articles, since, until)
        pipeline = self.pipeline(profile)
        result = None
        for event in _in_own_thread(pipeline.stream(question, k=k, where=where), threading.Event()):
            if event.kind == "answer":
                result = event.answer
        if result is None:
            raise RagError("the pipeline ended without an answer")
        return result


# The first screen: questions the product answers well, in both languages, and one it rightly
# refuses (the articles do not say). Each is asked when clicked.
EXAMPLES = [
    "Ilu północnokoreańskich pracowników Rosja chce zatrudnić w Tatarstanie?",
    "Gdzie Szojgu spotkał się z Kim Dzong Unem?",
    "How many North Korean workers does Russia plan to hire in Tatarstan?",
    "According to HUR, where are the Shahed drones made?",
    "What is the capital of Australia?",
]

TEXTS = {
    "en": {"intro": "### Ask the articles\nAnswers come only from the news articles. Click a number like "
                    "**[1]** to see the quoted passage.",
           "examples": "Try one (the last one the articles cannot answer, and the assistant says so):",
           "placeholder": "Ask a question about the articles…", "send": "Send", "stop": "Stop",
           "note": "Optional: what was wrong or right? Sent with your next thumbs up or down", "settings": "Settings",
           "k": "Passages the answer draws sentences from (k)", "profile": "Model profile",
           "show": "Show retrieved passages", "new": "New conversation", "export": "Export (Markdown)",
           "articles": "Articles", "open": "Open an article", "remove": "Remove this article",
           "upload": "Add articles: a saved web page (.html), .pdf, .md or .txt",
           "filters": "Narrow the search", "only": "Only these articles (none chosen: all)",
           "since": "From month (YYYY-MM)", "until": "Up to month (YYYY-MM)"},
    "pl": {"intro": "### Zapytaj artykuły\nOdpowiedzi pochodzą wyłącznie z artykułów. Kliknij numer, np. "
                    "**[1]**, aby zobaczyć cytowany fragment.",
           "examples": "Wypróbuj (na ostatnie pytanie artykuły nie odpowiadają i asystent to mówi):",
           "placeholder": "Zadaj pytanie o artykuły…", "send": "Wyślij", "stop": "Zatrzymaj",
           "note": "Opcjonalnie: co było źle lub dobrze? Wysyłane z następną oceną (kciuk w górę lub w dół)", "settings": "Ustawienia",
           "k": "Fragmenty, z których odpowiedź bierze zdania (k)", "profile": "Profil modeli",
           "show": "Pokaż znalezione fragmenty", "new": "Nowa rozmowa", "export": "Eksport (Markdown)",
           "articles": "Artykuły", "open": "Otwórz artykuł", "remove": "Usuń ten artykuł",
           "upload": "Dodaj artykuły: zapisana strona (.html), .pdf, .md lub .txt",
           "filters": "Zawęź wyszukiwanie", "only": "Tylko te artykuły (żaden nie wybrany: wszystkie)",
           "since": "Od miesiąca (RRRR-MM)", "until": "Do miesiąca (RRRR-MM)"},
}

BROWSER_LANGUAGE = "() => ((navigator.languages || [navigator.language || 'en'])[0] || 'en').toLowerCase().startsWith('pl') ? 'pl' : 'en'"


def relabel(language: str):
    """The interface's texts in `language` ("pl" | "en"), as updates in the order create_app lists them."""
    import gradio as gr

    t = TEXTS.get(language, TEXTS["en"])
    return (t["intro"], t["examples"], gr.update(placeholder=t["placeholder"]), gr.update(value=t["send"]),
            gr.update(value=t["stop"]), gr.update(placeholder=t["note"]), gr.update(label=t["settings"]),
            gr.update(label=t["k"]), gr.update(label=t["profile"]), gr.update(label=t["show"]),
            gr.update(value=t["new"]), gr.update(value=t["export"]), gr.update(label=t["articles"]),
            gr.update(label=t["open"]), gr.update(value=t["remove"]), gr.update(label=t["upload"]),
            gr.update(label=t["filters"]), gr.update(label=t["only"]), gr.update(label=t["since"]),
            gr.update(label=t["until"]))


def answer_slots(settings: Settings) -> int:
    """Questions answered at once: `chat_concurrency` when every model profile's LLM is on a server
    (which batches them); 1 when any runs in this process (its llama.cpp context takes one at a time)."""
    specs = [settings.with_profile(name).llm for name in settings.profile_names()]
    if all(is_server_spec(spec) for spec in specs):
        return settings.chat_concurrency
    if settings.chat_concurrency > 1:
        log.warning("chat_concurrency=%d needs a server LLM (llm = \"openai:...\"); the in-process model "
                    "answers one question at a time", settings.chat_concurrency)
    return 1


def create_app(settings: Settings, pipeline_factory: Callable | None = None, read_only: bool = False):
    """The Gradio Blocks app. `pipeline_factory(settings) -> Pipeline` (tests pass fakes);
    `read_only`: no adding or removing articles."""
    import gradio as gr

    from rag.extract import SUFFIXES

    chat = Chat(settings, pipeline_factory, read_only=read_only)
    slots = answer_slots(settings)

    def on_question(question, turns):
        if not chat.ask(question, turns):
            return gr.skip(), gr.skip(), gr.skip()
        return "", to_messages(turns), turns

    def on_answer(k, profile, show, turns, only, since, until):
        answered = finished = False
        for answer in chat.answer_next(k, profile, turns, only, since, until):
            answered = True
            if answer is None:
                yield to_messages(turns), turns, gr.skip(), gr.skip()
            else:
                finished = True
                yield to_messages(turns), turns, render_sources(answer, show), answer
        if not answered:              # nothing was waiting (empty input): a generator that yields nothing empties the outputs
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
        elif not finished:            # Stop ended it: this event's last word is the stopped turn, so that no
            yield to_messages(turns), turns, gr.skip(), gr.skip()   # streamed update lands after Stop's

    def on_like(turns, text, data: gr.LikeData):
        try:
            message = chat.feedback(turns, data.index, data.liked, text)
        except RagError as exc:
            gr.Warning(str(exc))
            return gr.skip()
        if message:
            gr.Info(message)
        return ""

    # Gradio passes the LikeData by the parameter's type, which this module's postponed annotations
    # leave as a string it cannot resolve (gradio is imported in here): give it the class itself
    on_like.__annotations__["data"] = gr.LikeData

    def article_choices():
        return [(f"{a.title} ({a.date or '-'})", a.id) for a in chat.articles()]

    def on_articles(turns, only):
        try:
            choices = article_choices()
            ids = {i for _, i in choices}
            return (chat.articles_overview(turns), gr.update(choices=choices),
                    gr.update(choices=choices, value=[i for i in only or [] if i in ids]))
        except RagError as exc:
            return render_error(str(exc)), gr.skip(), gr.skip()

    def on_upload(files, progress=gr.Progress()):
        def embedding(done, total):
            progress((done, total), desc="embedding the new passages", unit="passages")
        try:
            message = chat.add_files(files, progress=embedding)
        except RagError as exc:
            return f"⚠ {exc}", None
        return message, None

    def on_remove(article_id):
        try:
            message = chat.remove_article(article_id)
        except RagError as exc:
            return f"⚠ {exc}", gr.skip(), gr.skip()
        return message, gr.update(value=None), ""

    def on_load(data):
        restored = conversation.restored(data, Turn)
        return to_messages(restored), restored

    def on_new():
        # an empty conversation, not None: the browser keeps its old copy when given None
        return [], [], "", None, conversation.saved([]), gr.File(value=None, visible=False)

    def on_export(turns):
        import tempfile
        import time as _time

        folder = Path(tempfile.mkdtemp(prefix="rag-export-"))
        path = folder / f"conversation-{_time.strftime('%Y%m%d-%H%M%S')}.md"
        path.write_text(conversation.markdown(turns), encoding="utf-8")
        return gr.File(value=str(path), visible=True)

    def on_stop(turns):
        return to_messages(mark_stopped(turns)), turns

    def chat_api(question: str, k: int = settings.k, profile: str = "default", articles: list[str] | None = None,
                 since: str | None = None, until: str | None = None) -> dict:
        """Answer one question from the articles; returns the answer with citations and passages as JSON.
        `articles` (ids), `since` and `until` (months, YYYY-MM) narrow the search; the answer's
        `scope` then says what was searched and the period it drew on."""
        try:
            return chat.answer(question, k, profile, articles, since, until).to_json()
        except RagError as exc:        # the user's mistake: a message, not a traceback in the server log
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:       # a bug: the details go to the server log, not to the caller
            log.exception("chat API failed")
            raise gr.Error(f"unexpected error ({type(exc).__name__}); see the server log",
                           print_exception=False) from None

    with gr.Blocks(title="Ask the articles", analytics_enabled=False) as app:   # local and private: no analytics
        gr.HTML(f"<style>{CSS}{ARTICLES_CSS}</style>")
        with gr.Row():
            intro = gr.Markdown(TEXTS["en"]["intro"], elem_id="intro")
            language = gr.Radio([("Polski", "pl"), ("English", "en")], value="en", show_label=False,
                                elem_id="ui-language", scale=0, min_width=200)
        chatbot = gr.Chatbot(label="Chat", elem_id="chat", height=520, render_markdown=False,
                             latex_delimiters=[], feedback_options=("Like", "Dislike"))
        examples_label = gr.Markdown(TEXTS["en"]["examples"], elem_id="examples-label")
        with gr.Row(elem_id="examples"):
            examples = [gr.Button(q, size="sm", elem_classes=["example"]) for q in EXAMPLES]
        with gr.Row():
            question = gr.Textbox(placeholder=TEXTS["en"]["placeholder"], show_label=False,
                                  elem_id="question", scale=8, autofocus=True)
            send = gr.Button(TEXTS["en"]["send"], variant="primary", elem_id="send", scale=1)
            stop = gr.Button(TEXTS["en"]["stop"], variant="stop", elem_id="stop", scale=1)
        note = gr.Textbox(placeholder=TEXTS["en"]["note"], show_label=False, elem_id="feedback-note",
                          max_length=2000, lines=1)
        with gr.Accordion(TEXTS["en"]["settings"], open=False, elem_id="settings") as settings_box:
            k = gr.Slider(1, max(20, settings.k), value=settings.k, step=1, label=TEXTS["en"]["k"])
            profile = gr.Dropdown(settings.profile_names(), value="default", label=TEXTS["en"]["profile"])
            show = gr.Checkbox(value=True, label=TEXTS["en"]["show"], elem_id="show-sources")
        with gr.Accordion(TEXTS["en"]["filters"], open=False, elem_id="filters") as filters_box:
            with gr.Row():
                only = gr.Dropdown(choices=[], value=[], multiselect=True, label=TEXTS["en"]["only"],
                                   elem_id="filter-articles", scale=3)
                since = gr.Textbox(label=TEXTS["en"]["since"], placeholder="2024-10", max_length=7, max_lines=1,
                                   elem_id="filter-since", scale=1)
                until = gr.Textbox(label=TEXTS["en"]["until"], placeholder="2025-03", max_length=7, max_lines=1,
                                   elem_id="filter-until", scale=1)
        with gr.Row():
            new = gr.Button(TEXTS["en"]["new"], elem_id="new-conversation", size="sm")
            export = gr.Button(TEXTS["en"]["export"], elem_id="export", size="sm")
        exported = gr.File(label="Conversation", visible=False, elem_id="exported", interactive=False)
        with gr.Accordion(TEXTS["en"]["articles"], open=False, elem_id="articles") as articles_box:
            article_list = gr.HTML(elem_id="article-list")
            with gr.Row():
                chosen = gr.Dropdown(choices=[], value=None, label=TEXTS["en"]["open"], elem_id="article-choice", scale=4)
                remove = gr.Button(TEXTS["en"]["remove"], variant="stop", size="sm", elem_id="remove-article",
                                   visible=not read_only, scale=1)
            article_text = gr.HTML(elem_id="article-text")
            upload = gr.File(label=TEXTS["en"]["upload"], file_count="multiple", file_types=list(SUFFIXES),
                             elem_id="upload", visible=not read_only)
            article_status = gr.Markdown(elem_id="article-status")
        sources = gr.HTML(elem_id="sources")
        turns = gr.State([])            # list[Turn] of this browser tab
        last = gr.State(None)           # the last Answer, to re-render the sources on toggling
        # the conversation in this browser's localStorage (encrypted with a key of this server run):
        # it survives a reload of the page; nothing of it is kept on the server
        kept = gr.BrowserState(None, storage_key="rag-conversation")

        # The question shows at once and the box clears; the answering follows, `slots` answers at a time
        # over all tabs (one for the in-process LLM, which is not thread-safe). A question asked while
        # one is answered waits in `turns`.
        asked = gr.on([question.submit, send.click], on_question, [question, turns], [question, chatbot, turns],
                      queue=False, trigger_mode="multiple", api_visibility="private")
        asking = [k, profile, show, turns, only, since, until]      # what on_answer reads
        answering = asked.then(on_answer, asking, [chatbot, turns, sources, last],
                               concurrency_limit=slots, concurrency_id="llm", trigger_mode="multiple",
                               show_progress="minimal", api_visibility="private")
        answerings = [answering]
        for button in examples:          # an example is asked at once, as if typed
            answerings.append(
                button.click(on_question, [button, turns], [question, chatbot, turns], queue=False,
                             api_visibility="private")
                .then(on_answer, asking, [chatbot, turns, sources, last], concurrency_limit=slots,
                      concurrency_id="llm", trigger_mode="multiple", show_progress="minimal", api_visibility="private"))
        for done in answerings:
            done.then(conversation.saved, turns, kept, queue=False, api_visibility="private") \
                .then(on_articles, [turns, only], [article_list, chosen, only], queue=False, api_visibility="private")
        chosen.change(chat.article_view, [chosen, turns], article_text, queue=False, api_visibility="private")
        upload.upload(on_upload, upload, [article_status, upload], concurrency_limit=1, concurrency_id="articles",
                      api_visibility="private") \
            .then(on_articles, [turns, only], [article_list, chosen, only], queue=False, api_visibility="private")
        remove.click(on_remove, chosen, [article_status, chosen, article_text], concurrency_limit=1,
                     concurrency_id="articles", api_visibility="private") \
            .then(on_articles, [turns, only], [article_list, chosen, only], queue=False, api_visibility="private")
        # Stop marks the turns; the answer being written sees the mark at its next token and ends
        # itself (closing the model's stream), and its own last update shows the mark. Cancelling the
        # event instead let an update streamed before Stop arrive after it and hide "(stopped)".
        stop.click(on_stop, turns, [chatbot, turns], queue=False,
                   api_visibility="private").then(conversation.saved, turns, kept, queue=False, api_visibility="private")
        new.click(on_new, None, [chatbot, turns, sources, last, kept, exported], cancels=answerings, queue=False,
                  api_visibility="private")
        # the interface follows the browser's language (Polish or English), and the switch
        language.change(relabel, language, [intro, examples_label, question, send, stop, note, settings_box, k,
                                            profile, show, new, export, articles_box, chosen, remove, upload,
                                            filters_box, only, since, until],
                        queue=False, api_visibility="private")
        app.load(None, None, language, js=BROWSER_LANGUAGE, queue=False, api_visibility="private")
        export.click(on_export, turns, exported, queue=False, api_visibility="private")
        app.load(on_load, kept, [chatbot, turns], queue=False, api_visibility="private") \
            .then(on_articles, [turns, only], [article_list, chosen, only], queue=False, api_visibility="private")
        chatbot.like(on_like, [turns, note], note, queue=False, api_visibility="private")
        show.change(render_sources, [last, show], sources, queue=False, api_visibility="private")
        gr.api(chat_api, api_name="chat", concurrency_limit=slots, concurrency_id="llm")
    return app


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def logins(host: str, auth: str | None = None, auth_file: Path | None = None, no_auth: bool = False,
           environ=None) -> list[tuple[str, str]] | None:
    """Who may use the chat: `--auth USER:PASSWORD`, `--auth-file` (one USER:PASSWORD per line;
    # comments), else `RAG_AUTH` (USER:PASSWORD, several separated by commas); None: no login.
    On 127.0.0.1 nothing is required. Bound to any other address, the chat refuses to start without
    a login unless `no_auth` says so explicitly: the articles and the model would be anyone's."""
    environ = os.environ if environ is None else environ
    entries: list[str] = []
    if auth:
        entries.append(auth)
    if auth_file:
        try:
            lines = Path(auth_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"cannot read the users file {auth_file} ({getattr(exc, 'strerror', None) or exc})") from None
        entries += [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    if not entries and environ.get("RAG_AUTH"):
        entries += [e.strip() for e in environ["RAG_AUTH"].split(",") if e.strip()]
    users = []
    for entry in entries:
        user, sep, password = entry.partition(":")
        if not sep or not user.strip() or not password:
            raise BadInput("a login must be USER:PASSWORD with both parts non-empty (in --auth, the users file or RAG_AUTH)")
        users.append((user.strip(), password))
    if users and no_auth:
        raise BadInput("--no-auth contradicts the logins given: drop one of them")
    if not users and not no_auth and host not in LOOPBACK:
        raise BadInput(f"refusing to serve the chat on {host} without a login: pass --auth USER:PASSWORD "
                       "(or --auth-file, or RAG_AUTH), or --no-auth to serve it to anyone who can reach it")
    return users or None


def _warm(pipeline) -> None:
    try:
        print(f"model warmed in {pipeline.warm():.1f} s (loaded; its fixed system prompt evaluated)", flush=True)
    except RagError as exc:                    # the first question will say it again, to the reader
        print(f"model not warmed: {exc}", flush=True)


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
           auth: list[tuple[str, str]] | None = None, read_only: bool = False) -> None:
    """Build or load the index (a first start embeds the articles, with a progress bar), then serve;
    `auth` (from `logins`) puts a login in front of everything, the API included."""
    from rag import doctor
    from rag.pipeline import Pipeline

    first = Pipeline(settings)
    notify, progress = _terminal_progress()
    first.index(notify=notify, progress=progress)
    # a native crash in llama.cpp would kill the server at the first question: find it now, in a child
    print("index ready; checking that the model answers (one token, in a separate process)", flush=True)
    print(f"model check: {doctor.require_generation(settings).line}", flush=True)
    # the model's load and its fixed system prompt, now rather than in the first question's wait
    threading.Thread(target=_warm, args=(first,), daemon=True, name="warm").start()
    app = create_app(settings, pipeline_factory=lambda s: first if s is settings else Pipeline(s), read_only=read_only)
    app.queue().launch(server_name=host, server_port=port, auth=auth)
