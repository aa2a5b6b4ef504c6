"""`rag eval`: run eval/questions.jsonl through the pipeline and score retrieval, answers and citations.

Generations are cached in eval/results/cache/<configuration>.jsonl by (question, configuration),
so re-scoring with another judge never regenerates. Every model call is also recorded by its prompt
(eval/results/cache/generations.jsonl); `--reuse-generations` answers a prompt seen before from that
record, so a change to the steps after generation, or to the prompts of a few questions, is measured
in a minute instead of a full run (its times are then not measured). Results go to eval/results/<configuration>.json
with a markdown report and a PNG plot; `--compare A B` prints two saved configurations side by side.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

from . import asked
from . import metrics as M
from .config import Settings
from .errors import BadInput

MAIN_METRICS = ["hit@5", "mrr@10", "fact_accuracy", "citation_recall", "citation_precision", "gold_citation_rate",
                "refusal_f1", "false_refusal_rate", "language_match", "polish_spelling"]


def configuration_name(s: Settings) -> str:
    def short(spec: str) -> str:
        return re.sub(r"[^A-Za-z0-9.]+", "-", Path(spec).name if "/" in spec else spec).strip("-")[:40]
    flags = ("tq" if s.translate_query else "lx" if s.query_lexicon else "") + ("v" if s.verify_citations else "") + \
        ("p" if s.check_premise else "") + ("" if s.prompt_dates else "-nodate") + ("-eq" if s.fusion == "equal" else "") + \
        ("-direct" if s.english_answers == "direct" else "") + ("-judge" if s.llm_judge else "") + \
        (f"-r{s.refusal_threshold:g}" if s.refusal_threshold else "") + \
        (f"-rp{s.repeat_penalty:g}" if s.repeat_penalty != Settings.repeat_penalty else "") + \
        (f"-n{s.no_answer_min_p:g}" if s.no_answer_min_p else "") + ("-look" if s.second_look else "") + \
        (f"-m{s.second_margin:g}" if s.second_margin else "") + (f"-a{s.antecedents}" if s.antecedents else "") + \
        ("-f" if s.follow else "") + ("" if s.english_names else "-plnames") + \
        ("-g" if s.min_similarity < 0 else f"-s{s.min_similarity:g}" if s.min_similarity > 0 else "")
    bridge = f"-w{s.bridge_words}s{s.bridge_similarity:g}" if s.bridge_words else ""
    return f"{short(s.embedder)}__{short(s.llm)}__k{s.k}-c{s.chunk_size}-o{s.chunk_overlap}-b{s.prompt_budget}" + \
        bridge + (f"-{flags}" if flags else "")


# modules whose code decides what an answer is; scoring code (metrics, this file) is left out so
# that re-scoring reuses cached generations
_GENERATING = ("articles", "asked", "chunking", "citations", "config", "embedders", "evidence", "generators", "gloss", "hardware",
               "index", "language", "lexical", "lexicon", "models", "pipeline", "premise", "prompt", "retrieve", "spelling",
               "support", "terms", "translate", "types", "verify")


def pipeline_fingerprint(seeds_dir: Path) -> str:
    """Hash of the generating code and the articles: a change to either regenerates answers."""
    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in _GENERATING:
        h.update((here / f"{name}.py").read_bytes())
    for path in sorted(Path(seeds_dir).glob("*.txt")):
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:16]


def load_items(path: Path) -> list[dict]:
    if not path.is_file():
        raise BadInput(f"no eval set at {path}")
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise BadInput(f"{path}:{n} is not valid JSON ({exc.msg})") from None
    return items


def make_judge(spec: str | None, embedder):
    from .support import NLIJudge, SimilarityJudge

    if not spec or spec == "similarity":
        return SimilarityJudge(embedder)
    return NLIJudge(spec)


def calibrate(judge, path: Path) -> dict:
    """Agreement of the judge with hand labels: {'agreement', 'n', per language, confusion}."""
    pairs = load_items(path)
    rows = [(p, judge.supports(p["sentence"], p["passage"])) for p in pairs]
    def agree(sel):
        sel = list(sel)
        return sum(p["supported"] == v for p, v in sel) / len(sel) if sel else None
    return {
        "n": len(rows), "agreement": agree(rows),
        "agreement_pl": agree(r for r in rows if r[0]["language"] == "pl"),
        "agreement_en": agree(r for r in rows if r[0]["language"] == "en"),
        "true_positive": sum(p["supported"] and v for p, v in rows),
        "false_positive": sum(not p["supported"] and v for p, v in rows),
        "false_negative": sum(p["supported"] and not v for p, v in rows),
        "true_negative": sum(not p["supported"] and not v for p, v in rows),
    }


def generate(pipeline, items: list[dict], cache_path: Path, config: str, progress=True) -> list[dict]:
    """Answer JSON per item, from the cache when the (question, configuration) was answered before.
    `config` includes the pipeline fingerprint, so changed code never reuses old answers."""
    from tqdm import tqdm

    cache: dict[str, dict] = {}
    if cache_path.exists():
        for line in cache_path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                cache[row["key"]] = row["answer"]
            except (json.JSONDecodeError, KeyError):
                continue      # a line cut by an interrupted run: it is simply generated again
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    with open(cache_path, "a", encoding="utf-8") as fh:
        for item in tqdm(items, desc="eval", unit="q", file=sys.stderr, disable=not progress):
            key = hashlib.sha256(f"{config}\0{item['question']}".encode()).hexdigest()
            if key not in cache:
                result = pipeline.ask(item["question"])
                answer = {**result.to_json(), "ranking": result.ranking, "translation": result.translation,
                          "evidence_score": result.evidence_score, "missing": result.missing,
                          "dropped": result.dropped, "polish": result.polish, "no_answer_p": result.no_answer_p,
                          "looked_again": result.looked_again}
                cache[key] = answer
                fh.write(json.dumps({"key": key, "id": item["id"], "answer": answer}, ensure_ascii=False) + "\n")
                fh.flush()
            out.append(cache[key])
    return out


class Recording:
    """The pipeline's generator, with every completed call recorded by (model, settings, prompt);
    with `reuse`, a recorded prompt gets its recorded text and token counts at once. Greedy decoding
    (temperature 0) writes the same text for the same prompt, but for a rare near tie that llama.cpp's
    cached prefix can tip; only at temperature 0 is anything reused. A final figure comes from a run
    without reuse."""

    def __init__(self, inner, path: Path, salt: str, reuse: bool = False):
        self.inner, self.file, self.salt = inner, path, salt
        self.reuse, self.reused, self.generated = reuse, 0, 0
        self._usage = (0, 0)
        self._first_p: float | None = None
        self.record: dict[str, dict] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                    self.record[row["key"]] = row
                except (json.JSONDecodeError, KeyError):
                    continue          # a line cut by an interrupted run
        path.parent.mkdir(parents=True, exist_ok=True)

    def __getattr__(self, name):                  # id, path, concurrent, count_tokens, load_note
        return getattr(self.inner, name)

    def last_usage(self) -> tuple[int, int]:
        return self._usage

    def first_p(self) -> float | None:
        return self._first_p

    def stream(self, messages, max_tokens, stop=None, first=None):
        given = [first.word, first.min_p] if first else []
        key = hashlib.sha256(json.dumps([self.salt, messages, max_tokens, stop or [], *given], ensure_ascii=False)
                             .encode()).hexdigest()
        if self.reuse and key in self.record:
            row = self.record[key]
            self.reused += 1
            self._usage, self._first_p = tuple(row["usage"]), row.get("first_p")
            if row["text"]:
                yield row["text"]
            return
        out = []
        for delta in self.inner.stream(messages, max_tokens, stop, first):
            out.append(delta)
            yield delta
        self._usage, self._first_p = self.inner.last_usage(), self.inner.first_p()   # reached once the answer was read
        self.generated += 1
        row = {"key": key, "text": "".join(out), "usage": list(self._usage), "first_p": self._first_p}
        self.record[key] = row
        with open(self.file, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def recording(pipeline, settings: Settings, path: Path, reuse: bool) -> Recording:
    """Wrap `pipeline`'s generator in a `Recording` (reuse only where decoding is greedy)."""
    generator = pipeline.generator
    salt = json.dumps([generator.id, str(generator.path), str(settings.llm_sha256), settings.n_ctx, settings.temperature,
                       settings.repeat_penalty])
    pipeline._generator = Recording(generator, path, salt, reuse and settings.temperature == 0)
    return pipeline._generator


KINDS = ("answerable", "out-of-scope", "near-topic", "false-premise")


def question_kind(item: dict) -> str:
    """answerable | out-of-scope | false-premise | near-topic (unanswerable on the articles' topic)."""
    if item["answerable"]:
        return "answerable"
    return item["type"] if item["type"] in ("out-of-scope", "false-premise") else "near-topic"


def refusal_curve(rows: list[dict], thresholds=None) -> list[dict]:
    """Refusal precision/recall (unanswerable = positive) if answers scoring under t were refused too.
    A row's score is its answer's evidence score (0 when the pipeline already refused)."""
    thresholds = thresholds or [round(0.05 * i, 2) for i in range(21)]
    out = []
    for t in thresholds:
        pairs = [(r["answerable"], r["refused"] or r.get("evidence_score", 1.0) < t) for r in rows]
        ref = M.refusal_scores(pairs)
        out.append({"threshold": t, "precision": ref["precision"], "recall": ref["recall"], "f1": ref["f1"],
                    "false_refusal_rate": ref["false_refusal_rate"]})
    return out


def score(items: list[dict], answers: list[dict], articles: dict[str, str], chunks: dict, judge) -> dict:
    """Per-item scores and the aggregates, overall and per language."""
    rows = []
    for item, ans in zip(items, answers):
        gold = M.gold_spans(item, articles)
        ranking = ans.get("ranking") or [p["chunk_id"] for p in ans["passages"]]
        ranked = [chunks[c] for c in ranking if c in chunks]
        row = {"id": item["id"], "language": item["language"], "answerable": item["answerable"],
               "kind": question_kind(item), "evidence_score": ans.get("evidence_score", 0.0),
               "two_parts": len(asked.parts(item["question"])) > 1,      # "…, and how many more…?"
               "no_answer_p": ans.get("no_answer_p"),
               # the model's own NO ANSWER: a refusal after generation that no check made
               "model_refused": ans["refused"] and ans.get("no_answer_p") is not None and not ans.get("dropped"),
               "looked_again": bool(ans.get("looked_again")),        # answered from the second look's sentences
               "refused": ans["refused"], "answer": ans["answer"],
               "ttft_ms": ans["timings"]["ttft_ms"], "total_ms": ans["timings"]["total_ms"],
               "completion_tokens": ans["usage"]["completion_tokens"],
               "prompt_tokens": ans["usage"]["prompt_tokens"],
               "language_match": M.language_match(ans["answer"], item["language"]),
               "polish_spelling": M.polish_spelling(ans["answer"], item["language"], ans["refused"])}
        if item["answerable"]:
            row.update(M.retrieval_scores(ranked, gold, len(ans["passages"])))
            # refused before a prompt was built (premise, off-topic): the model was shown nothing
            prompted = bool(ans["usage"]["prompt_tokens"])
            row["evidence_in_prompt"] = M.in_prompt(gold, [(p["article_id"], p["shown"]) for p in ans["passages"]],
                                                    articles) if prompted else 0.0
            # the key facts among the sentences the model was shown: what the answer could state at best
            row["fact_in_prompt"] = M.fact_accuracy(" ".join(p["shown"] for p in ans["passages"]),
                                                    item.get("facts", [])) if prompted else 0.0
            row["fact_accuracy"] = M.fact_accuracy(ans["answer"], item.get("facts", []))
            row["gold_citation"] = float(M.cites_gold(ans["citations"], gold, chunks))
        if not ans["refused"]:
            a = M.alce(ans["answer"], [p["text"] for p in ans["passages"]], judge.supports)
            row["citation_recall"], row["citation_precision"] = a["recall"], a["precision"]
        rows.append(row)
    by_kind = {f"{language}/{kind}": aggregate([r for r in rows if r["language"] == language and r["kind"] == kind])
               for kind in KINDS for language in ("pl", "en") if any(r["language"] == language and r["kind"] == kind
                                                                      for r in rows)}
    for language in ("pl", "en"):         # answerable questions of two parts: does the answer give both?
        both = [r for r in rows if r["language"] == language and r["kind"] == "answerable" and r["two_parts"]]
        if both:
            by_kind[f"{language}/answerable, two parts"] = aggregate(both)
    return {"overall": aggregate(rows), "pl": aggregate([r for r in rows if r["language"] == "pl"]),
            "en": aggregate([r for r in rows if r["language"] == "en"]), "by_kind": by_kind,
            "refusal_curve": refusal_curve(rows), "items": rows}


def retrieval_report(pipeline, items: list[dict], settings: Settings) -> str:
    """Retrieval metrics only (no answers generated): fast enough to compare chunking and fusion."""
    from .articles import load_articles
    from .language import detect

    index = pipeline.index(notify=lambda m: print(m, file=sys.stderr))
    articles = {a.id: a.text for a in load_articles(settings.seeds_dir)}
    rows = {"pl": [], "en": []}
    gaps: dict[tuple[str, str], list[bool]] = {}      # (language, kind) -> premise check refused?
    for item in items:
        query, translation, retrieval, _ = pipeline.retrieve(item["question"], detect(item["question"]))
        refused = bool(pipeline.premise_gaps(query, translation, retrieval.passages[:settings.k]))
        gaps.setdefault((item["language"], question_kind(item)), []).append(refused)
        if not item["answerable"]:
            continue
        ranked = [(p.chunk.article_id, p.chunk.start, p.chunk.end) for p in retrieval.passages]
        rows[item["language"]].append(M.retrieval_scores(ranked, M.gold_spans(item, articles), settings.k))
    lines = [f"Retrieval, answerable items: {configuration_name(settings)}, fusion={settings.fusion}, "
             f"{len(index.chunks)} chunks", "", "| metric | pl | en |", "|---|---|---|"]
    for key in ("hit@1", "hit@3", "hit@5", "mrr@10", "evidence_recall"):
        lines.append(f"| {key} | {_fmt(M.mean(r[key] for r in rows['pl']))} | {_fmt(M.mean(r[key] for r in rows['en']))} |")
    lines += ["", "Premise check alone (no answer generated): share of items it refuses", "",
              "| kind | pl | en |", "|---|---|---|"]
    for kind in KINDS:
        cells = [gaps.get((language, kind), []) for language in ("pl", "en")]
        lines.append(f"| {kind} | " + " | ".join(f"{sum(c) / len(c):.2f} ({sum(c)}/{len(c)})" if c else "-"
                                                   for c in cells) + " |")
    return "\n".join(lines)


def aggregate(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    gen_speed = [r["completion_tokens"] / ((r["total_ms"] - r["ttft_ms"]) / 1000)
                 for r in rows if r["completion_tokens"] > 1 and r["total_ms"] > r["ttft_ms"]]
    out = {"items": len(rows), "answerable": len(answerable)}
    for key in ("hit@1", "hit@3", "hit@5", "mrr@10", "evidence_recall", "evidence_in_prompt", "fact_in_prompt",
                "fact_accuracy"):
        out[key] = M.mean(r.get(key) for r in answerable)
    out["gold_citation_rate"] = M.mean(r.get("gold_citation") for r in answerable)
    out["citation_recall"] = M.mean(r.get("citation_recall") for r in rows)
    out["citation_precision"] = M.mean(r.get("citation_precision") for r in rows)
    ref = M.refusal_scores([(r["answerable"], r["refused"]) for r in rows])
    out.update({f"refusal_{k}" if k != "false_refusal_rate" else k: v for k, v in ref.items()})
    out["refused_share"] = M.mean(float(r["refused"]) for r in rows)
    out["language_match"] = M.mean(r["language_match"] for r in rows)
    out["polish_spelling"] = M.mean(r.get("polish_spelling") for r in rows)     # English answers only
    for key in ("ttft_ms", "total_ms", "prompt_tokens"):
        values = [r[key] for r in rows]
        out[f"{key}_p50"] = M.percentile(values, 50)
        out[f"{key}_p90"] = M.percentile(values, 90)
    out["gen_tokens_per_s_p50"] = M.percentile(gen_speed, 50)
    return out


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.0f}"
    return str(v)


def report_markdown(name: str, result: dict, plot: str | None) -> str:
    keys = [k for k in result["overall"] if k not in ("items",)]
    lines = [f"# Benchmark: {name}", "", f"Items: {result['overall']['items']} "
             f"(judge: {result['judge']}, calibration agreement {_fmt(result['calibration'].get('agreement'))})", ""]
    if result.get("reuse"):
        lines += [f"Run with `--reuse-generations` ({result.get('generations_reused', 0)} model calls answered from "
                  "the record of earlier runs): the times below are not measured.", ""]
    lines += ["| metric | all | pl | en |", "|---|---|---|---|"]
    for k in keys:
        lines.append(f"| {k} | {_fmt(result['overall'][k])} | {_fmt(result['pl'].get(k))} | {_fmt(result['en'].get(k))} |")
    kinds = result.get("by_kind", {})
    if kinds:
        cols = list(kinds)
        lines += ["", "By language and kind of question (unanswerable kinds: `refused_share` is the share refused)", "",
                  "| metric | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
        for k in ("items", "evidence_in_prompt", "fact_in_prompt", "fact_accuracy", "gold_citation_rate",
                  "citation_precision", "refused_share", "language_match", "ttft_ms_p50"):
            lines.append(f"| {k} | " + " | ".join(_fmt(kinds[c].get(k)) for c in cols) + " |")
    curve = result.get("refusal_curve")
    if curve:
        lines += ["", "Refusal if the evidence score is below t (unanswerable = positive class)", "",
                  "| t | precision | recall | F1 | false refusals |", "|---|---|---|---|---|"]
        lines += [f"| {c['threshold']:.2f} | {_fmt(c['precision'])} | {_fmt(c['recall'])} | {_fmt(c['f1'])} | "
                  f"{_fmt(c['false_refusal_rate'])} |" for c in curve]
    if plot:
        lines += ["", f"![main metrics]({plot})"]
        if curve:
            lines += ["", f"![refusal precision/recall]({Path(plot).stem}-refusal.png)"]
    return "\n".join(lines) + "\n"


def plot_metrics(name: str, result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [k for k in MAIN_METRICS]
    fig, ax = plt.subplots(figsize=(9, 3.6))
    width = 0.27
    for i, part in enumerate(("overall", "pl", "en")):
        values = [result[part].get(k) or 0.0 for k in labels]
        ax.bar([x + (i - 1) * width for x in range(len(labels))], values, width, label=part)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(name, fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    curve = result.get("refusal_curve")
    if curve:
        fig, ax = plt.subplots(figsize=(4.2, 3.6))
        ax.plot([c["recall"] for c in curve], [c["precision"] for c in curve], marker="o", markersize=3)
        for c in curve[::4]:
            ax.annotate(f"t={c['threshold']:.2f}", (c["recall"], c["precision"]), fontsize=7)
        ax.set_xlabel("refusal recall (unanswerable refused)")
        ax.set_ylabel("refusal precision")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_title("refusing below an evidence score t", fontsize=8)
        fig.tight_layout()
        fig.savefig(path.with_name(path.stem + "-refusal.png"), dpi=110)
        plt.close(fig)


def compare(out_dir: Path, a: str, b: str, limit: int | None = None) -> str:
    """Two saved results side by side; with `limit`, both re-aggregated over their first `limit`
    items (an eval set that grew is compared on the items both runs answered)."""
    def load(name):
        path = out_dir / (name if name.endswith(".json") else f"{name}.json")
        if not path.is_file():
            saved = ", ".join(p.stem for p in sorted(out_dir.glob("*.json"))) or "none"
            raise BadInput(f"no saved results for {name!r} in {out_dir} (saved: {saved})")
        return json.loads(path.read_text(encoding="utf-8"))
    ra, rb = load(a), load(b)
    if limit:
        for r in (ra, rb):
            rows = r["items"][:limit]
            r["overall"] = aggregate(rows)
            for language in ("pl", "en"):
                r[language] = aggregate([x for x in rows if x["language"] == language])
    lines = ["| metric | A | B | B - A | A pl / en | B pl / en |", "|---|---|---|---|---|---|"]
    for k in ra["overall"]:
        va, vb = ra["overall"].get(k), rb["overall"].get(k)
        delta = vb - va if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
        lines.append(f"| {k} | {_fmt(va)} | {_fmt(vb)} | {_fmt(delta)} | {_fmt(ra['pl'].get(k))} / "
                     f"{_fmt(ra['en'].get(k))} | {_fmt(rb['pl'].get(k))} / {_fmt(rb['en'].get(k))} |")
    head = f"A = {ra['configuration']}\nB = {rb['configuration']}" + (f"\n(first {limit} items)" if limit else "")
    return head + "\n\n" + "\n".join(lines)


def main(args, settings: Settings) -> int:
    from .articles import load_articles
    from .pipeline import Pipeline

    out_dir: Path = args.out
    if args.compare:
        print(compare(out_dir, *args.compare, limit=args.limit))
        return 0
    pipeline = Pipeline(settings)
    judge = make_judge(args.judge, pipeline.embedder)
    calibration_file = args.questions.parent / "judge_calibration.jsonl"
    cal = calibrate(judge, calibration_file) if calibration_file.exists() else {}
    if args.calibrate:
        print(json.dumps(cal, indent=1))
        return 0
    items = load_items(args.questions)
    if getattr(args, "language", None):
        items = [i for i in items if i["language"] == args.language]
    if args.limit:
        items = items[: args.limit]
    name = configuration_name(settings)
    if getattr(args, "retrieval_only", False):
        print(retrieval_report(pipeline, items, settings))
        return 0
    index = pipeline.index(notify=lambda m: print(m, file=sys.stderr))
    fingerprint = pipeline_fingerprint(settings.seeds_dir)
    recorder = recording(pipeline, settings, out_dir / "cache" / "generations.jsonl",
                         getattr(args, "reuse_generations", False))
    reused = "-reused" if recorder.reuse else ""       # answers with unmeasured times never stand in for measured ones
    answers = generate(pipeline, items, out_dir / "cache" / f"{name}{reused}.jsonl", f"{name}\0{fingerprint}")
    articles = {a.id: a.text for a in load_articles(settings.seeds_dir)}
    chunks = {c.id: (c.article_id, c.start, c.end) for c in index.chunks}
    result = score(items, answers, articles, chunks, judge)
    result.update({"configuration": name, "pipeline_fingerprint": fingerprint, "judge": judge.id, "calibration": cal,
                   "settings": {k: str(v) for k, v in settings.__dict__.items() if k != "profiles"},
                   "limit": args.limit, "reuse": recorder.reuse, "generations_reused": recorder.reused})
    suffix = (f"-{args.language}" if getattr(args, "language", None) else "") + (f"-limit{args.limit}" if args.limit else "") \
        + reused                                          # never in place of a measured run's files
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{name}{suffix}.json"
    json_path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    plot_path = out_dir / f"{name}{suffix}.png"
    plot_metrics(name, result, plot_path)
    md = report_markdown(name, result, plot_path.name)
    (out_dir / f"{name}{suffix}.md").write_text(md, encoding="utf-8")
    print(md)
    print(f"results: {json_path}", file=sys.stderr)
    return 0
