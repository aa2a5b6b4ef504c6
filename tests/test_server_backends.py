"""The server backends against real servers, started here on 127.0.0.1: llama-cpp-python's own
OpenAI-compatible server (`python -m llama_cpp.server`, its `server` extra) with the bundled GGUF.

The same questions as the in-process real-model tests go through it, the chat serves several
users at once over it, `rag eval --limit 10` runs through it, and the faults a user meets are
provoked for real: the server stopped in the middle of an answer (and started again), a wrong key,
an unknown model, a prompt longer than the server's context, nothing listening. A second server in
embedding mode tests the embeddings protocol (batches, order, errors), not the vectors' quality.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from rag import cli
from rag.config import Settings
from rag.embedders import OpenAIEmbedder
from rag.errors import ModelError
from rag.generators import OpenAIGenerator, get_generator
from rag.models import resolve_llm
from rag.pipeline import Pipeline

pytestmark = pytest.mark.models

HOST = "127.0.0.1"
KEY = "test-key-4f9a1c"          # must never show in an answer, a report or an error
A1 = "001_345fe1ab6c1f8ba1"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class LlamaServer:
    """`python -m llama_cpp.server` on a free port of 127.0.0.1, stopped and started by the tests."""

    def __init__(self, model: Path, log: Path, alias: str = "qwen", n_ctx: int = 4096, embedding: bool = False,
                 interrupt: bool = False):
        self.model, self.log, self.alias, self.n_ctx, self.embedding = model, log, alias, n_ctx, embedding
        self.interrupt = interrupt
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}/v1"
        self.proc: subprocess.Popen | None = None

    def spec(self, model: str | None = None) -> str:
        return f"openai:{self.url}#{self.alias if model is None else model}"

    def start(self, timeout: float = 180.0) -> None:
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", self.alias,
                   "--n_ctx", str(self.n_ctx), "--host", HOST, "--port", str(self.port), "--api_key", KEY,
                   "--n_threads", str(len(os.sched_getaffinity(0))),
                   # queue concurrent requests; by default this server cuts the running answer short
                   "--interrupt_requests", str(self.interrupt).lower()]
        if self.embedding:
            command += ["--embedding", "true"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}): {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/models", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"the server did not start within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def gguf(tmp_path_factory) -> Path:
    return resolve_llm("qwen2.5-coder-1.5b", Settings().cache_dir)


@pytest.fixture(scope="module")
def llm_server(gguf, tmp_path_factory):
    server = LlamaServer(gguf, tmp_path_factory.mktemp("server") / "llm.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("RAG_LLM_API_KEY", KEY)
    monkeypatch.delenv("RAG_EMBEDDER_API_KEY", raising=False)


@pytest.fixture(scope="module")
def served(llm_server, tmp_path_factory):
    """The pipeline with the bundled embedder in process and the LLM on the server."""
    root = tmp_path_factory.mktemp("served")
    shutil.copytree(ROOT / "seeds", root / "seeds")
    settings = Settings(seeds_dir=root / "seeds", index_dir=root / "index", llm=llm_server.spec())
    pipeline = Pipeline(settings)
    pipeline.index()
    return pipeline


def test_answer_streams_over_the_server_and_cites_real_spans(served):
    events = list(served.stream("Ilu północnokoreańskich pracowników Rosja planuje zatrudnić w Tatarstanie?"))
    tokens = [e for e in events if e.kind == "token"]
    answer = events[-1].answer
    assert len(tokens) > 3, "the answer should arrive piece by piece, as the server streams it"
    assert not answer.refused and "12" in answer.answer
    assert {c.article_id for c in answer.citations} == {A1}
    text = (served.settings.seeds_dir / f"{A1}.txt").read_text(encoding="utf-8")
    assert all(text[c.start:c.end] == c.quote for c in answer.citations)
    assert answer.usage.prompt_tokens > 100 and answer.usage.completion_tokens > 3
    assert answer.models["llm_file"] == served.generator.client.url
    assert "/extras/tokenize" in answer.models["llm_load"]          # the server's own token counts
    assert KEY not in json.dumps(answer.to_json())


def test_english_question_over_the_server_through_the_cli(served, capsys, monkeypatch):
    # the query translation goes through the same server
    monkeypatch.setattr(cli, "_pipeline", lambda args: served)
    assert cli.main(["ask", "--json", "How many North Korean workers does Russia plan to hire in Tatarstan?"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["language"] == "en" and not out["refused"] and "12" in out["answer"]
    assert any(c["article_id"] == A1 for c in out["citations"])


def test_prompt_budget_counts_with_the_servers_tokenizer(served):
    local = get_generator("qwen2.5-coder-1.5b", served.settings.cache_dir)
    text = "Północnokoreańscy żołnierze walczą w obwodzie kurskim."
    assert served.generator.count_tokens(text) == local.count_tokens(text)


def test_eval_runs_through_the_server(served, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_SEEDS_DIR", str(served.settings.seeds_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(served.settings.index_dir))
    monkeypatch.setenv("RAG_LLM", served.settings.llm)
    assert cli.main(["eval", "--limit", "10", "--questions", str(ROOT / "eval" / "questions.jsonl"),
                     "--out", str(tmp_path)]) == 0
    [result] = tmp_path.glob("*-limit10.json")
    data = json.loads(result.read_text())
    assert data["overall"]["items"] == 10
    assert KEY not in result.read_text()


def test_doctor_checks_the_server(served, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_settings", lambda args: served.settings)
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "one token in" in out and served.generator.client.url in out and KEY not in out


# -- several users at once ----------------------------------------------------------------------------

def test_chat_answers_several_users_at_once_over_the_server(served):
    """Through the chat app (gradio's queue, its `/chat` API) with chat_concurrency=2: two questions
    are in flight at the server at once, and each caller gets the answer to its own question."""
    from gradio_client import Client

    from ui.app import answer_slots, create_app

    settings = Settings(**{**served.settings.__dict__, "chat_concurrency": 2})
    assert answer_slots(settings) == 2
    generator = served.generator
    running, most = [0], [0]
    lock = threading.Lock()
    original = generator.stream
    # the first stream waits (at most a minute) for the second: with two answer slots both arrive,
    # however short the first answer; a chat that answered one at a time would keep `most` at 1
    both = threading.Barrier(2, timeout=60)

    def counting(messages, max_tokens, stop=None, first=None):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                both.wait()
            yield from original(messages, max_tokens, stop, first)
        finally:
            with lock:
                running[0] -= 1

    generator.stream = counting
    app = create_app(settings, pipeline_factory=lambda s: served)
    port = free_port()
    app.queue().launch(server_name=HOST, server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        questions = {"Ilu pracowników z Korei Północnej Rosja chce zatrudnić w Tatarstanie?": "12",
                     "Gdzie produkowane są drony Shahed w Rosji?": "Ałabu"}
        clients = [Client(f"http://{HOST}:{port}/", verbose=False) for _ in questions]
        jobs = {q: c.submit(q, api_name="/chat") for q, c in zip(questions, clients)}
        results = {q: job.result(timeout=300) for q, job in jobs.items()}
    finally:
        generator.stream = original
        app.close()
    assert most[0] == 2, "the two questions should be at the server at the same time"
    for q, expected in questions.items():
        assert results[q]["question"] == q and expected in results[q]["answer"]


def test_in_process_model_keeps_one_answer_at_a_time():
    from ui.app import answer_slots

    assert answer_slots(Settings(chat_concurrency=4)) == 1
    assert answer_slots(Settings(chat_concurrency=4, llm="openai:http://127.0.0.1:1/v1#m",
                                 profiles={"small": {"llm": "qwen2.5-coder-0.5b"}})) == 1
    assert answer_slots(Settings(chat_concurrency=4, llm="openai:http://127.0.0.1:1/v1#m")) == 4


# -- the faults a user meets ------------------------------------------------------------------------------

def test_server_stopped_mid_answer_ends_the_answer_with_a_readable_error_then_recovers(gguf, tmp_path, served):
    """The chat's turn ends with one line saying what happened; once the server is back, the next
    question is answered (nothing in the client stays broken)."""
    from ui.app import Chat, Turn

    server = LlamaServer(gguf, tmp_path / "llm.log")
    server.start()
    try:
        settings = Settings(**{**served.settings.__dict__, "llm": server.spec(), "server_retries": 1,
                               "max_tokens": 400})
        pipeline = Pipeline(settings, embedder=served.embedder)
        pipeline.index()
        chat = Chat(settings, pipeline_factory=lambda s: pipeline)
        turns: list[Turn] = []
        chat.ask("Opisz szczegółowo współpracę wojskową Korei Północnej z Rosją.", turns)
        stopped = False
        for _ in chat.answer_next(None, None, turns):
            writing = "streaming" in turns[0].html and "<i>" not in turns[0].html   # model text, not a status line
            if not stopped and writing and len(turns[0].html) > 80:
                server.stop()                       # killed while it writes
                stopped = True
        assert stopped, "the answer should have started streaming before the server was stopped"
        assert turns[0].status == "done" and "rag-error" in turns[0].html
        assert "middle of the answer" in turns[0].html or "closed the connection" in turns[0].html
        assert KEY not in turns[0].html

        server.start()
        turns.clear()
        chat.ask("Ilu pracowników z Korei Północnej Rosja chce zatrudnić w Tatarstanie?", turns)
        answers = [a for a in chat.answer_next(None, None, turns) if a is not None]
        assert answers and not answers[0].refused and "12" in answers[0].answer
    finally:
        server.stop()


def test_an_answer_cut_short_by_the_server_is_an_error_not_a_short_answer(gguf, tmp_path):
    """llama-cpp-python's server, started with its defaults, ends a running stream when another
    request arrives, with [DONE] and no finish reason: that must not pass for a (short) answer."""
    server = LlamaServer(gguf, tmp_path / "llm.log", interrupt=True)
    server.start()
    try:
        generator = OpenAIGenerator(server.spec())
        errors, started = [], threading.Event()

        def long_answer():
            try:
                for _ in generator.stream([{"role": "user", "content": "Count from 1 to 50, one per line."}], 200):
                    started.set()
            except ModelError as exc:
                errors.append(str(exc))
            finally:
                started.set()

        first = threading.Thread(target=long_answer)
        first.start()
        assert started.wait(120)
        "".join(generator.stream([{"role": "user", "content": "Say OK."}], 2))
        first.join(120)
        assert errors and "cut the answer short" in errors[0] and "--interrupt_requests false" in errors[0]
    finally:
        server.stop()


def test_wrong_key_is_one_line_naming_the_setting(llm_server, served, monkeypatch, capsys):
    from rag import generators

    monkeypatch.setattr(generators, "_CACHE", {})        # a fresh process: the key is read when the client is made
    monkeypatch.setenv("RAG_LLM_API_KEY", "not-the-key")
    monkeypatch.setenv("RAG_SEEDS_DIR", str(served.settings.seeds_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(served.settings.index_dir))
    assert cli.main(["ask", "--llm", llm_server.spec(), "Kto jest szefem HUR?"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "refused the API key" in err and "RAG_LLM_API_KEY" in err
    assert "not-the-key" not in err


def test_unknown_model_names_what_the_server_serves(llm_server):
    generator = OpenAIGenerator(llm_server.spec("qwen-7b"))
    with pytest.raises(ModelError, match=r"no model 'qwen-7b' \(it serves: qwen\)"):
        list(generator.stream([{"role": "user", "content": "Hej"}], 1))


def test_prompt_longer_than_the_servers_context_says_what_to_lower(llm_server):
    generator = OpenAIGenerator(llm_server.spec())
    with pytest.raises(ModelError, match="lower k or prompt_budget"):
        list(generator.stream([{"role": "user", "content": "słowo " * 6000}], 8))


def test_nothing_listening_is_one_line_after_the_retries():
    generator = OpenAIGenerator(f"openai:http://{HOST}:{free_port()}/v1#qwen", retries=2)
    t = time.perf_counter()
    with pytest.raises(ModelError, match=r"cannot reach the LLM server .* \(tried 3 times\): start it"):
        list(generator.stream([{"role": "user", "content": "Hej"}], 1))
    assert time.perf_counter() - t >= 0.5 + 1.0           # backoff 0.5 s, then 1 s


# -- embeddings on a server ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def embedding_server(gguf, tmp_path_factory):
    server = LlamaServer(gguf, tmp_path_factory.mktemp("embed") / "embed.log", alias="qwen-embed", n_ctx=512,
                         embedding=True)
    server.start()
    yield server
    server.stop()


def test_embeddings_come_in_batches_in_order_as_unit_vectors(embedding_server):
    # The chat model in embedding mode is a stand-in: llama-cpp-python's server returns its token
    # vectors (mean-pooled here), and a text's vectors depend on the texts before it in the same
    # request. So equal vectors are expected only for texts that open their batch: rows 0, 2, 4
    # (the last, alone in its request, within float noise).
    embedder = OpenAIEmbedder(embedding_server.spec(), batch_size=2)
    requests = []
    post = embedder.client.post_json
    embedder.client.post_json = lambda path, body: requests.append(len(body["input"])) or post(path, body)
    texts = ["Korea Północna", "Rosja", "Korea Północna", "drony Shahed", "Korea Północna"]
    vectors = embedder.embed_passages(texts)
    assert requests == [2, 2, 1]
    assert vectors.shape == (5, 1536) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.allclose(vectors[0], vectors[2], atol=1e-4) and vectors[0] @ vectors[4] > 0.995
    assert not np.allclose(vectors[0], vectors[1], atol=1e-2) and not np.allclose(vectors[1], vectors[3], atol=1e-2)
    assert embedder.id == "openai#qwen-embed"            # the model, not the address: the index survives a move
    assert embedder.embed_queries([]).shape[0] == 0


def test_embedding_server_errors_are_one_line(embedding_server, monkeypatch):
    monkeypatch.setenv("RAG_LLM_API_KEY", "wrong")
    with pytest.raises(ModelError, match="refused the API key"):
        OpenAIEmbedder(embedding_server.spec()).embed_queries(["x"])
    monkeypatch.setenv("RAG_EMBEDDER_API_KEY", KEY)      # its own key wins over the LLM's
    assert OpenAIEmbedder(embedding_server.spec()).embed_queries(["x"]).shape == (1, 1536)
    with pytest.raises(ModelError, match="no model 'e5'"):
        OpenAIEmbedder(embedding_server.spec("e5")).embed_queries(["x"])
