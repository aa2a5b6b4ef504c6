"""`rag bench --against SPEC` and `rag bench --users 1,2,4`: the LLM on a server, measured.

- `--against openai:http://…/v1#model`: the same questions answered with the configured LLM and
  with the one at SPEC, alternating per question (which goes first alternates too), in one run:
  time to first token and total time, medians and the ratio server / configured.
- `--users 1,2,4`: answers per minute with that many chat users asking at once, through the
  configured LLM (a server, for more than one: the in-process model answers one at a time); each
  user asks the next question from a shared list until all are answered.
Both print a Markdown table and write `bench-backends.json` into `--out`. The servers are not
started here: point the settings at running ones.
"""
from __future__ import annotations

import json
import queue
import threading
import time
from pathlib import Path

from .config import Settings
from .metrics import percentile


def _pipeline(settings: Settings, embedder=None):
    from .pipeline import Pipeline

    pipeline = Pipeline(settings, embedder=embedder)
    pipeline.index()
    return pipeline


def compare(settings: Settings, questions: list[str], against: str) -> dict:
    """TTFT and total per question with `settings.llm` and with `against`, alternating."""
    import dataclasses

    first = _pipeline(settings)
    second = _pipeline(dataclasses.replace(settings, llm=against), embedder=first.embedder)
    pipelines = {"configured": first, "against": second}
    for p in pipelines.values():
        p.ask("Rozgrzewka: kto rządzi Koreą Północną?")         # loads the model, fills prompt caches
    rows = {name: [] for name in pipelines}
    for i, q in enumerate(questions):
        order = list(pipelines) if i % 2 == 0 else list(reversed(pipelines))
        for name in order:
            answer = pipelines[name].ask(q)
            rows[name].append({"question": q, "ttft_ms": answer.timings.ttft_ms, "total_ms": answer.timings.total_ms,
                               "refused": answer.refused})
    out = {"configured": settings.llm, "against": against, "questions": len(questions)}
    for name, r in rows.items():
        out[name + "_ttft_ms_p50"] = percentile([x["ttft_ms"] for x in r], 50)
        out[name + "_total_ms_p50"] = percentile([x["total_ms"] for x in r], 50)
    out["ttft_ratio_p50"] = percentile([b["ttft_ms"] / a["ttft_ms"] for a, b in zip(rows["configured"], rows["against"])], 50)
    out["total_ratio_p50"] = percentile([b["total_ms"] / a["total_ms"] for a, b in zip(rows["configured"], rows["against"])], 50)
    out["rows"] = rows
    return out


def concurrency(settings: Settings, questions: list[str], users: list[int]) -> dict:
    """Answers per minute with each number of users asking at once, through settings.llm."""
    pipeline = _pipeline(settings)
    pipeline.ask("Rozgrzewka: kto rządzi Koreą Północną?")
    out = {"llm": settings.llm, "questions": len(questions), "runs": []}
    for n in users:
        todo: queue.Queue = queue.Queue()
        for q in questions:
            todo.put(q)
        latencies, errors = [], []
        lock = threading.Lock()

        def user():
            while True:
                try:
                    q = todo.get_nowait()
                except queue.Empty:
                    return
                t = time.perf_counter()
                try:
                    pipeline.ask(q)
                except Exception as exc:                   # counted, not fatal: the table says how many
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    latencies.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=user) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        out["runs"].append({"users": n, "wall_s": wall, "answers": len(latencies), "errors": errors,
                            "answers_per_min": len(latencies) / wall * 60,
                            "latency_s_p50": percentile(latencies, 50) if latencies else None})
    return out


def markdown(result: dict) -> str:
    lines = []
    if "compare" in result:
        c = result["compare"]
        lines += [f"Same {c['questions']} questions, alternating: configured `{c['configured']}` against "
                  f"`{c['against']}`.", "",
                  "| LLM | time to first token, median (ms) | total, median (ms) |", "|---|---|---|",
                  f"| {c['configured']} | {c['configured_ttft_ms_p50']:.0f} | {c['configured_total_ms_p50']:.0f} |",
                  f"| {c['against']} | {c['against_ttft_ms_p50']:.0f} | {c['against_total_ms_p50']:.0f} |",
                  f"| ratio, median of per-question ratios | {c['ttft_ratio_p50']:.2f} | {c['total_ratio_p50']:.2f} |", ""]
    if "concurrency" in result:
        c = result["concurrency"]
        lines += [f"{c['questions']} questions through `{c['llm']}`.", "",
                  "| users at once | answers per minute | latency per answer, median (s) | wall (s) | errors |",
                  "|---|---|---|---|---|"]
        for r in c["runs"]:
            latency = "-" if r["latency_s_p50"] is None else f"{r['latency_s_p50']:.1f}"
            lines.append(f"| {r['users']} | {r['answers_per_min']:.1f} | {latency} | {r['wall_s']:.0f} | {len(r['errors'])} |")
    return "\n".join(lines)


def main(args, settings: Settings, questions: list[str]) -> int:
    import os

    from .hardware import this_cpu

    cpu = this_cpu()
    result: dict = {"cpu": f"{cpu.model}, {os.cpu_count()} cores, {cpu.features()}"}
    if args.against:
        result["compare"] = compare(settings, questions, args.against)
    if args.users:
        result["concurrency"] = concurrency(settings, questions, args.users)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench-backends.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    text = markdown(result)
    (out / "bench-backends.md").write_text(f"CPU: {result['cpu']}\n\n{text}\n", encoding="utf-8")
    print(text)
    return 0
