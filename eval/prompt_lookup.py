"""Prompt-lookup decoding (llama-cpp-python's `LlamaPromptLookupDecoding`) against plain decoding,
on the answer prompts the pipeline builds: the numbers behind README "Levers" on it.

Answers copy names and numbers from their passages, which is where drafting tokens from the prompt
should pay. For the first `N` answerable eval questions (default 8, every other one, both
languages) the prompt is built as `rag ask` builds it; then the same model file is loaded plain and
with a prompt-lookup draft of 2 and of 10 tokens, each run warmed on the fixed system prompt, and
the medians of time to first token and total time are printed, plain first and last (the spread
between the two plain runs is the machine's noise), with how many answers came out the same.

A draft needs logits for every token (`logits_all`): llama-cpp-python 0.3.36 sets that itself when
given a draft model, but sizes its logits buffer by the constructor's own `logits_all`, so it is
passed explicitly (without it the first draft fails with "could not broadcast input array").

    .venv/bin/python eval/prompt_lookup.py [N]      # about 5 minutes on 2 cores
"""
import json
import statistics
import sys
import time
from pathlib import Path

from rag import evidence
from rag import prompt as prompts
from rag.config import load_settings
from rag.generators import physical_cores
from rag.pipeline import Pipeline


def prompts_for(pipeline: Pipeline, count: int) -> list[list[dict]]:
    items = [json.loads(line) for line in Path("eval/questions.jsonl").read_text(encoding="utf-8").splitlines() if line]
    items = [i for i in items if i["answerable"]][:2 * count:2]
    s, out = pipeline.settings, []
    for item in items:
        query, translation, retrieval, _ = pipeline.retrieve(item["question"], item["language"])
        found = evidence.select(retrieval.passages[:s.k], [q for q in (query, translation) if q], pipeline.index(),
                                pipeline.embedder, pipeline.generator.count_tokens, s.prompt_budget,
                                by_words=item["language"] != "en" or bool(translation), margin=s.second_margin)
        out.append(prompts.answer_messages(item["question"], item["language"], found.passages, s.prompt_dates))
    return out


def run(path: str, messages: list[list[dict]], draft: int, settings) -> tuple[float, float, list[str]]:
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    extra = {"draft_model": LlamaPromptLookupDecoding(num_pred_tokens=draft), "logits_all": True} if draft else {}
    threads = settings.n_threads or physical_cores()          # as the pipeline loads it
    llm = Llama(model_path=path, n_ctx=settings.n_ctx, n_threads=threads, n_threads_batch=threads, n_batch=512,
                verbose=False, **extra)
    list(llm.create_chat_completion(messages=messages[0], max_tokens=1, stream=True, temperature=0, top_k=1))
    firsts, totals, texts = [], [], []
    for m in messages:
        t0, first, out = time.perf_counter(), None, []
        for chunk in llm.create_chat_completion(messages=m, max_tokens=settings.max_tokens, stream=True,
                                                temperature=0, top_k=1, repeat_penalty=1.05):
            delta = chunk["choices"][0].get("delta", {}).get("content")
            if delta:
                first = first or time.perf_counter() - t0
                out.append(delta)
        firsts.append(first or time.perf_counter() - t0)
        totals.append(time.perf_counter() - t0)
        texts.append("".join(out))
    return statistics.median(firsts), statistics.median(totals), texts


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    pipeline = Pipeline(load_settings())
    messages = prompts_for(pipeline, count)
    path, settings = pipeline.generator.path, pipeline.settings
    del pipeline                         # one model in memory at a time
    plain = None
    print(f"{len(messages)} prompts; medians in seconds")
    print("decoding           TTFT   total  same answers as plain")
    for label, draft in (("plain", 0), ("prompt lookup, 2", 2), ("prompt lookup, 10", 10), ("plain again", 0)):
        ttft, total, texts = run(path, messages, draft, settings)
        plain = plain or texts
        same = sum(a == b for a, b in zip(plain, texts))
        print(f"{label:18} {ttft:5.2f}  {total:5.2f}  {same}/{len(texts)}", flush=True)


if __name__ == "__main__":
    main()
