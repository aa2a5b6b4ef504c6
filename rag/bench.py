"""`rag bench`: speed of the pipeline next to raw llama-cpp-python, and FAISS at scale.

For a fixed list of questions (the eval set's), in one process and one run:
  - model load times, index build time for the seeds (embedder load included);
  - per question: retrieval time, prompt tokens, time to first token, generation speed, total;
  - raw llama-cpp-python replaying exactly the LLM calls the pipeline made (same messages, same
    number of output tokens, same model object, same order, so KV-cache reuse is the same), giving
    the ratio end-to-end / raw and the pipeline's overhead;
  - the time-to-first-token floor: prompt tokens evaluated / measured prompt speed;
  - peak memory (max RSS).
`--scale N` also builds flat, HNSW and IVF FAISS indexes over N synthetic chunk vectors (real
chunk embeddings plus noise) and N synthetic texts for BM25, and reports build time, size per
chunk and search latency p50/p95 with recall@10 against exact search, and the same chunks in an
embedded Milvus Lite collection (written as `rag index` writes them; skipped without pymilvus).
"""
from __future__ import annotations

import json
import resource
from collections import OrderedDict
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .config import Settings
from .metrics import percentile


class RecordingGenerator:
    """Wraps a generator; remembers each call's messages and how many tokens came out."""

    def __init__(self, inner):
        self.inner = inner
        self.id, self.path, self.load_note = inner.id, inner.path, getattr(inner, "load_note", "")
        self.calls: list[tuple[list[dict], int]] = []     # (messages, tokens out)
        self.outputs: list[str] = []

    def stream(self, messages, max_tokens, stop=None, first=None):
        n, out = 0, []
        for delta in self.inner.stream(messages, max_tokens, stop, first):
            n += 1
            out.append(delta)
            yield delta
        self.calls.append((messages, n))
        self.outputs.append("".join(out))

    def count_tokens(self, text):
        return self.inner.count_tokens(text)

    def last_usage(self):
        return self.inner.last_usage()

    def first_p(self):
        return self.inner.first_p()


def _complete(llm, messages, n, on_first=None):
    for i, _ in enumerate(llm.create_chat_completion(messages=messages, max_tokens=max(n, 1), stream=True,
                                                     temperature=0.0, top_k=1, repeat_penalty=1.05)):
        if i == 1 and on_first:        # chunk 0 is the role header, chunk 1 the first text
            on_first()


class _Snapshot:
    """The model's KV state and its saved-state cache, to start the raw replay where the pipeline started."""

    def __init__(self, llm):
        self.llm = llm
        self.state = llm.save_state()
        self.cache = OrderedDict(llm.cache.cache_state) if llm.cache is not None else None

    def restore(self):
        if self.cache is not None:
            self.llm.cache.cache_state = OrderedDict(self.cache)
        self.llm.load_state(self.state)


def _raw_replay(llm, calls) -> tuple[float, float]:
    """(seconds, seconds to the first token of the last call) raw llama-cpp-python takes for the
    same calls: same messages, same number of output tokens, same model object."""
    t0 = time.perf_counter()
    first = []
    for i, (messages, n) in enumerate(calls):
        _complete(llm, messages, n, (lambda: first.append(time.perf_counter() - t0)) if i == len(calls) - 1 else None)
    return time.perf_counter() - t0, (first[0] if first else 0.0)


def prompt_speed(llm, tokens: int = 256) -> float:
    """Prompt tokens per second on a cold context (nothing cached)."""
    text = ("Korea Północna wysłała żołnierzy do Rosji. " * 64)
    toks = llm.tokenize(text.encode())[:tokens]
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(toks)
    speed = len(toks) / (time.perf_counter() - t0)
    llm.reset()
    return speed


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def summary(values: list[float]) -> dict:
    return {"p50": percentile(values, 50), "p90": percentile(values, 90)}


def bench_pipeline(settings: Settings, questions: list[str]) -> dict:
    from .embedders import get_embedder
    from .generators import get_generator
    from .pipeline import Pipeline

    out: dict = {}
    t = time.perf_counter()
    embedder = get_embedder(settings.embedder)
    embedder.embed_queries(["warm up"])
    out["embedder_load_s"] = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        s = Settings(**{**settings.__dict__, "index_dir": Path(tmp) / "index"})
        t = time.perf_counter()
        Pipeline(s, embedder=embedder).index()
        out["index_build_s"] = time.perf_counter() - t      # embedder already loaded: add embedder_load_s
    out["index_build_with_model_load_s"] = out["index_build_s"] + out["embedder_load_s"]

    t = time.perf_counter()
    generator = get_generator(settings.llm, settings.cache_dir, settings.llm_sha256, settings.n_ctx,
                              settings.n_threads, settings.temperature, settings.state_cache_mb, settings.llm_repack,
                              repeat_penalty=settings.repeat_penalty, flash=settings.flash_attn)
    generator.llm   # load now
    out["llm_load_s"] = time.perf_counter() - t
    out["prompt_tokens_per_s"] = prompt_speed(generator.llm)

    recorder = RecordingGenerator(generator)
    pipeline = Pipeline(settings, embedder=embedder, generator=recorder)
    pipeline.index()
    pipeline.ask("Rozgrzewka: kto rządzi Koreą Północną?")      # first call fills the system-prompt cache

    rows = []
    from tqdm import tqdm
    for q in tqdm(questions, desc="bench", unit="q", file=sys.stderr):
        recorder.calls.clear()
        # llama.cpp reuses cached prompt prefixes (its context, and saved states): the raw replay
        # must start from exactly the state the pipeline started from, or it would find the
        # pipeline's own prompts cached
        snapshot = _Snapshot(generator.llm)
        answer = pipeline.ask(q)
        calls = list(recorder.calls)
        after = _Snapshot(generator.llm)
        snapshot.restore()
        raw_s, raw_ttft_s = _raw_replay(generator.llm, calls)
        after.restore()                                 # the next question starts where the pipeline left off
        prompt_eval = answer.usage.prompt_tokens
        rows.append({
            "question": q, "language": answer.language, "llm_calls": len(calls),
            "retrieve_ms": answer.timings.retrieve_ms, "ttft_ms": answer.timings.ttft_ms,
            "total_ms": answer.timings.total_ms, "prompt_tokens": prompt_eval,
            "completion_tokens": answer.usage.completion_tokens,
            "gen_tokens_per_s": answer.usage.completion_tokens / max((answer.timings.total_ms - answer.timings.ttft_ms) / 1000, 1e-6),
            "raw_total_ms": raw_s * 1000, "raw_ttft_ms": raw_ttft_s * 1000,
        })
    out["questions"] = len(rows)
    for key in ("retrieve_ms", "ttft_ms", "total_ms", "prompt_tokens", "gen_tokens_per_s", "raw_total_ms", "raw_ttft_ms"):
        out[key] = summary([r[key] for r in rows])
    ratios = [r["total_ms"] / r["raw_total_ms"] for r in rows if r["raw_total_ms"] > 0]
    out["ratio_end_to_end_over_raw"] = summary(ratios)
    out["overhead_share"] = summary([1 - 1 / x for x in ratios])
    # floor with no cache at all (every prompt token evaluated), and the floor raw llama.cpp reaches
    # on the same calls from the same cached state
    out["ttft_cold_floor_ms"] = summary([r["prompt_tokens"] / out["prompt_tokens_per_s"] * 1000 for r in rows])
    out["ttft_over_raw_ttft"] = summary([r["ttft_ms"] / r["raw_ttft_ms"] for r in rows if r["raw_ttft_ms"] > 0])
    out["peak_rss_mb"] = max_rss_mb()
    out["rows"] = rows
    return out


def bench_scale(settings: Settings, n: int, queries: int = 200) -> dict:
    """FAISS index types and BM25 over n synthetic chunks."""
    import faiss

    from .articles import load_articles
    from .chunking import chunk_articles, sentence_spans
    from .embedders import get_embedder
    from .lexical import BM25

    rng = np.random.default_rng(0)
    embedder = get_embedder(settings.embedder)
    chunks = chunk_articles(load_articles(settings.seeds_dir), 400, 50)
    base = embedder.embed_passages([c.text for c in chunks])
    t = time.perf_counter()
    embedder.embed_passages([c.text for c in chunks])
    embed_rate = len(chunks) / (time.perf_counter() - t)
    # synthetic vectors: real chunk embeddings plus noise, renormalised (keeps the cluster shape)
    vecs = base[rng.integers(0, len(base), n)] + rng.normal(0, 0.35 / np.sqrt(base.shape[1]) * 4, (n, base.shape[1]))
    vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    qs = vecs[rng.integers(0, n, queries)] + rng.normal(0, 0.02, (queries, base.shape[1])).astype(np.float32)
    qs = (qs / np.linalg.norm(qs, axis=1, keepdims=True)).astype(np.float32)
    sentences = [c.text[s:e] for c in chunks for s, e in sentence_spans(c.text)]

    out = {"chunks": n, "dim": int(base.shape[1]), "embed_chunks_per_s": embed_rate,
           "embed_100k_estimate_min": n / embed_rate / 60, "types": {}}
    exact = None
    for kind in ("flat", "hnsw", "ivf"):
        t = time.perf_counter()
        if kind == "flat":
            index = faiss.IndexFlatIP(base.shape[1])
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(base.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
        else:
            nlist = max(1, int(4 * np.sqrt(n)))
            quantizer = faiss.IndexFlatIP(base.shape[1])     # kept referenced: the IVF index borrows it
            index = faiss.IndexIVFFlat(quantizer, base.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
            index.train(vecs[rng.choice(n, min(n, 40 * nlist), replace=False)])
            index.nprobe = 16
        if kind == "hnsw":
            index.hnsw.efSearch = 64
        index.add(vecs)
        build_s = time.perf_counter() - t
        with tempfile.NamedTemporaryFile(suffix=".faiss") as fh:
            faiss.write_index(index, fh.name)
            size = Path(fh.name).stat().st_size
        times, results = [], []
        for q in qs:
            t = time.perf_counter()
            _, ids = index.search(q[None, :], 10)
            times.append((time.perf_counter() - t) * 1000)
            results.append(set(ids[0].tolist()))
        if kind == "flat":
            exact = results
        recall = float(np.mean([len(a & b) / 10 for a, b in zip(results, exact)]))
        out["types"][kind] = {"build_s": build_s, "bytes_per_chunk": size / n, "index_mb": size / 2**20,
                              "search_ms_p50": percentile(times, 50), "search_ms_p95": percentile(times, 95),
                              "recall@10": recall}
    texts = [" ".join(rng.choice(sentences, 3)) for _ in range(n)]
    t = time.perf_counter()
    bm25 = BM25(texts)
    bm25_build = time.perf_counter() - t
    times = []
    for q in rng.choice(sentences, queries):
        t = time.perf_counter()
        bm25.search(str(q), 20)
        times.append((time.perf_counter() - t) * 1000)
    out["bm25"] = {"build_s": bm25_build, "search_ms_p50": percentile(times, 50), "search_ms_p95": percentile(times, 95)}

    # end to end, as the pipeline retrieves: query embedding + exact FAISS search + BM25 + fusion
    from .index import Index
    from .retrieve import HybridRetriever
    from .types import Chunk

    from .index import make_faiss_index, resolve_index_type

    chosen = resolve_index_type("auto", n)
    dense = make_faiss_index(base.shape[1], n, chosen)
    dense.add(vecs)
    synthetic = Index(manifest={"articles": {}}, chunks=[Chunk(f"s#{i}", "s", 0, len(t), t) for i, t in enumerate(texts)],
                      vectors=dense, _bm25=bm25)
    retriever = HybridRetriever(synthetic, embedder)
    times = []
    for q in rng.choice(sentences, min(queries, 100)):
        t = time.perf_counter()
        retriever.retrieve(str(q), 10, "pl")
        times.append((time.perf_counter() - t) * 1000)
    out["hybrid_retrieval_ms"] = {"p50": percentile(times, 50), "p95": percentile(times, 95), "index_type": chosen}
    out["milvus"] = bench_milvus(synthetic, embedder, qs, exact, [str(q) for q in rng.choice(sentences, min(queries, 100))])
    out["peak_rss_mb"] = max_rss_mb()
    return out


def bench_milvus(synthetic, embedder, qs: np.ndarray, exact: list[set], questions: list[str]) -> dict:
    """The same synthetic chunks in an embedded Milvus Lite collection, written the way `rag index`
    writes them (MilvusStore.sync: rows with BM25 weights, upsert, flush, index build); then dense
    search p50/p95 and recall@10 against exact FAISS, and hybrid retrieval end to end through the store."""
    try:
        from .stores import MilvusStore
    except ImportError:                                   # pragma: no cover
        return {"skipped": "pymilvus / milvus-lite not installed (pip install 'rag[milvus]')"}
    from .index import resolve_index_type
    from .retrieve import HybridRetriever

    n = len(synthetic.chunks)
    synthetic.manifest = {"embedder": "bench-synthetic", "chunk_size": 0, "chunk_overlap": 0, "count": n,
                          "dim": int(qs.shape[1]), "index_type_setting": "auto", "corpus_hash": f"synthetic-{n}",
                          "articles": {"s": {"sha256": "synthetic", "title": "s", "date": None}}}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            store = MilvusStore(f"{tmp}/bench.db")
        except Exception as exc:                          # pragma: no cover
            return {"skipped": str(exc)}
        synthetic.store = store
        synthetic.bm25                                     # built already: not part of the Milvus build time
        t = time.perf_counter()
        store.sync(synthetic)
        build_s = time.perf_counter() - t
        name = store.name_for(synthetic.manifest)
        times, recalls = [], []
        for q, truth in zip(qs, exact):
            t = time.perf_counter()
            hits = store.client.search(name, data=[q], anns_field="dense", limit=10, output_fields=["article_id"],
                                       search_params={"metric_type": "IP", "params": {"ef": 64}})
            times.append((time.perf_counter() - t) * 1000)
            recalls.append(len({synthetic.row_by_id[h["id"]] for h in hits[0]} & truth) / 10)
        retriever = HybridRetriever(synthetic, embedder)
        hybrid = []
        for q in questions:
            t = time.perf_counter()
            retriever.retrieve(q, 10, "pl")
            hybrid.append((time.perf_counter() - t) * 1000)
        return {"build_s": build_s, "index_type": resolve_index_type("auto", n),
                "search_ms_p50": percentile(times, 50), "search_ms_p95": percentile(times, 95),
                "recall@10": float(np.mean(recalls)),
                "hybrid_retrieval_ms": {"p50": percentile(hybrid, 50), "p95": percentile(hybrid, 95)}}


def markdown(result: dict) -> str:
    def f(v, unit=""):
        return "-" if v is None else (f"{v:.2f}{unit}" if v < 100 else f"{v:.0f}{unit}")
    lines = []
    if "pipeline" in result:
        p = result["pipeline"]
        lines += ["| measure | median | p90 |", "|---|---|---|"]
        for key, label in (("retrieve_ms", "retrieval (ms)"), ("prompt_tokens", "prompt tokens evaluated"),
                           ("ttft_ms", "time to first token (ms)"),
                           ("raw_ttft_ms", "raw llama-cpp-python's time to first token, same calls and state (ms)"),
                           ("ttft_over_raw_ttft", "TTFT / raw TTFT"),
                           ("ttft_cold_floor_ms", "cold floor: all prompt tokens / prompt speed (ms)"),
                           ("gen_tokens_per_s", "generation (tokens/s)"), ("total_ms", "total (ms)"),
                           ("raw_total_ms", "raw llama-cpp-python, same calls (ms)"),
                           ("ratio_end_to_end_over_raw", "ratio end-to-end / raw"), ("overhead_share", "pipeline overhead share")):
            lines.append(f"| {label} | {f(p[key]['p50'])} | {f(p[key]['p90'])} |")
        lines += ["", f"Questions: {p['questions']}. Embedder load {f(p['embedder_load_s'], ' s')}, "
                      f"LLM load {f(p['llm_load_s'], ' s')}, index build for the seeds {f(p['index_build_s'], ' s')} "
                      f"({f(p['index_build_with_model_load_s'], ' s')} with the embedder load), "
                      f"prompt speed {f(p['prompt_tokens_per_s'], ' tokens/s')}, peak memory {f(p['peak_rss_mb'], ' MB')}."]
    if "scale" in result:
        s = result["scale"]
        lines += ["", f"Scale: {s['chunks']} synthetic chunks, {s['dim']} dimensions. Embedding speed "
                      f"{f(s['embed_chunks_per_s'])} chunks/s (so {f(s['embed_100k_estimate_min'])} min for all of them).", "",
                  "| FAISS index | build (s) | size (bytes/chunk) | search p50 (ms) | search p95 (ms) | recall@10 vs exact |",
                  "|---|---|---|---|---|---|"]
        for kind, r in s["types"].items():
            lines.append(f"| {kind} | {f(r['build_s'])} | {f(r['bytes_per_chunk'])} | {f(r['search_ms_p50'])} | "
                         f"{f(r['search_ms_p95'])} | {f(r['recall@10'])} |")
        b = s["bm25"]
        lines.append(f"| BM25 (inverted index) | {f(b['build_s'])} | - | {f(b['search_ms_p50'])} | {f(b['search_ms_p95'])} | - |")
        m = s.get("milvus", {})
        if "build_s" in m:
            lines.append(f"| Milvus Lite, embedded ({m['index_type']}, + BM25 sparse) | {f(m['build_s'])} | - | "
                         f"{f(m['search_ms_p50'])} | {f(m['search_ms_p95'])} | {f(m['recall@10'])} |")
        h = s["hybrid_retrieval_ms"]
        lines += ["", f"Hybrid retrieval end to end at this size (query embedding, FAISS {h['index_type']} as `auto` "
                      f"picks, BM25, fusion): p50 {f(h['p50'])} ms, p95 {f(h['p95'])} ms. Peak memory {f(s['peak_rss_mb'])} MB."]
        if "build_s" in m:
            lines += ["", f"The same through Milvus Lite (`store = \"milvus:...\"`: two searches in Milvus, fused here): "
                          f"p50 {f(m['hybrid_retrieval_ms']['p50'])} ms, p95 {f(m['hybrid_retrieval_ms']['p95'])} ms; "
                          "its build time is `rag index` writing the rows (BM25 weights, upsert, flush, index build)."]
        elif m:
            lines += ["", f"Milvus Lite: {m['skipped']}."]
    return "\n".join(lines) + "\n"


def load_modes_markdown(r: dict) -> str:
    from statistics import median

    def f(values):
        return f"{median(values):.1f}" if values else "-"
    lines = [f"CPU: {r['cpu']['model']}, {r['cpu']['cores']} cores ({r['cpu']['threads']} threads used); "
             f"features: {r['cpu']['features']}.", f"llama.cpp: {r['llama.cpp']}", "",
             f"Model {r['llm']}; medians of {r['rounds']} alternating rounds x {r['repeats']} repeats "
             "(prompt: 256 tokens on a cold context; generation: 64 tokens).", "",
             "| mode | load (s) | prompt (tokens/s) | generation (tokens/s) |", "|---|---|---|---|"]
    for mode, row in r["modes"].items():
        if row["failed"] and not row["prompt_tokens_per_s"]:
            lines.append(f"| {mode} | failed: {row['failed']} | | |")
        else:
            lines.append(f"| {mode} | {f(row['load_s'])} | {f(row['prompt_tokens_per_s'])} | {f(row['gen_tokens_per_s'])} |")
    lines += ["", f"`llm_repack = auto` here: {r['auto']}."]
    return "\n".join(lines) + "\n"


def main(args, settings: Settings) -> int:
    from .evaluate import load_items

    if getattr(args, "load_modes", False):
        from .doctor import measure_load_modes

        return _save(args.out, "bench_load_modes", (result := measure_load_modes(settings)), load_modes_markdown(result))
    items = load_items(Path("eval/questions.jsonl"))
    questions = [i["question"] for i in items][: args.limit or None]
    result: dict = {"settings": {k: str(v) for k, v in settings.__dict__.items() if k != "profiles"}}
    if args.limit != 0:
        result["pipeline"] = bench_pipeline(settings, questions)
    if args.scale:
        result["scale"] = bench_scale(settings, args.scale)
    return _save(args.out, "bench", result, markdown(result))


def _save(out: Path, name: str, result: dict, md: str) -> int:
    """<name>.json and <name>.md in `out`, and the markdown on standard output."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / f"{name}.md").write_text(md, encoding="utf-8")
    print(md)
    return 0
