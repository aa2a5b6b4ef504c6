"""The generator role: chat messages -> streamed text, plus token counting for the prompt budget.

The llama-cpp-python backend formats messages with the model's own chat template, loads the
GGUF lazily once per process, and serializes calls with a lock (a llama.cpp context is not
thread-safe). Keeping the system message identical across questions lets llama.cpp reuse its
KV cache for that prefix, so only the passages and the question are evaluated each time.
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from .errors import ModelError
from .hardware import LoadPlan, plan_load, this_cpu


@runtime_checkable
class Generator(Protocol):
    id: str          # the spec it was made from
    path: str        # the model file in use ("" for fakes)
    load_note: str   # how the weights are loaded here, for the answer's models block ("" for fakes)

    def stream(self, messages: list[dict], max_tokens: int, stop: list[str] | None = None) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...

    def last_usage(self) -> tuple[int, int]: ...       # (prompt tokens, completion tokens) of the last stream


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
                 state_cache_mb: int = 256, plan: LoadPlan | None = None):
        self.path = str(path)
        # weight repacking (llama.cpp's extra buffer types): off where it is known to crash, see rag/hardware.py
        self.plan = plan or plan_load("auto", this_cpu())
        self.load_note = f"repack {self.plan.reason}"
        self.state_cache_mb = state_cache_mb
        self.id = spec
        self.n_ctx = n_ctx
        self.n_threads = n_threads or physical_cores()
        self.temperature = temperature
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
                                    n_threads_batch=self.n_threads, n_batch=512, verbose=False)
                    if not applied:
                        self.load_note = "repack: llama-cpp-python's default (it has no use_extra_bufts switch)"
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

    def stream(self, messages, max_tokens, stop=None):
        llm = self.llm
        with self._run_lock:
            completion = 0
            chunks = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, stream=True,
                                                temperature=self.temperature, top_k=1 if self.temperature == 0 else 40,
                                                stop=stop or [], repeat_penalty=1.05)
            try:
                for chunk in chunks:
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        completion += 1
                        yield delta
            finally:
                # llama.cpp's context now holds exactly the prompt plus what was generated
                self._usage = (max(llm.n_tokens - completion, 0), completion)


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


_CACHE: dict[tuple, Generator] = {}
_CACHE_LOCK = threading.Lock()


def get_generator(spec: str, cache_dir: Path, sha256: str = "", n_ctx: int = 4096, n_threads: int = 0,
                  temperature: float = 0.0, state_cache_mb: int = 256, repack: str = "auto") -> Generator:
    """The process-wide generator for a spec; the model file is resolved now, loaded on first use.
    `repack` is the llm_repack setting (auto | on | off), decided for this CPU by `plan_load`."""
    from .models import resolve_llm

    plan = plan_load(repack, this_cpu())
    key = (spec, str(cache_dir), sha256, n_ctx, n_threads, temperature, state_cache_mb, plan.repack)
    with _CACHE_LOCK:
        if key not in _CACHE:
            path = resolve_llm(spec, cache_dir, sha256)
            _CACHE[key] = LlamaCppGenerator(path, spec, n_ctx=n_ctx, n_threads=n_threads, temperature=temperature,
                                            state_cache_mb=state_cache_mb, plan=plan)
        return _CACHE[key]
