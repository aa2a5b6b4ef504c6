"""The one pipeline the CLI, UI and benchmark call: question -> retrieve -> check the premise ->
select evidence (is any of it close to the question?) -> answer -> check the answer -> repair it
-> does it give what was asked? (-> translate) -> English spellings of names, for an English
answer (refused: with `second_look`, once more from the next-best sentences) -> Answer.

`Pipeline.stream()` yields `Event`s: "token" deltas while the answer is written, and one final
"answer" carrying the checked `Answer`. `Pipeline.ask()` runs the same and returns the Answer.
Each step is a module with a one-line contract: `rag/retrieve.py`, `rag/evidence.py`,
`rag/premise.py`, `rag/verify.py`, `rag/translate.py`, `rag/asked.py`, `rag/spelling.py`. Models
come from the settings unless fakes are passed in (tests do that).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from . import asked, evidence, lexicon, premise, spelling, translate, verify
from . import prompt as prompts
from .articles import load_articles
from .citations import cite, make_citation, marker_numbers, strip_markers
from .config import Settings
from .embedders import Embedder, get_embedder
from .errors import BadInput
from .generators import FirstWord, Generator, get_generator
from .index import Index, Notify, Progress, open_index
from .language import clean_question, detect, is_other, mixes_in_polish
from .retrieve import HybridRetriever, Retrieval, bridge_words
from .stores import Filter
from .support import GateJudge, Judge, adds_nothing
from .types import Answer, Citation, Passage, Timings, Usage


@dataclass
class Event:
    kind: str                    # "token" | "status" (what was streamed is withdrawn; text: what comes next) | "answer"
    text: str = ""
    answer: Answer | None = None


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
            self._embedder = get_embedder(self.settings.embedder, self.settings.server_timeout,
                                          self.settings.server_retries)
        return self._embedder

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            s = self.settings
            self._generator = get_generator(s.llm, s.cache_dir, s.llm_sha256, s.n_ctx, s.n_threads, s.temperature,
                                            s.state_cache_mb, s.llm_repack, s.server_timeout, s.server_retries,
                                            repeat_penalty=s.repeat_penalty, flash=s.flash_attn)
        return self._generator

    @property
    def judge(self) -> Judge:
        if self._judge is None:
            self._judge = GateJudge(self.embedder)
        return self._judge

    def models(self) -> dict:
        return {"embedder": self.embedder.id, "llm": self.generator.id, "llm_file": self.generator.path,
                "llm_load": getattr(self.generator, "load_note", "")}

    def warm(self) -> float:
        """Load the index and the models, and have llama.cpp evaluate the fixed system prompt, so
        that the first question pays only for its own passages (the chat calls this at launch, in
        the background). The seconds it took."""
        t = time.perf_counter()
        self.index()
        self.embedder.embed_queries(["?"])
        if not self.generator.concurrent:        # a server keeps its own cache
            "".join(self.generator.stream(prompts.answer_messages("?", "pl", []), 1))
        return time.perf_counter() - t

    # -- index -------------------------------------------------------------------------------------
    def index(self, rebuild: bool = False, notify: Notify | None = None, progress: Progress | None = None) -> Index:
        with self._index_lock:
            if self._index is None or rebuild:
                self._index = self._open(rebuild, notify, progress)
            return self._index

    def refresh_index(self, notify: Notify | None = None, progress: Progress | None = None) -> Index:
        """The index again, after articles were added or removed: only new or changed articles are
        embedded; a removed article's passages leave at once."""
        with self._index_lock:
            self._index = self._open(False, notify, progress)
            return self._index

    def _open(self, rebuild: bool, notify: Notify | None, progress: Progress | None) -> Index:
        s = self.settings
        return open_index(s.index_dir, load_articles(s.seeds_dir), self.embedder, s.chunk_size, s.chunk_overlap,
                          rebuild=rebuild, notify=notify, progress=progress, index_type=s.index_type, store=s.store)

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

    def ask(self, question: str, k: int | None = None, history: list[tuple[str, str]] | None = None,
            where: Filter | None = None) -> Answer:
        for event in self.stream(question, k=k, history=history, where=where):
            if event.kind == "answer":
                return event.answer
        raise RuntimeError("the pipeline ended without an answer")   # pragma: no cover

    def stream(self, question: str, k: int | None = None, history: list[tuple[str, str]] | None = None,
               where: Filter | None = None) -> Iterator[Event]:
        """The steps: retrieve -> check the premise -> select evidence (nothing close to the question:
        off-topic) -> answer -> check the answer (-> translate it, for an English question answered
        through Polish) -> refused: a second look, from sentences not shown yet -> score -> finish."""
        t0 = time.perf_counter()
        question = self.validate(question)
        k = self.validate_k(k, self.settings.k)
        language = detect(question)
        self._check_filter(where)
        retrieval_query, translation, retrieval, retrieve_ms = self.retrieve(question, language, history, where=where)
        queries = [q for q in (retrieval_query, translation) if q]
        run = _Run(question, language, retrieval_query, queries, [p.chunk.id for p in retrieval.passages],
                   Timings(retrieve_ms=retrieve_ms), t0, where=where)
        passages = run.retrieved = retrieval.passages[:k]
        if not passages:
            yield Event("answer", answer=self._finish(run, prompts.REFUSALS[language], True))
            return

        check = self.settings.check_premise and not is_other(question)     # names in other scripts cannot be matched
        gaps = self.premise_gaps(retrieval_query, translation, passages) if check else []
        apart = premise.apart(retrieval_query, passages) if check and not gaps else []
        if gaps or apart:                 # refused before any sentence is scored or token generated
            run.passages = passages
            yield Event("answer", answer=self._finish(run, premise.refusal(gaps or apart, language, together=not gaps),
                                                      True, missing=gaps or apart))
            return
        found = self._select(run, translation, language)
        run.passages = found.passages
        if premise.off_topic(question, passages, found.closeness, found.known, self.min_similarity):   # "pierogi"
            yield Event("answer", answer=self._finish(run, prompts.OFF_TOPIC[language], True))
            return

        checked = yield from self._respond(run, translation, language, found)
        again = self._select(run, translation, language, skip=found.shown) \
            if checked.refused and self.settings.second_look else None
        if again and again.passages:      # the fact may stand in a sentence that scored just below those shown
            yield Event("status", prompts.LOOKING_FURTHER[language])       # what was streamed is withdrawn
            first_p = run.no_answer_p
            second = yield from self._respond(run, translation, language, again)
            run.no_answer_p = first_p
            if not second.refused:         # refused again: the first look's refusal and its reasons stand
                checked, run.passages, run.looked_again = second, again.passages, True
        yield Event("answer", answer=self._finish(run, checked.text if not checked.refused else
                                                  prompts.REFUSALS[language], checked.refused, checked))

    def _select(self, run: "_Run", translation: str | None, language: str,
                skip: frozenset[tuple[str, int]] = frozenset()) -> evidence.Evidence:
        """The retrieved passages' sentences the prompt shows (`rag/evidence.py`), none of `skip`."""
        s = self.settings
        words = self._post_words(run.retrieval_query, language)
        queries = [*run.queries, f"{run.retrieval_query} {words}"] if words else run.queries
        return evidence.select(run.retrieved, queries, self.index(), self.embedder, self.generator.count_tokens,
                               s.prompt_budget, by_words=language != "en" or bool(translation),
                               margin=s.second_margin, antecedents=s.antecedents, follow=s.follow,
                               groups=self._word_groups(run.retrieval_query, translation) if language == "en" else None,
                               skip=skip)

    def _respond(self, run: "_Run", translation: str | None, language: str,
                 found: evidence.Evidence) -> Iterator[Event]:
        """The checked answer from `found`: written in the question's language and streamed, or for
        an English question with `english_answers = "via-polish"`, written in Polish and translated;
        an English answer's names then spelt the English way (`rag/spelling.py`)."""
        polish = self._polish_question(run.retrieval_query, translation) if language == "en" and translation and \
            self.settings.english_answers == "via-polish" else ""
        if not polish:
            checked = yield from self._answer(run, run.retrieval_query, language, found, stream=True)
        else:
            checked = yield from self._answer(run, polish, "pl", found, stream=False)
            if not checked.refused:
                checked = yield from self._translate(run, checked)
        if language == "en" and self.settings.english_names and not checked.refused:
            checked = replace(checked, text=spelling.english_names(checked.text))     # "Pieskow" -> "Peskov"
        return checked

    def premise_gaps(self, question: str, translation: str | None, passages: list[Passage]) -> list[str]:
        """The premise check's missing terms. Only the model's translation may excuse an English
        term: dictionary words (`rag/lexicon.py`) add nothing the term check lacks, and the country
        they put first ("Finlandia wysłać…") would not count as a name there."""
        return premise.gaps(question, translation if self.settings.translate_query else None, passages)

    def _polish_question(self, question: str, translation: str) -> str:
        """The English question as a Polish sentence, for answering it in Polish: the model's
        translation that retrieval used, or a new one when retrieval had dictionary words (a list of
        words is no question to answer) or bridge words added to it."""
        if self.settings.translate_query and not self.settings.bridge_words:
            return translation
        return self._complete(translate.question_messages(question), 64)

    def _word_groups(self, question: str, translation: str | None) -> list[str] | None:
        """An English question's Polish words grouped by the English word they render, when they
        came from the dictionary (words added to them, such as bridge words, each alone)."""
        if not translation or self.settings.translate_query or not self.settings.query_lexicon:
            return None
        groups = lexicon.polish_groups(question)
        given = {w for g in groups for w in g.split()}
        return groups + [w for w in translation.split() if w not in given]

    @property
    def min_similarity(self) -> float:
        """The closeness below which a question is off the articles' topic (0: never)."""
        value = self.settings.min_similarity
        return getattr(self.embedder, "min_similarity", 0.0) if value < 0 else value

    def _check_filter(self, where: Filter | None) -> None:
        """A filter naming an article the collection does not hold is a mistake, not an empty search."""
        if where is None or where.article_ids is None:
            return
        unknown = sorted(where.article_ids - set(self.index().manifest["articles"]))
        if unknown:
            raise BadInput(f"no article {', '.join(unknown)} in the collection: an id is a file name in "
                           f"{self.settings.seeds_dir} without .txt (the chat's Articles panel lists them)")

    # -- steps ---------------------------------------------------------------------------------------
    def _answer(self, run: "_Run", question: str, language: str, found: evidence.Evidence,
                stream: bool) -> Iterator[Event]:
        """Generate an answer in `language` from the evidence (streamed as tokens when `stream`),
        check it (`rag/verify.py`), repair what the check cannot (`_repair`), and refuse it when it
        lacks the number, time, name or post the question asks for (`rag/asked.py`)."""
        messages = prompts.answer_messages(question, language, found.passages, self.settings.prompt_dates)
        raw = []
        # the model's NO ANSWER counts only when it is sure enough of it (setting no_answer_min_p)
        first = FirstWord(prompts.NO_ANSWER, self.settings.no_answer_min_p)
        for delta in self.generator.stream(messages, self.settings.max_tokens, first=first):
            run.first_token(stream)
            raw.append(delta)
            if stream:
                yield Event("token", delta)
        prompt_tokens, completion_tokens = self.generator.last_usage()      # summed over a second look
        run.usage = Usage(run.usage.prompt_tokens + prompt_tokens, run.usage.completion_tokens + completion_tokens)
        run.no_answer_p = self.generator.first_p()
        text = "".join(raw).strip()
        if not self.settings.verify_citations:
            text, citations = cite(text, found.passages)
            return verify.Checked(text, citations, not text, support=1.0, kept=1)
        checked = verify.check(text, found.passages, self.judge, question, retrieved=run.retrieved)
        if self.settings.llm_judge and not checked.refused:
            if self._llm_verdict(messages, text) == "no":
                checked = replace(checked, refused=True, dropped=[*checked.dropped, "the model judged its answer unsupported"])
        if checked.refused:
            return checked
        checked = yield from self._repair(run, checked, question, language, found, stream)
        # the Polish words an English question's numbers are looked for with (None: it has none)
        words = run.queries[1] if len(run.queries) > 1 else None if language == "en" else ""
        why = "" if checked.refused else asked.shortfall(question, checked.text, [c.quote for c in checked.citations],
                                                          words)        # a nearby fact: "how many?" with no number…
        if why:
            checked = replace(checked, refused=True, dropped=[*checked.dropped, f"{checked.text} ({why})"])
        return checked

    def _repair(self, run: "_Run", checked: "verify.Checked", question: str, language: str,
                found: evidence.Evidence, stream: bool) -> Iterator[Event]:
        """A checked answer that only restates the question becomes the prompt's best sentences
        (quoted for Polish; translated, with their markers, for English), unless the question asks
        how many, when or who: then it is refused, since the best sentences would offer a nearby
        number, time or name. An English answer with Polish words in it is translated."""
        english = language == "en" and stream          # answered in English, not through Polish
        if self.settings.extractive_fallback and adds_nothing(checked.text, " ".join([question, *run.queries])):
            kind = asked.asks(question)
            if kind:           # the model found no number, time or name to give: best sentences would guess one
                return replace(checked, refused=True,
                               dropped=[*checked.dropped, f"{checked.text} (restates the question; no {kind} given)"])
            if language == "pl":
                checked.text, checked.citations = self._extract(found.passages, found.best)
            elif english:
                checked.text, checked.citations = self._extract(found.passages, found.best, quoted=False)
                return (yield from self._translate(run, checked))
        if english and mixes_in_polish(strip_markers(checked.text)):
            return (yield from self._translate(run, checked))    # "rosyjscy and północnokoreańscy soldiers"
        return checked

    def _llm_verdict(self, messages: list[dict], answer: str) -> str:
        """The model as a yes/no judge of its own answer, one token; the conversation so far is the
        prefix llama.cpp still holds, so only the question is evaluated."""
        reply = "".join(self.generator.stream([*messages, {"role": "assistant", "content": answer},
                                               {"role": "user", "content": prompts.JUDGE_QUESTION}], 1))
        return "no" if reply.strip().lower().startswith(("no", "nie")) else "yes"

    def _translate(self, run: "_Run", checked: "verify.Checked") -> Iterator[Event]:
        """Stream the English translation of a checked Polish answer. Its sentences whose numbers or
        months the Polish lacks are dropped (nothing left: a refusal); citations stay as checked."""
        out = []
        for delta in translate.stream_answer(self.generator, checked.text, self.settings.max_tokens):
            run.first_token(True)
            out.append(delta)
            yield Event("token", delta)
        english = translate.keep_markers("".join(out).strip(), checked.text)
        english, lost = translate.faithful(english, checked.text)
        run.polish = checked.text
        kept = set(marker_numbers(english))
        return replace(checked, text=english, refused=not english, dropped=[*checked.dropped, *lost],
                       citations=[c for c in checked.citations if c.marker in kept])

    def retrieve(self, question: str, language: str, history: list[tuple[str, str]] | None = None,
                 depth: int = 10, where: Filter | None = None) -> tuple[str, str | None, "Retrieval", float]:
        """(standalone question, Polish search words or None, top-`depth` retrieval, retrieval ms).
        A follow-up is rewritten with the conversation. An English question gets Polish words: by
        dictionary (`rag/lexicon.py`, the default), or the model's translation (`translate_query`),
        and the articles' words closest to its words may be added (`bridge_words`); BM25 and the
        prompt's sentence choice use those Polish words."""
        index = self.index()
        retrieval_query = question
        if history:
            retrieval_query = self._complete(prompts.rewrite_messages(question, history), 64) or question
        translation = None
        if language == "en" and not is_other(question):
            if self.settings.translate_query:
                translation = self._complete(translate.question_messages(retrieval_query), 64) or None
            elif self.settings.query_lexicon:
                translation = lexicon.polish_words(retrieval_query) or None
        t = time.perf_counter()
        if language == "en" and self.settings.bridge_words > 0 and not is_other(question):
            bridged = bridge_words(retrieval_query, index, self.embedder, self.settings.bridge_words,
                                   self.settings.bridge_similarity)
            translation = " ".join([translation or "", *bridged]).strip() or None
        retrieval = HybridRetriever(index, self.embedder, self.settings.candidates, self.settings.rrf_k,
                                    self.settings.fusion).retrieve(retrieval_query, max(depth, self.settings.k),
                                                                   language, translation, where=where,
                                                                   words=self._post_words(retrieval_query, language))
        return retrieval_query, translation, retrieval, (time.perf_counter() - t) * 1000

    @staticmethod
    def _post_words(question: str, language: str) -> str:
        """Search words for a Polish question that asks who leads something: the post its verb
        stands for ("Kto kieruje HUR?" -> "szef", met by "Szef HUR, generał Kyryło Budanow");
        English questions get theirs from the dictionary ("heads" -> "szef…")."""
        return asked.post_words(question) if language != "en" else ""

    def _complete(self, messages: list[dict], max_tokens: int) -> str:
        """A short non-streamed completion (query rewriting and translation): first line only."""
        out = "".join(self.generator.stream(messages, max_tokens)).strip()
        return out.splitlines()[0].strip(" \"'„”") if out else ""

    @staticmethod
    def _extract(passages: list[Passage], best: list[tuple[int, int, int]], count: int = 2,
                 quoted: bool = True) -> tuple[str, list[Citation]]:
        """The extractive fallback: the best `count` sentences of the prompt with citations, in
        place of an answer that only restated the question: quoted for a Polish question, plain
        for an English one (they are translated next)."""
        chosen = sorted(best[:count], key=lambda b: (b[0], b[1]))
        parts, citations = [], []
        for n, s, e in chosen:
            p = passages[n - 1]
            sentence = p.chunk.text[s:e].strip()
            parts.append(f"„{sentence}” [{n}]" if quoted else f"{' '.join(sentence.split()).rstrip('.!?')} [{n}].")
            citations.append(make_citation(n, p, p.chunk.text[s:e], span=(s, e)))
        return " ".join(parts), citations

    def _finish(self, run: "_Run", text: str, refused: bool, checked: "verify.Checked | None" = None,
                missing: list[str] | None = None) -> Answer:
        run.timings.total_ms = (time.perf_counter() - run.t0) * 1000
        if not run.timings.ttft_ms:
            run.timings.ttft_ms = run.timings.total_ms
        score = 0.0 if refused or checked is None else checked.support * checked.kept / (checked.kept + len(checked.dropped))
        if not refused and score < self.settings.refusal_threshold:
            text, refused = prompts.REFUSALS[run.language], True
        citations = [] if refused or checked is None else checked.citations
        scope = run.where.scope([c.date for c in citations], run.language) if run.where else ""
        return Answer(question=run.question, language=run.language, answer=text, refused=refused,
                      citations=citations, scope=scope,
                      passages=run.passages, timings=run.timings, usage=run.usage, models=self.models(),
                      retrieval_query=run.retrieval_query if run.retrieval_query != run.question else None,
                      translation=run.queries[1] if len(run.queries) > 1 else None, ranking=list(run.ranking),
                      evidence_score=score, missing=missing or [],
                      dropped=checked.dropped if checked else [], polish=run.polish, no_answer_p=run.no_answer_p,
                      looked_again=run.looked_again)


@dataclass
class _Run:
    """What one question's steps share: the question, timings, and what the steps found."""
    question: str
    language: str
    retrieval_query: str
    queries: list[str]
    ranking: list[str]
    timings: Timings
    t0: float
    passages: list[Passage] = field(default_factory=list)       # the prompt's
    retrieved: list[Passage] = field(default_factory=list)      # the top k the premise check searched
    usage: Usage = field(default_factory=Usage)
    polish: str | None = None
    where: Filter | None = None
    no_answer_p: float | None = None        # how likely the model's first token was NO ANSWER's
    looked_again: bool = False              # answered from the second look's sentences

    def first_token(self, shown: bool) -> None:
        if shown and not self.timings.ttft_ms:
            self.timings.ttft_ms = (time.perf_counter() - self.t0) * 1000
