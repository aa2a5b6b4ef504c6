"""What each value of the setting `no_answer_min_p` would give, from two full runs.

    RAG_NO_ANSWER_MIN_P=0 .venv/bin/rag eval --out runs/sure     # the model's NO ANSWER always counts
    RAG_NO_ANSWER_MIN_P=1 .venv/bin/rag eval --out runs/never    # it never counts: the next-best start is taken
    .venv/bin/python eval/no_answer_curve.py runs/sure/<name>.json runs/never/<name-n1>.json

Either side may be several result files joined by commas (the two languages' runs).

Greedy decoding makes the same answer for the same prompt, so at a threshold t an item answers as in
the first run where the model's first token was NO ANSWER's with probability at least t, and as in
the second run otherwise (where NO ANSWER was not the model's first choice the two runs agree). Each
run records that probability per item (`no_answer_p`). Prints, per language, the benchmark's main
numbers for each t.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.evaluate import KINDS, aggregate  # noqa: E402

THRESHOLDS = [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


def mixed(sure: list[dict], never: list[dict], t: float) -> list[dict]:
    other = {r["id"]: r for r in never}
    rows = []
    for row in sure:
        alt = other.get(row["id"])
        p = alt.get("no_answer_p") if alt else None
        rows.append(alt if p is not None and p < t else row)
    return rows


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: no_answer_curve.py SURE.json NEVER.json (see the docstring)")
    sure, never = ([row for f in arg.split(",") for row in json.loads(Path(f).read_text(encoding="utf-8"))["items"]]
                   for arg in sys.argv[1:])
    changed = sum(1 for a, b in zip(sorted(sure, key=lambda r: r["id"]), sorted(never, key=lambda r: r["id"]))
                  if a["answer"] != b["answer"])
    print(f"{len(sure)} items; {changed} answered differently when NO ANSWER never counts")
    other = {r["id"]: r for r in never}
    for row in sorted((r for r in sure if r.get("model_refused")), key=lambda r: r["id"]):
        alt = other[row["id"]]
        after = "refused" if alt["refused"] else \
            f"answered, key facts {alt['fact_accuracy']:.0f}" if row["answerable"] else "answered"
        print(f"  the model refused {row['id']} ({row['language']}, {row['kind']}, p = {row['no_answer_p']:.2f});"
              f" with NO ANSWER ruled out: {after}")
    for language in ("pl", "en"):
        print(f"\n{language}: | min_p | key facts | gold citation | citation precision | false refusals | "
              + " | ".join(f"{k} refused" for k in KINDS if k != "answerable") + " |")
        for t in THRESHOLDS:
            rows = [r for r in mixed(sure, never, t) if r["language"] == language]
            a = aggregate(rows)
            kinds = [aggregate([r for r in rows if r["kind"] == k]) for k in KINDS if k != "answerable"]
            cells = [a["fact_accuracy"], a["gold_citation_rate"], a["citation_precision"], a["false_refusal_rate"],
                     *[k["refused_share"] if k["items"] else None for k in kinds]]
            print(f"| {t:g} | " + " | ".join("-" if c is None else f"{c:.3f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
