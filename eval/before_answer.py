"""What comes before the answer, through the real pipeline with a model that answers at once (its
tokenizer still counts the prompt budget): how long the steps before generation take (retrieve,
premise check, evidence, prompt: the time to first token less the prompt's evaluation), and how
much of the answerable questions' key facts the prompt's sentences show, and in how many tokens.
Over the eval set's questions of one language; times are medians after one warm pass (memoised
keys and sentence vectors in place, as in a running chat). Beside the shown sentences' share, the
share of the key facts anywhere in the k retrieved passages (whole chunks): what retrieval found,
so the difference is what the sentence choice left out. With `second_look` on, the model's refusal
brings the second look's prompt, so the share of the key facts in either prompt's passages is
printed too. Settings come as usual (RAG_* etc.):

    .venv/bin/python eval/before_answer.py            # Polish questions
    .venv/bin/python eval/before_answer.py en
    RAG_ANTECEDENTS=0 .venv/bin/python eval/before_answer.py
    RAG_SECOND_LOOK=1 .venv/bin/python eval/before_answer.py en
"""
import json
import re
import statistics
import sys
from pathlib import Path

from rag.config import load_settings
from rag.metrics import has_fact
from rag.pipeline import Pipeline


class AtOnce:
    """Answers before evaluating anything; counts tokens with the real model's tokenizer."""
    id, path, concurrent = "at-once", "", True

    def __init__(self, count_tokens):
        self.count_tokens = count_tokens
        self.shown: list[str] = []            # each prompt's passage lines

    def stream(self, messages, max_tokens, stop=None, first=None):
        self.shown.append("\n".join(line for line in messages[-1]["content"].splitlines()
                                    if re.match(r"\[\d+\] ", line)))
        yield "NO ANSWER"

    def last_usage(self):
        return 0, 0

    def first_p(self):
        return None


def main() -> None:
    language = sys.argv[1] if len(sys.argv) > 1 else "pl"
    items = [json.loads(line) for line in Path("eval/questions.jsonl").read_text(encoding="utf-8").splitlines() if line]
    items = [i for i in items if i["language"] == language]
    settings = load_settings()
    tokenizer = Pipeline(settings).generator
    at_once = AtOnce(tokenizer.count_tokens)
    pipeline = Pipeline(settings, generator=at_once)
    shown, found, tokens, either, looked = [], [], [], [], []
    chunks = {c.id: c.text for c in pipeline.index().chunks}
    for item in items:                              # warm: index, encoder, memoised keys
        at_once.shown = []
        answer = pipeline.ask(item["question"])
        if item["answerable"]:          # refused by the premise check: no prompt, nothing shown
            text = "" if answer.missing else " ".join(p.text for p in answer.passages)
            shown.append(sum(has_fact(text, fact) for fact in item["facts"]) / len(item["facts"]))
            prompts = "\n".join(at_once.shown)       # the first look's prompt, and the second's
            either.append(sum(has_fact(prompts, fact) for fact in item["facts"]) / len(item["facts"]))
            if len(at_once.shown) > 1:
                looked.append(tokenizer.count_tokens(at_once.shown[1]))
            retrieved = " ".join(chunks[c] for c in answer.ranking[:settings.k])
            found.append(sum(has_fact(retrieved, fact) for fact in item["facts"]) / len(item["facts"]))
            if text:
                tokens.append(tokenizer.count_tokens(text))
    ms = [pipeline.ask(item["question"]).timings.ttft_ms for item in items]
    print(f"{language}: {len(ms)} questions; steps before generation: median {statistics.median(ms):.0f} ms, "
          f"p90 {statistics.quantiles(ms, n=10)[-1]:.0f} ms")
    print(f"{language}: {len(shown)} answerable; share of their key facts among the shown sentences: "
          f"{statistics.mean(shown):.3f}; the shown sentences' tokens: mean {statistics.mean(tokens):.1f}")
    print(f"{language}: share of their key facts in the {settings.k} retrieved passages (whole chunks): "
          f"{statistics.mean(found):.3f}")
    if settings.second_look:
        print(f"{language}: with a second look after the refusal, share of their key facts in either prompt's "
              f"passages: {statistics.mean(either):.3f}; the second prompt's passages: "
              f"{len(looked)} prompts, mean {statistics.mean(looked) if looked else 0:.1f} tokens")


if __name__ == "__main__":
    main()
