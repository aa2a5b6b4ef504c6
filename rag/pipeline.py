"""question -> retrieve -> prompt -> generate -> cite -> answer: the one pipeline the CLI, UI and benchmark call.

`Pipeline.stream()` yields `Event`s: "status" lines, "token" deltas while the model writes, and one
final "answer" carrying the checked `Answer`. `Pipeline.ask()` runs the same and returns the Answer.
Models come from the settings unless fakes are passed in (tests do that).
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from . import prompt as prompts
from .articles import load_articles
from .citations import answer_sentences, cite, make_citation, marker_numbers, strip_markers
from .config import Settings
from .embedders import Embedder, get_embedder
from .errors import BadInput
from .generators import Generator, get_generator
from .index import Index, Notify, Progress, open_index
from .language import clean_question, detect, is_other
from .lexical import tokens
from .retrieve import HybridRetriever, Retrieval, bridge_words
from .support import GateJudge, Judge, adds_nothing
from .types import Answer, Citation, Passage, Timings, Usage


@dataclass
class Event:
    kind: str                    # "status" | "token" | "answer"
    text: str = ""
    answer: Answer | None = None


_REFUSAL_PATTERNS = re.compile(
    r"NO[ _]ANSWER|do(es)? not (contain|answer|say|mention|provide)|no information|not (mentioned|stated)"
    r"|nie zawiera|nie odpowiada|brak (informacji|odpowiedzi)|nie (podaj|wspomina|mówi)", re.I)


class Pipeline:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, generator: Generator | None = None,
                 judge: Judge | None = None):
        self.settings = settings
        self._embedder, self._generator, self._judge = embedder, generator, judge
        self._index: Index | None = None
        self._index_lock = threading.Lock()

    # -- models, loaded on first use -------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.embedder)
        return self._embedder

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            s = self.settings
            self._generator = get_generator(s.llm, s.cache_dir, s.llm_sha256, s.n_ctx, s.n_threads, s.temperature,
                                            s.state_cache_mb, s.llm_repack)
        return self._generator

    @property
    def judge(self) -> Judge:
        if self._judge is None:
            self._judge = GateJudge(self.embedder)
        return self._judge

    def models(self) -> dict:
        return {"embedder": self.embedder.id, "llm": self.generator.id, "llm_file": self.generator.path,
                "llm_load": getattr(self.generator, "load_note", "")}

    # -- index -------------------------------------------------------------------------------------
    def index(self, rebuild: bool = False, notify: Notify | None = None, progress: Progress | None = None) -> Index:
        with self._index_lock:
            if self._index is None or rebuild:
                s = self.settings
                self._index = open_index(s.index_dir, load_articles(s.seeds_dir), self.embedder, s.chunk_size,
                                         s.chunk_overlap, rebuild=rebuild, notify=notify, progress=progress,
                                         index_type=s.index_type)
            return self._index

    # -- asking ------------------------------------------------------------------------------------
    def validate(self, question) -> str:
        if not isinstance(question, str):
            raise BadInput("the question must be text")
        if len(question) > self.settings.max_question_chars:
            raise BadInput(f"the question is too long ({len(question)} characters, at most "
                           f"{self.settings.max_question_chars}): shorten it")
        question = clean_question(question)
        if not question:
            raise BadInput("the question is empty: type a question")
        return question

    @staticmethod
    def validate_k(k, default: int | None = None, most: int = 20):
        """None means the configured k; anything else must be a whole number from 1 to `most`."""
        if k is None:
            return default
        if isinstance(k, bool) or not float(k).is_integer() or not 1 <= int(k) <= most:
            raise BadInput(f"the number of passages must be a whole number from 1 to {most}, got {k!r}")
        return int(k)

    def ask(self, question: str, k: int | None = None, history: list[tuple[str, str]] | None = None) -> Answer:
        for event in self.stream(question, k=k, history=history):
            if event.kind == "answer":
                return event.answer
        raise RuntimeError("the pipeline ended without an answer")   # pragma: no cover

    def stream(self, question: str, k: int | None = None,
               history: list[tuple[str, str]] | None = None) -> Iterator[Event]:
        t0 = time.perf_counter()
        question = self.validate(question)
        k = self.validate_k(k, self.settings.k)
        language = detect(question)
        retrieval_query, translation, retrieval, retrieve_ms = self.retrieve(question, language, history)
        queries = [q for q in (retrieval_query, translation) if q]
        ranking = [p.chunk.id for p in retrieval.passages]      # deeper than k, for retrieval metrics
        passages = retrieval.passages[:k]
        timings = Timings(retrieve_ms=retrieve_ms)

        if not passages:
            yield Event("answer", answer=self._finish(question, language, prompts.REFUSALS[language], True, [],
                                                      passages, timings, Usage(), t0, retrieval_query, queries, ranking))
            return

        passages, best = self._prune(passages, queries)
        messages = prompts.answer_messages(question, language, passages)
        raw, first = [], None
        for delta in self.generator.stream(messages, self.settings.max_tokens):
            if first is None:
                first = time.perf_counter()
                timings.ttft_ms = (first - t0) * 1000
            raw.append(delta)
            yield Event("token", delta)
        usage = Usage(*self.generator.last_usage())
        text = "".join(raw).strip()

        answer_text, citations, refused = self._check(text, language, passages, question)
        if not refused and language == "pl" and self.settings.extractive_fallback and adds_nothing(answer_text, question):
            answer_text, citations = self._extract(passages, best)
        yield Event("answer", answer=self._finish(question, language, answer_text, refused, citations, passages,
                                                  timings, usage, t0, retrieval_query, queries, ranking))

    # -- steps ---------------------------------------------------------------------------------------
    def retrieve(self, question: str, language: str, history: list[tuple[str, str]] | None = None,
                 depth: int = 10) -> tuple[str, str | None, "Retrieval", float]:
        """(standalone question, Polish search words or None, top-`depth` retrieval, retrieval ms).
        A follow-up is rewritten with the conversation. An English question is also translated,
        and the articles' words closest to its words are added (`bridge_words`); BM25 and the
        prompt's sentence choice use those Polish words."""
        index = self.index()
        retrieval_query = question
        if history:
            retrieval_query = self._complete(prompts.rewrite_messages(question, history), 64) or question
        translation = None
        if language == "en" and self.settings.translate_query and not is_other(question):
            translation = self._complete(prompts.translate_messages(retrieval_query), 64) or None
        t = time.perf_counter()
        if language == "en" and self.settings.bridge_words > 0 and not is_other(question):
            bridged = bridge_words(retrieval_query, index, self.embedder, self.settings.bridge_words,
                                   self.settings.bridge_similarity)
            translation = " ".join([translation or "", *bridged]).strip() or None
        retrieval = HybridRetriever(index, self.embedder, self.settings.candidates, self.settings.rrf_k,
                                    self.settings.fusion).retrieve(retrieval_query, max(depth, self.settings.k),
                                                                   language, translation)
        return retrieval_query, translation, retrieval, (time.perf_counter() - t) * 1000

    def _complete(self, messages: list[dict], max_tokens: int) -> str:
        """A short non-streamed completion (query rewriting and translation): first line only."""
        out = "".join(self.generator.stream(messages, max_tokens)).strip()
        return out.splitlines()[0].strip(" \"'„”") if out else ""

    def _prune(self, passages: list[Passage], queries: list[str]) -> tuple[list[Passage], list[tuple[int, int, int]]]:
        """(pruned passages, their sentences best first as (passage number, start, end) in the chunk).

        Prune passages to the sentences that matter, within the prompt budget (tokens).

        Prompt processing is most of the time to first token on a CPU, so only the best sentences
        across all retrieved passages are shown, in their original order. A sentence's score:
        cosine to the question (multilingual, so English questions work), plus the idf-weighted
        share of the question's words it holds, once with words cut to 6 characters and twice
        with words cut to 4 (short inflected stems: "szef"/"szefem"), less a little for
        lower-ranked passages. The best two sentences always go in, then the next best that fit.
        Titles and subheadings are left out. For an English question the
        words are those of its Polish translation, and only words the articles contain count.
        Passages left with no sentence are dropped and the rest renumbered. Measured: README, "Levers".
        """
        budget, count = self.settings.prompt_budget, self.generator.count_tokens
        index = self.index()
        lexical = queries[-1:] if len(queries) > 1 else queries      # the translation, when there is one
        flat, texts, headings, vectors = [], [], [], []
        for i, p in enumerate(passages):
            for s, e, heading in index.sentences[p.chunk.id]:
                flat.append((i, (s, e)))
                texts.append(p.chunk.text[s:e])
                headings.append(heading)
            vectors.append(index.sentence_vectors(p.chunk, self.embedder))
        scores = (np.vstack(vectors) @ self.embedder.embed_queries(queries).T).max(axis=1)
        for bm25, prefix, weight in ((index.bm25, 6, 1.0), (index.sentence_bm25, 4, 2.0)):
            wanted = {t: bm25.idf(t) for q in lexical for t in tokens(q, prefix) if t in bm25.postings}
            total = sum(wanted.values()) or 1.0
            for j, text in enumerate(texts):
                scores[j] += weight * sum(wanted.get(t, 0.0) for t in set(tokens(text, prefix))) / total
        for j in range(len(flat)):
            scores[j] -= 0.05 * flat[j][0]
        chosen, used = [], 0
        for j in sorted(range(len(flat)), key=lambda j: (headings[j], -scores[j])):
            if headings[j] and chosen:
                break                     # titles and subheadings carry no facts of their own
            size = count(texts[j])
            if len(chosen) < 2 or used + size <= budget:      # the best two always: one rarely says it all
                chosen.append(j)
                used += size
        pruned, number = [], {}
        for i, p in enumerate(passages):
            keep = sorted(flat[j][1] for j in chosen if flat[j][0] == i)
            if keep:
                number[i] = len(pruned) + 1
                pruned.append(replace(p, rank=number[i], text=" … ".join(p.chunk.text[s:e] for s, e in keep)))
        return pruned, [(number[flat[j][0]], *flat[j][1]) for j in chosen]

    def _check(self, text: str, language: str, passages: list[Passage],
               question: str = "") -> tuple[str, list[Citation], bool]:
        """Citations from markers; with verification on, each sentence's citations are checked
        against the passages and moved to a supporting passage or marked unsupported."""
        if not text or _REFUSAL_PATTERNS.search(text) and not marker_numbers(text):
            return prompts.REFUSALS[language], [], True
        text, citations = cite(text, passages)
        if not self.settings.verify_citations:
            return text, citations, False
        kept_sentences, checked, any_supported = [], [], False
        for sentence in answer_sentences(text):
            claim = strip_markers(sentence)
            if not claim or _REFUSAL_PATTERNS.search(claim):
                continue
            cited = [n for n in dict.fromkeys(marker_numbers(sentence)) if 1 <= n <= len(passages)]
            supported = [n for n in cited if self.judge.supports(claim, passages[n - 1].chunk.text, question)]
            if not supported:
                scored = [(self.judge.score(claim, p.chunk.text, question), p.rank) for p in passages]
                best_score, best = max(scored)
                if best_score >= getattr(self.judge, "threshold", 0.5):
                    supported = [best]
            if supported:
                any_supported = True
                numbers = supported
            else:
                numbers = cited
            marks = "".join(f"[{n}]" for n in numbers)
            kept_sentences.append(f"{claim.rstrip('.!?')} {marks}".rstrip() + (claim[-1] if claim[-1] in ".!?" else "."))
            for n in numbers:
                c = make_citation(n, passages[n - 1], claim, supported=bool(supported))
                if (c.marker, c.start) not in {(x.marker, x.start) for x in checked}:
                    checked.append(c)
        if not any_supported:
            return prompts.REFUSALS[language], [], True
        return " ".join(kept_sentences), checked, False

    @staticmethod
    def _extract(passages: list[Passage], best: list[tuple[int, int, int]], count: int = 2) -> tuple[str, list[Citation]]:
        """The extractive fallback: the best `count` sentences of the prompt, quoted with citations,
        in place of an answer that only restated the question (Polish questions: the quotes are Polish)."""
        chosen = sorted(best[:count], key=lambda b: (b[0], b[1]))
        parts, citations = [], []
        for n, s, e in chosen:
            p = passages[n - 1]
            parts.append(f"„{p.chunk.text[s:e].strip()}” [{n}]")
            citations.append(make_citation(n, p, p.chunk.text[s:e], span=(s, e)))
        return " ".join(parts), citations

    def _finish(self, question, language, text, refused, citations, passages, timings, usage, t0,
                retrieval_query, queries, ranking=()) -> Answer:
        timings.total_ms = (time.perf_counter() - t0) * 1000
        if not timings.ttft_ms:
            timings.ttft_ms = timings.total_ms
        return Answer(question=question, language=language, answer=text, refused=refused, citations=citations,
                      passages=passages, timings=timings, usage=usage, models=self.models(),
                      retrieval_query=retrieval_query if retrieval_query != question else None,
                      translation=queries[1] if len(queries) > 1 else None, ranking=list(ranking))
