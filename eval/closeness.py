"""How close each eval question comes to the articles, by language and kind: the numbers behind the
off-topic check's threshold (`min_similarity`, README "How an answer is made", step 5).

For every question: the highest cosine between it and any sentence of the articles (the bundled
encoder, or RAG_EMBEDDER), and the share of its words that are the articles' words. No model call.

    .venv/bin/python eval/closeness.py
"""
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from rag.config import load_settings
from rag.lexical import tokens
from rag.pipeline import Pipeline

EXTRA = ["Kto jest szefem HUR?", "Gdzie jest Ałabuga?", "Ile dronów?"]     # short questions on the articles


def main() -> None:
    pipeline = Pipeline(load_settings())
    index, embedder = pipeline.index(), pipeline.embedder
    sentences = np.vstack([index.sentence_vectors(c, embedder) for c in index.chunks])
    items = [json.loads(line) for line in Path("eval/questions.jsonl").read_text(encoding="utf-8").splitlines() if line]
    questions = [i["question"] for i in items] + EXTRA
    closeness = (embedder.embed_queries(questions) @ sentences.T).max(axis=1)
    groups = defaultdict(list)
    for item, value in zip(items, closeness):
        kind = "answerable" if item["answerable"] else item.get("type") if item.get("type") in (
            "out-of-scope", "false-premise") else "near-topic"
        groups[(item["language"], kind)].append(float(value))
    print("language  kind           items  min    max")
    for (language, kind), values in sorted(groups.items()):
        print(f"{language:9} {kind:14} {len(values):5}  {min(values):.2f}   {max(values):.2f}")
    for question, value in zip(EXTRA, closeness[len(items):]):
        words = set(tokens(question))
        known = sum(t in index.bm25.postings for t in words) / len(words)
        print(f"{value:.2f}  words known {known:.2f}  {question}")


if __name__ == "__main__":
    main()
