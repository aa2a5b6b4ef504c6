"""What the model makes of the right sentences: every answerable question of one language answered
by the real pipeline, with the prompt's sentences replaced by the sentences that hold the item's
gold evidence (each quote's sentences, in the first retrieved passage that holds it; a quote no
retrieved passage holds is left out). Retrieval, the premise check, the answer, its checks and the
refusals are the product's own; only the sentence choice is the benchmark's. The key facts the
answers then state are a ceiling for better sentence choice with this model and these checks,
beside the product's own run:

    .venv/bin/python eval/gold_evidence.py pl          # or en; about 10 minutes each on 2 cores
    .venv/bin/python eval/gold_evidence.py en --json OUT.json

The answers are written to --json (one row per item) for reading them side by side with a run.
"""
import argparse
import json
import statistics
from dataclasses import replace
from pathlib import Path

from rag import evidence
from rag.config import load_settings
from rag.metrics import fact_accuracy
from rag.pipeline import Pipeline


class GoldSelect:
    """`evidence.select` with the current item's gold sentences in place of the chosen ones."""

    def __init__(self, select, index):
        self.select, self.index, self.item = select, index, None

    def __call__(self, passages, queries, *args, **kwargs):
        found = self.select(passages, queries, *args, **kwargs)        # closeness and known stay the product's
        if kwargs.get("skip") or self.item is None:
            return found
        chosen: dict[int, list[tuple[int, int]]] = {}
        for quote in self.item["evidence"]:
            for i, p in enumerate(passages):
                at = p.chunk.text.lower().find(quote["quote"].lower())        # quotes are exact
                if at < 0:
                    continue
                end = at + len(quote["quote"])
                spans = [(s, e) for s, e, _ in self.index.sentences[p.chunk.id] if s < end and e > at]
                chosen.setdefault(i, [])
                chosen[i] += [sp for sp in spans if sp not in chosen[i]]
                break
        if not chosen:
            return found
        pruned, best = [], []
        for i in sorted(chosen):
            spans = sorted(chosen[i])
            pruned.append(replace(passages[i], rank=len(pruned) + 1,
                                  text=" … ".join(passages[i].chunk.text[s:e] for s, e in spans)))
            best += [(len(pruned), s, e) for s, e in spans]
        shown = frozenset((passages[i].chunk.id, s) for i in chosen for s, _ in chosen[i])
        return replace(found, passages=pruned, best=best, shown=shown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("language", nargs="?", default="pl", choices=["pl", "en"])
    parser.add_argument("--json", type=Path, help="write each item's answer here")
    args = parser.parse_args()
    items = [json.loads(line) for line in Path("eval/questions.jsonl").read_text(encoding="utf-8").splitlines() if line]
    items = [i for i in items if i["language"] == args.language and i["answerable"]]
    pipeline = Pipeline(load_settings())
    gold = GoldSelect(evidence.select, pipeline.index())
    evidence.select = gold                  # the pipeline calls evidence.select through the module
    rows = []
    for item in items:
        gold.item = item
        answer = pipeline.ask(item["question"])
        rows.append({"id": item["id"], "answer": answer.answer, "refused": answer.refused,
                     "fact_accuracy": 0.0 if answer.refused else fact_accuracy(answer.answer, item["facts"]),
                     "dropped": answer.dropped, "missing": answer.missing, "no_answer_p": answer.no_answer_p,
                     "ttft_ms": answer.timings.ttft_ms})
    n = len(rows)
    print(f"{args.language}: {n} answerable questions, answered from their gold sentences")
    for key in ("fact_accuracy", "refused"):
        print(f"  {key}: {statistics.mean(float(r[key]) for r in rows):.3f}")
    print(f"  ttft_ms p50: {statistics.median(r['ttft_ms'] for r in rows):.0f}")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
