"""Load and security tests of the chat app over the fake pipeline (no real models, light on the CPU).

LOAD: 20 threads ask the `/chat` API at once through gradio_client (over 4 client sessions); every one
gets its own answer (never another question's), the one model is never run twice at once, and the
memory of the process (server and clients both live in it) does not grow burst after burst. Every wait
is bounded: a hung request fails the test after BURST_TIMEOUT_S instead of hanging the run.
SECURITY: the app listens on 127.0.0.1 unless told otherwise, does not serve files it was not meant
to (/etc/passwd, the articles, the project files, the index) and stores its index without pickle.
These run in the normal `pytest` run.
"""
from __future__ import annotations

import gc
import http.client
import inspect
import json
import re
import resource
import shutil
import socket
import threading
import time
import types
from pathlib import Path

import pytest

from rag.config import Settings
from rag.pipeline import Pipeline

from .fakes import ScriptedGenerator, WordOverlapEmbedder

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"                 # the only address these tests ever use
N = 20                             # requests in one burst
TOKEN_DELAY_S = 0.01               # per streamed word: a request takes ~0.3 s, so the 20 really queue up
BURST_TIMEOUT_S = 90.0             # a whole burst; past it the test fails instead of hanging
CLIENTS = 4                        # the 20 threads share 4 gradio_client sessions (5 requests on each)
MAX_GROWTH_MB = 50.0

BASE = ("Rosja chce zatrudnić 12 tys. pracowników z Korei Północnej w Tatarstanie [1]. "
        "Drony Shahed są produkowane w Ałabudze [2].")
TOKEN = re.compile(r"\bQ\d{2}\b")
BOOM = "kaboom"                    # a question holding it makes the fake model fail (a bug, not bad input)


def question(i: int) -> str:
    return f"Ilu pracowników z Korei Północnej Rosja chce zatrudnić w Tatarstanie? (pytanie Q{i:02d})"


def reply(messages) -> str:
    """The fake model's answer, built from the question only (the passages never hold a Q-token):
    two supported sentences, then a third, also supported, that carries the question's token (a
    label, which the answer check does not take for a claim)."""
    asked = messages[-1]["content"].split("Question: ")[-1]
    if BOOM in asked:
        raise ValueError("the fake model broke")
    found = TOKEN.search(asked)
    return (f"{BASE} Odpowiedź dla {found.group() if found else 'nikogo'}: Rosja chce zatrudnić 12 tys. "
            "pracowników w Tatarstanie [1].")


class SlowCountingGenerator(ScriptedGenerator):
    """One word every TOKEN_DELAY_S; counts the streams running at once (the real LLM is not thread-safe)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._count_lock = threading.Lock()
        self.running = self.most_at_once = self.streams = 0

    def stream(self, messages, max_tokens, stop=None, first=None):
        with self._count_lock:
            self.running += 1
            self.streams += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            for word in super().stream(messages, max_tokens, stop, first):
                time.sleep(TOKEN_DELAY_S)
                yield word
        finally:
            with self._count_lock:
                self.running -= 1
            self.prompts.clear()        # the fake's record would otherwise grow with every request


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_mb() -> float:
    """Resident memory of this process now (not the peak), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024    # pragma: no cover (no /proc)


class Server:
    def __init__(self, url, port, settings, pipeline, generator):
        self.url, self.port, self.settings, self.pipeline, self.generator = url, port, settings, pipeline, generator


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app as `launch` serves it (queue on, no extra allowed paths), over a slow fake pipeline."""
    from ui.app import create_app

    tmp = tmp_path_factory.mktemp("load")
    shutil.copytree(ROOT / "seeds", tmp / "seeds")
    settings = Settings(seeds_dir=tmp / "seeds", index_dir=tmp / "index", cache_dir=tmp / "cache",
                        translate_query=False)
    generator = SlowCountingGenerator(reply_fn=reply)
    pipeline = Pipeline(settings, embedder=WordOverlapEmbedder(), generator=generator)
    pipeline.index()
    app = create_app(settings, pipeline_factory=lambda s: pipeline)
    port = free_port()
    app.queue().launch(server_name=HOST, server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield Server(f"http://{HOST}:{port}/", port, settings, pipeline, generator)
    finally:
        app.close()


@pytest.fixture(scope="module")
def clients(server):
    """CLIENTS gradio_client sessions, kept for all the bursts (as browser tabs would be)."""
    from gradio_client import Client

    made = [Client(server.url, verbose=False) for _ in range(CLIENTS)]
    yield made
    closing = [threading.Thread(target=c.close, daemon=True) for c in made]   # each waits up to 1 s: at once
    for t in closing:
        t.start()
    for t in closing:
        t.join(5)


def burst(clients: list, questions: list[str]) -> tuple[dict, float, int]:
    """Ask all `questions` at once from one thread each, spread over `clients`. Returns ({i: result or
    exception}, seconds, the most requests in flight at once). Fails if any thread still waits after
    BURST_TIMEOUT_S (the threads are daemons: a hung one cannot keep the run alive)."""
    outcomes: dict[int, object] = {}
    start = threading.Barrier(len(questions), timeout=30)
    counter = threading.Lock()
    in_flight = [0, 0]                  # now, most

    def one(i: int):
        try:
            start.wait()
            with counter:
                in_flight[0] += 1
                in_flight[1] = max(in_flight[1], in_flight[0])
            try:
                outcomes[i] = clients[i % len(clients)].predict(question=questions[i], api_name="/chat")
            finally:
                with counter:
                    in_flight[0] -= 1
        except BaseException as exc:    # kept and judged by the test
            outcomes[i] = exc

    threads = [threading.Thread(target=one, args=(i,), name=f"load-{i:02d}", daemon=True)
               for i in range(len(questions))]
    t0 = time.monotonic()
    deadline = t0 + BURST_TIMEOUT_S
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    elapsed = time.monotonic() - t0
    hung = [t.name for t in threads if t.is_alive()]
    assert not hung, f"still waiting after {BURST_TIMEOUT_S:.0f} s: {hung}"
    return outcomes, elapsed, in_flight[1]


def readable_refusal(exc: BaseException) -> bool:
    """The documented ways the app refuses a request: gr.Error (AppError) or a full queue (QueueError);
    one line of text, no traceback."""
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError

    text = str(exc)
    return isinstance(exc, (AppError, QueueError)) and bool(text.strip()) and "Traceback" not in text


def check_answers(outcomes: dict, questions: list[str]) -> int:
    """Every request ended; a refusal is readable; an answer is its own question's. Returns answered count."""
    assert sorted(outcomes) == list(range(len(questions)))
    answered = 0
    for i, outcome in outcomes.items():
        if isinstance(outcome, BaseException):
            assert readable_refusal(outcome), f"request {i} failed with {type(outcome).__name__}: {outcome!r}"
            continue
        answered += 1
        own = f"Q{i:02d}"
        assert isinstance(outcome, dict) and not outcome["refused"], (i, outcome)
        assert TOKEN.findall(outcome["answer"]) == [own], f"request {i} got another's answer: {outcome['answer']!r}"
        assert TOKEN.findall(outcome["question"]) == [own], (i, outcome["question"])
        assert outcome["answer"].startswith("Rosja chce zatrudnić 12 tys.") and outcome["citations"]
        assert outcome["passages"] and outcome["citations"][0]["marker"] == 1
    return answered


# -- load --------------------------------------------------------------------------------------------

def test_load_20_concurrent_chat_requests_get_their_own_answers(server, clients):
    """LOAD: 20 requests at once on /chat, plus bad input and a failing model mixed in.

    The endpoint shares the "llm" concurrency slot (limit 1), so the requests queue: all must end,
    each with its own answer, and the fake model must never run two answers at once."""
    gen = server.generator
    streams_before = gen.streams
    questions = [question(i) for i in range(N)]
    outcomes, elapsed, most_in_flight = burst(clients, questions)
    answered = check_answers(outcomes, questions)
    print(f"\n{N} concurrent requests: {answered} answered in {elapsed:.1f} s, "
          f"{most_in_flight} in flight at most, {gen.most_at_once} model stream(s) at once")
    assert answered == N, "app.queue() has no max_size: no request should be refused"
    assert most_in_flight >= N // 2, "the requests did not overlap"
    assert gen.most_at_once == 1, "two answers were written by the one model at the same time"
    assert gen.streams - streams_before == N

    # the same burst with bad requests mixed in: they are refused readably and disturb no one
    bad = {N: "   ", N + 1: "x" * (server.settings.max_question_chars + 1), N + 2: f"{question(N + 2)} {BOOM}"}
    outcomes, elapsed, _ = burst(clients, questions + [bad[i] for i in sorted(bad)])
    refusals = {i: outcomes.pop(i) for i in bad}
    assert check_answers(outcomes, questions) == N
    for i, exc in refusals.items():
        assert isinstance(exc, BaseException) and readable_refusal(exc), (i, exc)
    assert "empty" in str(refusals[N]) and "too long" in str(refusals[N + 1])
    assert "fake model broke" not in str(refusals[N + 2])       # a bug's details stay in the server log
    assert gen.most_at_once == 1
    print(f"{N} requests + 3 bad ones: done in {elapsed:.1f} s; refusals: "
          + "; ".join(f"{type(e).__name__}: {str(e)[:60]}" for e in refusals.values()))


def test_load_memory_stays_bounded_over_bursts(clients):
    """LOAD: the resident memory of the process grows little from one 20-request burst to the next."""
    questions = [question(i) for i in range(N)]
    sizes = []
    for _ in range(2):                  # the first burst warms up whatever is made on first use
        outcomes, elapsed, _ = burst(clients, questions)
        assert check_answers(outcomes, questions) == N
        gc.collect()
        sizes.append(rss_mb())
    growth = sizes[1] - sizes[0]
    print(f"\nRSS after burst 1: {sizes[0]:.0f} MB, after burst 2: {sizes[1]:.0f} MB (growth {growth:+.1f} MB)")
    assert growth < MAX_GROWTH_MB, f"memory grew by {growth:.1f} MB over one burst of {N} requests"


# -- security -----------------------------------------------------------------------------------------

def test_app_listens_on_localhost_by_default(monkeypatch):
    from rag.cli import build_parser
    from ui import app as ui_app

    assert inspect.signature(ui_app.launch).parameters["host"].default == HOST
    assert build_parser().parse_args(["chat"]).host == HOST

    # and `launch` really hands it to Gradio, with no public share link
    seen = {}

    class FakePipeline:
        def __init__(self, settings):
            pass

        def index(self, **kwargs):
            return None

        def warm(self):                 # launch warms the model in the background
            return 0.0

    class FakeApp:
        def queue(self, *args, **kwargs):
            return self

        def launch(self, **kwargs):
            seen.update(kwargs)

    def checked(settings):
        seen["checked_before_serving"] = "server_name" not in seen
        return types.SimpleNamespace(ok=True, line="one token")

    monkeypatch.setattr("rag.pipeline.Pipeline", FakePipeline)
    monkeypatch.setattr("rag.doctor.require_generation", checked)
    monkeypatch.setattr(ui_app, "create_app", lambda settings, pipeline_factory=None, read_only=False: FakeApp())
    ui_app.launch(Settings())
    assert seen["server_name"] == HOST and not seen.get("share") and not seen.get("allowed_paths")
    assert seen["checked_before_serving"]


def get(port: int, path: str) -> tuple[int, bytes]:
    """A raw GET: the path goes out exactly as written (no client-side ../ clean-up), redirects not followed."""
    conn = http.client.HTTPConnection(HOST, port, timeout=15)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read(2_000_000)
    finally:
        conn.close()


def test_files_outside_the_app_are_not_served(server):
    index_files = sorted(p for p in Path(server.settings.index_dir).rglob("*") if p.is_file())
    secrets = {                                       # file -> a piece of its text that must not come back
        Path("/etc/passwd"): b"root:x:0:0",
        ROOT / "pyproject.toml": b'name = "rag"',
    }
    article = sorted((ROOT / "seeds").glob("*.txt"))[0]          # in the project folder, Gradio's cwd
    for article in [article, Path(server.settings.seeds_dir) / article.name]:      # and the app's own copy
        secrets[article] = article.read_bytes().strip().splitlines()[-1][:60]
    chunks = next(p for p in index_files if p.name == "chunks.json")
    secrets[chunks] = json.loads(chunks.read_text())[0]["text"][:40].encode()
    assert all(secrets.values())

    paths = ["/file=/etc/passwd", "/gradio_api/file=/etc/passwd", "/file=../../../../etc/passwd",
             "/gradio_api/file=../../../../../../etc/passwd", "/gradio_api/file=%2Fetc%2Fpasswd",
             "/gradio_api/file=..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd", "/gradio_api/file=/proc/self/environ",
             "/static/../../../../../../etc/passwd", "/assets/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
             "/gradio_api/file=pyproject.toml", "/file=pyproject.toml", f"/gradio_api/file=seeds/{article.name}"]
    paths += [f"/gradio_api/file={p}" for p in secrets] + [f"/file={p}" for p in secrets]
    served, statuses = [], {}
    for path in paths:
        status, body = get(server.port, path)
        statuses[path] = status
        leaked = [str(f) for f, text in secrets.items() if text in body] + \
                 (["environ"] if path.endswith("environ") and status == 200 and b"PATH=" in body else [])
        if status == 200 and leaked:
            served.append((path, status, leaked))
    assert not served, f"files served that the app never meant to: {served}"
    assert 200 not in statuses.values(), statuses           # refused outright (403/404), not an empty 200
    # the app itself still answers (these are refusals, not a dead server)
    assert get(server.port, "/")[0] == 200


def test_index_is_faiss_and_json_never_pickle(make_pipeline, settings):
    make_pipeline().index()
    files = [p for p in Path(settings.index_dir).rglob("*") if p.is_file()]
    names = sorted(p.name for p in files)
    assert {"chunks.json", "manifest.json", "vectors.faiss", "CURRENT"} <= set(names), names
    assert not [n for n in names if n.endswith((".pkl", ".pickle", ".pck", ".joblib", ".npy", ".npz"))], names
    for p in files:
        head = p.read_bytes()[:2]
        assert not (len(head) == 2 and head[0] == 0x80 and head[1] <= 5), f"{p} looks like a pickle"
        if p.suffix == ".json":
            json.loads(p.read_text(encoding="utf-8"))
    chunks = json.loads(next(p for p in files if p.name == "chunks.json").read_text())
    assert chunks and {"id", "article_id", "start", "end", "text"} <= set(chunks[0])
