"""Tiny deterministic stand-ins for the model roles: they record what they were asked."""
from __future__ import annotations

import hashlib

import numpy as np

from rag.lexical import tokens


class WordOverlapEmbedder:
    """Each token hashed into one of `dim` buckets: cosine similarity ~ shared words."""

    def __init__(self, dim: int = 256, id: str = "fake-overlap"):
        self.dim, self.id = dim, id
        self.calls: list[tuple[str, int]] = []     # (side, number of texts)

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for tok in tokens(text):
            v[int(hashlib.md5(tok.encode()).hexdigest(), 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_queries(self, texts):
        self.calls.append(("query", len(texts)))
        return np.vstack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_passages(self, texts):
        self.calls.append(("passage", len(texts)))
        return np.vstack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


class ScriptedGenerator:
    """Replies from a queue (or a function of the messages); records every prompt it was given."""

    id = "scripted"
    path = "/nonexistent/scripted.gguf"
    load_note = "scripted: no weights"
    concurrent = False

    def __init__(self, replies=None, reply_fn=None):
        self.replies = list(replies or [])
        self.reply_fn = reply_fn
        self.prompts: list[list[dict]] = []
        self.firsts: list = []            # the FirstWord each stream was given
        self.no_answer_p: float | None = None      # what first_p() reports
        self._usage = (0, 0)

    def stream(self, messages, max_tokens, stop=None, first=None):
        self.prompts.append(messages)
        self.firsts.append(first)
        reply = self.reply_fn(messages) if self.reply_fn else (self.replies.pop(0) if self.replies else "NO ANSWER")
        words = reply.split(" ")
        for i, w in enumerate(words):
            yield w if i == 0 else " " + w
        self._usage = (self.count_tokens(" ".join(m["content"] for m in messages)), len(words))

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def last_usage(self):
        return self._usage

    def first_p(self):
        return self.no_answer_p
