"""The generator role: chat messages -> streamed text, plus token counting for the prompt budget.

Two backends, chosen by the `llm` setting alone:
- in process (a bundled name, a GGUF path or a hub file): llama-cpp-python formats messages with
  the model's own chat template, loads the GGUF lazily once per process, and serializes calls with
  a lock (a llama.cpp context is not thread-safe). Keeping the system message identical across
  questions lets llama.cpp reuse its KV cache for that prefix.
- on a server (`openai:http://host:port/v1#model`): any OpenAI-compatible server streams the answer
  over server-sent events; calls run concurrently and the server batches them (rag/openai_api.py).
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from .errors import ModelError
from .hardware import LoadPlan, plan_load, this_cpu
from .openai_api import ServerClient, is_server_spec


@dataclass(frozen=True)
class FirstWord:
    """A reply's first word that counts only when the model is sure of it: when the first token of
    `word`, as the reply's first token, is less likely than `min_p`, the next-best start is taken
    instead. Its probability is measured either way (llama.cpp in process; a server ignores both)."""
    word: str
    min_p: float = 0.0


@runtime_checkable
class Generator(Protocol):
    id: str          # the spec it was made from
    path: str        # the model file in use ("" for fakes)
    load_note: str   # how the weights are loaded here, for the answer's models block ("" for fakes)

    def stream(self, messages: list[dict], max_tokens: int, stop: list[str] | None = None,
               first: FirstWord | None = None) -> Iterator[str]: ...

    def first_p(self) -> float | None: ...    # the last stream's `first.word` probability (None: not measured)

    def count_tokens(self, text: str) -> int: ...

    def last_usage(self) -> tuple[int, int]: ...       # (prompt tokens, completion tokens) of this thread's last stream

    concurrent: bool  # True when several streams may run at once (a server); False: one at a time


def physical_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:     # pragma: no cover - not Linux
        return os.cpu_count() or 1


# llama-cpp-python builds its model parameters from llama_model_default_params() inside
# Llama.__init__ and takes no argument for use_extra_bufts: the load swaps that function for one
# with the plan's value, under a lock, since the swap is visible to the whole process.
_PARAMS_LOCK = threading.Lock()


@contextlib.contextmanager
def _model_params(repack: bool):
    import llama_cpp.llama_cpp as native

    original = native.llama_model_default_params
    if not hasattr(original(), "use_extra_bufts"):     # an older llama-cpp-python: its own default
        yield False
        return

    def with_plan():
        params = original()
        params.use_extra_bufts = repack
        return params

    with _PARAMS_LOCK:
        native.llama_model_default_params = with_plan
        try:
            yield True
        finally:
            native.llama_model_default_params = original


class LlamaCppGenerator:
    def __init__(self, path: Path, spec: str, n_ctx: int = 4096, n_threads: int = 0, temperature: float = 0.0,
                 state_cache_mb: int = 256, plan: LoadPlan | None = None, repeat_penalty: float = 1.05):
        self.path = str(path)
        # weight repacking (llama.cpp's extra buffer types): off where it is known to crash, see rag/hardware.py
        self.plan = plan or plan_load("auto", this_cpu())
        self.load_note = f"repack {self.plan.reason}"
        self.state_cache_mb = state_cache_mb
        self.id = spec
        self.concurrent = False
        self.n_ctx = n_ctx
        self.n_threads = n_threads or physical_cores()
        self.temperature = temperature
        self.repeat_penalty = repeat_penalty
        self._first_p: float | None = None
        self._llm = None
        self._usage = (0, 0)
        self._load_lock = threading.Lock()
        # held for the whole of a stream. A plain Lock, not an RLock: a server may close a stream
        # (Stop button) from another thread than the one that started it, and only a Lock may be
        # released by any thread.
        self._run_lock = threading.Lock()

    @property
    def llm(self):
        with self._load_lock:
            if self._llm is None:
                try:
                    from llama_cpp import Llama
                except ImportError:
                    raise ModelError("llama-cpp-python is not installed: pip install llama-cpp-python") from None
                try:
                    with _model_params(self.plan.repack) as applied:
                        llm = Llama(model_path=self.path, n_ctx=self.n_ctx, n_threads=self.n_threads,
                                    n_threads_batch=self.n_threads, n_batch=512, flash_attn=self.plan.flash_attn,
                                    verbose=False)
                    if not applied:
                        self.load_note = ("repack: llama-cpp-python's default (it has no use_extra_bufts switch); "
                                          f"flash attention {'on' if self.plan.flash_attn else 'off'}")
                except Exception as exc:
                    raise ModelError(f"cannot load {self.path} ({exc}): the file may be damaged; "
                                     "delete it so it is joined or downloaded again") from None
                if self.state_cache_mb:
                    # llama.cpp keeps one sequence in context: a query-translation call evicts the
                    # answer prompt's system prefix. Saved states bring the longest matching prefix back.
                    llm.set_cache(_state_cache(self.state_cache_mb << 20))
                self._llm = llm
        return self._llm

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def last_usage(self) -> tuple[int, int]:
        return self._usage

    def first_p(self) -> float | None:
        return self._first_p

    def stream(self, messages, max_tokens, stop=None, first=None):
        llm = self.llm
        with self._run_lock:
            completion, self._first_p = 0, None
            chunks = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, stream=True,
                                                temperature=self.temperature, top_k=1 if self.temperature == 0 else 40,
                                                stop=stop or [], repeat_penalty=self.repeat_penalty,
                                                logits_processor=self._first_word(first) if first else None)
            try:
                for chunk in chunks:
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        completion += 1
                        yield delta
            finally:
                # llama.cpp's context now holds exactly the prompt plus what was generated
                self._usage = (max(llm.n_tokens - completion, 0), completion)

    def _first_word(self, first: FirstWord):
        """A logits processor for the reply's first token only: it measures the probability of
        `first.word`'s first token and, under `first.min_p`, rules that token out."""
        import numpy as np
        from llama_cpp import LogitsProcessorList

        token = self.llm.tokenize(first.word.encode("utf-8"), add_bos=False, special=False)[0]
        seen = False

        def processor(input_ids, logits):
            nonlocal seen
            if not seen:
                seen = True
                x = logits.astype(np.float64)
                p = np.exp(x - x.max())
                self._first_p = float(p[token] / p.sum())
                if self._first_p < first.min_p:
                    logits[token] = -1e30
            return logits

        return LogitsProcessorList([processor])


def _state_cache(capacity_bytes: int):
    """llama-cpp-python's LlamaRAMCache, holding what its capacity says.

    Each saved state carries a copy of the whole logits buffer (n_batch x vocabulary floats, about
    300 MB for Qwen2.5) that LlamaRAMCache leaves out of its size: a "256 MB" cache grew past 8 GB.
    A restored state always has its last prompt token decoded again before sampling
    (`_requires_eval`), so those logits are never read: one row is kept (it broadcasts back on
    load_state), and the size counts everything held.
    """
    from llama_cpp import LlamaRAMCache

    class TrimmedRAMCache(LlamaRAMCache):
        @property
        def cache_size(self):
            return sum(s.llama_state_size + s.scores.nbytes for s in self.cache_state.values())

        def __setitem__(self, key, value):
            value.scores = value.scores[-1:].copy()
            super().__setitem__(key, value)

    return TrimmedRAMCache(capacity_bytes=capacity_bytes)


class OpenAIGenerator:
    """A model on an OpenAI-compatible server: `/chat/completions` streamed over server-sent events.

    Token counts for the prompt budget come from the server's tokenizer where it has an endpoint
    for it (llama-cpp-python: `/extras/tokenize`; llama.cpp and vLLM: `/tokenize`); a server
    without one (Ollama, OpenAI itself) gets an estimate of one token per 3 characters, which
    over-counts Polish text slightly, so the prompt stays within the budget. `load_note` says which.
    Usage comes from the stream's final `usage` object where the server sends one; otherwise the
    prompt is counted as above and the completion is the number of streamed pieces.
    """

    concurrent = True
    CHARS_PER_TOKEN = 3

    def __init__(self, spec: str, temperature: float = 0.0, timeout: float = 60.0, retries: int = 3):
        self.id = spec
        self.client = ServerClient(spec, "LLM", ("RAG_LLM_API_KEY",), timeout=timeout, retries=retries)
        self.path = self.client.url
        self.temperature = temperature
        self._tokenizer: tuple[str, str] | None = None     # (path, body key) that worked, or ("", "") for none
        self._counts: dict[str, int] = {}
        self._local = threading.local()

    @property
    def load_note(self) -> str:
        if self._tokenizer is None:
            how = "not counted yet"
        elif self._tokenizer[0]:
            how = f"the server's {self._tokenizer[0]}"
        else:
            how = f"estimated, 1 per {self.CHARS_PER_TOKEN} characters (the server has no tokenize endpoint)"
        return f"server {self.client.url}, model {self.client.model or '(first listed)'}; token counts: {how}"

    def last_usage(self) -> tuple[int, int]:
        return getattr(self._local, "usage", (0, 0))

    def first_p(self) -> float | None:
        return None              # not measured: a server's logits stay on the server

    def count_tokens(self, text: str) -> int:
        if text not in self._counts:
            if len(self._counts) > 50_000:
                self._counts.clear()
            self._counts[text] = self._count(text)
        return self._counts[text]

    def _count(self, text: str) -> int:
        root = self.client.url.removesuffix("/v1")
        if self._tokenizer is None:
            for path, key in (("/extras/tokenize", "input"), ("/tokenize", "content")):
                try:
                    n = self._tokenize(root + path, key, text)
                except ModelError:
                    continue
                self._tokenizer = (path, key)
                return n
            self._tokenizer = ("", "")
        path, key = self._tokenizer
        if not path:
            return -(-len(text) // self.CHARS_PER_TOKEN)
        return self._tokenize(root + path, key, text)

    def _tokenize(self, url: str, key: str, text: str) -> int:
        body = {key: text, "prompt": text, "model": self.client.resolve_model(), "add_special_tokens": False}
        try:
            response = self.client._http.post(url, json=body)
        except Exception:
            raise ModelError(f"cannot reach {url}") from None
        if response.status_code >= 400:
            raise ModelError(f"{url} answered HTTP {response.status_code}")
        data = response.json()
        if isinstance(data.get("count"), int):
            return data["count"]
        if isinstance(data.get("tokens"), list):
            return len(data["tokens"])
        raise ModelError(f"{url} answered without tokens")

    def stream(self, messages, max_tokens, stop=None, first=None):     # `first` is not applied (FirstWord)
        body = {"model": self.client.resolve_model(), "messages": messages, "max_tokens": max_tokens,
                "temperature": self.temperature, "stream": True, "stream_options": {"include_usage": True}}
        if stop:
            body["stop"] = stop
        pieces, usage, finished = 0, None, False
        self._local.usage = (0, 0)
        for event in self.client.stream_events("/chat/completions", body):
            if event.get("usage"):
                usage = event["usage"]
            for choice in event.get("choices") or []:
                finished = finished or bool(choice.get("finish_reason"))
                delta = (choice.get("delta") or {}).get("content")
                if delta:
                    pieces += 1
                    yield delta
        if not finished:
            # a complete stream says why it ended ("stop", "length"); one cut short does not
            raise ModelError(f"the LLM server at {self.client.url} cut the answer short: llama-cpp-python's "
                             "server does that when another request arrives (start it with "
                             "--interrupt_requests false), other servers when they stop")
        if usage:
            self._local.usage = (int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
        else:
            self._local.usage = (sum(self.count_tokens(m.get("content") or "") for m in messages), pieces)


_CACHE: dict[tuple, Generator] = {}
_CACHE_LOCK = threading.Lock()


def get_generator(spec: str, cache_dir: Path, sha256: str = "", n_ctx: int = 4096, n_threads: int = 0,
                  temperature: float = 0.0, state_cache_mb: int = 256, repack: str = "auto",
                  timeout: float = 60.0, retries: int = 3, repeat_penalty: float = 1.05,
                  flash: bool = False) -> Generator:
    """The process-wide generator for a spec. In process: the model file is resolved now, loaded on
    first use; `repack` is the llm_repack setting (auto | on | off), decided for this CPU by
    `plan_load`, and `flash` the flash_attn setting. An `openai:` spec: a server client, whose model
    is checked on first use."""
    from .models import resolve_llm

    if is_server_spec(spec):
        key = (spec, temperature, timeout, retries)
        with _CACHE_LOCK:
            if key not in _CACHE:
                _CACHE[key] = OpenAIGenerator(spec, temperature=temperature, timeout=timeout, retries=retries)
            return _CACHE[key]
    plan = plan_load(repack, this_cpu(), flash)
    key = (spec, str(cache_dir), sha256, n_ctx, n_threads, temperature, state_cache_mb, plan.repack, plan.flash_attn,
           repeat_penalty)
    with _CACHE_LOCK:
        if key not in _CACHE:
            path = resolve_llm(spec, cache_dir, sha256)
            _CACHE[key] = LlamaCppGenerator(path, spec, n_ctx=n_ctx, n_threads=n_threads, temperature=temperature,
                                            state_cache_mb=state_cache_mb, plan=plan, repeat_penalty=repeat_penalty)
        return _CACHE[key]
