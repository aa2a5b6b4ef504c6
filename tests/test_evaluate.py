"""The benchmark runner with fakes: caching, scoring, reports, comparison."""
import json
from argparse import Namespace
from dataclasses import replace

from rag import evaluate

from .conftest import ROOT


def _items(n=6):
    items = [json.loads(line) for line in (ROOT / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    return [i for i in items if i["language"] == "pl"][:n]


def test_generations_are_cached_by_question_and_configuration(make_pipeline, tmp_path):
    p = make_pipeline(reply_fn=lambda m: "NO ANSWER")
    items = _items(3)
    cache = tmp_path / "cache.jsonl"
    first = evaluate.generate(p, items, cache, "conf-a", progress=False)
    calls = len(p.generator.prompts)
    again = evaluate.generate(p, items, cache, "conf-a", progress=False)
    assert again == first and len(p.generator.prompts) == calls       # nothing regenerated
    evaluate.generate(p, items, cache, "conf-b", progress=False)
    assert len(p.generator.prompts) == 2 * calls                      # another configuration is new work


def test_score_and_report(make_pipeline, tmp_path):
    from rag.articles import load_articles
    from rag.support import SimilarityJudge

    p = make_pipeline(reply_fn=lambda m: "NO ANSWER")
    p.generator.no_answer_p = 0.6
    items = _items(4)
    answers = evaluate.generate(p, items, tmp_path / "c.jsonl", "x", progress=False)
    articles = {a.id: a.text for a in load_articles(p.settings.seeds_dir)}
    chunks = {c.id: (c.article_id, c.start, c.end) for c in p.index().chunks}
    result = evaluate.score(items, answers, articles, chunks, SimilarityJudge(p.embedder))
    assert result["overall"]["false_refusal_rate"] == 1.0           # it refused everything
    assert result["overall"]["polish_spelling"] is None              # counted over English answers only
    prompted = [r for r in result["items"] if r["prompt_tokens"]]      # not refused before a prompt
    assert prompted and all(r["model_refused"] and r["no_answer_p"] == 0.6 for r in prompted)
    assert 0.0 <= result["overall"]["hit@5"] <= 1.0
    result.update({"configuration": "x", "judge": "similarity", "calibration": {"agreement": 0.8}})
    md = evaluate.report_markdown("x", result, "x.png")
    assert "| fact_accuracy |" in md and "![main metrics](x.png)" in md
    assert "| metric | pl/answerable |" in md and "| 0.50 | 0.000 | 0.000 |" in md     # curve: nothing unanswerable
    evaluate.plot_metrics("x", result, tmp_path / "x.png")
    assert (tmp_path / "x.png").stat().st_size > 1000 and (tmp_path / "x-refusal.png").stat().st_size > 1000
    for name in ("a", "b"):
        (tmp_path / f"{name}.json").write_text(json.dumps(result))
    table = evaluate.compare(tmp_path, "a", "b")
    assert "| fact_accuracy | 0.000 | 0.000 | 0.000 |" in table


def test_retrieval_only_report(make_pipeline):
    p = make_pipeline()
    report = evaluate.retrieval_report(p, _items(6), p.settings)
    assert "| hit@5 |" in report and p.generator.prompts == []       # Polish items: no model call
    assert "| answerable | 0.00 (0/6) | - |" in report


def test_refusal_curve_counts_low_scores_as_refusals():
    rows = [{"answerable": True, "refused": False, "evidence_score": 0.8},
            {"answerable": True, "refused": False, "evidence_score": 0.3},
            {"answerable": False, "refused": False, "evidence_score": 0.2},
            {"answerable": False, "refused": True, "evidence_score": 0.0}]
    curve = {c["threshold"]: c for c in evaluate.refusal_curve(rows, [0.0, 0.25, 0.5])}
    assert curve[0.0]["recall"] == 0.5 and curve[0.0]["false_refusal_rate"] == 0.0
    assert curve[0.25]["recall"] == 1.0 and curve[0.25]["precision"] == 1.0
    assert curve[0.5]["false_refusal_rate"] == 0.5 and curve[0.5]["precision"] == 2 / 3


def test_question_kinds():
    assert evaluate.question_kind({"answerable": True, "type": "fact"}) == "answerable"
    assert evaluate.question_kind({"answerable": False, "type": "person"}) == "near-topic"
    assert evaluate.question_kind({"answerable": False, "type": "false-premise"}) == "false-premise"


def test_configuration_name_records_models_and_retrieval(settings):
    name = evaluate.configuration_name(settings)
    assert name.startswith("use-multilingual__qwen2.5-coder-1.5b__k10-c1500") and "-look" not in name
    assert "-look" in evaluate.configuration_name(replace(settings, second_look=True))


def test_rows_say_which_answers_came_from_a_second_look(make_pipeline, tmp_path):
    from rag.articles import load_articles
    from rag.support import SimilarityJudge

    def reply(messages):
        return "Zatrudnienie pracowników ma na celu zwiększenie produkcji maszyn [1]." \
            if "na celu" in messages[1]["content"] else "NO ANSWER"
    p = make_pipeline(reply_fn=reply, second_look=True, prompt_budget=1)
    items = [{**_items(1)[0], "question": "Po co Rosja chce zatrudnić pracowników z Korei Północnej w Tatarstanie?"},
             _items(2)[1]]
    answers = evaluate.generate(p, items, tmp_path / "c.jsonl", "x", progress=False)
    articles = {a.id: a.text for a in load_articles(p.settings.seeds_dir)}
    chunks = {c.id: (c.article_id, c.start, c.end) for c in p.index().chunks}
    rows = evaluate.score(items, answers, articles, chunks, SimilarityJudge(p.embedder))["items"]
    assert [r["looked_again"] for r in rows] == [True, False] and not rows[0]["refused"]


def test_calibration_agreement_is_reported(make_pipeline):
    from rag.support import SimilarityJudge

    cal = evaluate.calibrate(SimilarityJudge(make_pipeline().embedder), ROOT / "eval" / "judge_calibration.jsonl")
    assert cal["n"] >= 60 and 0.0 <= cal["agreement"] <= 1.0
    assert cal["true_positive"] + cal["false_positive"] + cal["false_negative"] + cal["true_negative"] == cal["n"]


def test_compare_names_what_is_saved(tmp_path):
    import pytest
    from rag.errors import BadInput

    with pytest.raises(BadInput, match="no saved results"):
        evaluate.compare(tmp_path, "a", "b")


def test_evidence_in_prompt_counts_the_shown_sentences_not_the_chunk(make_pipeline, tmp_path):
    """A prompt passage is pruned to its chosen sentences: a gold span elsewhere in its chunk was
    not shown to the model, and the metric must not count it."""
    from rag.articles import load_articles
    from rag.support import SimilarityJudge

    p = make_pipeline(reply_fn=lambda m: "NO ANSWER")
    item = _items(1)[0]
    answer = evaluate.generate(p, [item], tmp_path / "c.jsonl", "x", progress=False)[0]
    articles = {a.id: a.text for a in load_articles(p.settings.seeds_dir)}
    chunks = {c.id: (c.article_id, c.start, c.end) for c in p.index().chunks}
    gold = item["evidence"][0]
    holding = next(c for c in p.index().chunks if c.article_id == gold["article_id"] and gold["quote"] in c.text)
    other = next(s for s in holding.text.split(". ") if gold["quote"] not in s and len(s) > 40)
    passage = {"rank": 1, "chunk_id": holding.id, "article_id": holding.article_id, "score": 1.0,
               "text": holding.text}
    answer = {**answer, "usage": {**answer["usage"], "prompt_tokens": 100}}

    def in_prompt(shown):
        ans = {**answer, "passages": [{**passage, "shown": shown}]}
        row = evaluate.score([item], [ans], articles, chunks, SimilarityJudge(p.embedder))["overall"]
        return row["evidence_in_prompt"], row["fact_in_prompt"]

    assert in_prompt(gold["quote"]) == (1.0, 1.0)
    assert in_prompt(other) == (0.0, 0.0)          # the chunk holds the span, the prompt did not show it



def test_recorded_generations_are_reused_only_when_asked(make_pipeline, tmp_path):
    p = make_pipeline(reply_fn=lambda m: "Szojgu odwiedził Pjongjang [1].")
    fake = p.generator
    fake.no_answer_p = 0.4
    items = _items(3)
    record = tmp_path / "generations.jsonl"
    recorder = evaluate.recording(p, p.settings, record, reuse=False)
    first = evaluate.generate(p, items, tmp_path / "a.jsonl", "a", progress=False)
    calls = len(fake.prompts)
    assert calls and recorder.generated == calls and recorder.reused == 0
    p._generator = fake
    again = evaluate.recording(p, p.settings, record, reuse=True)
    fake.no_answer_p = None                       # the record, not the generator, gives it now
    answers = evaluate.generate(p, items, tmp_path / "b.jsonl", "b", progress=False)
    assert len(fake.prompts) == calls and again.reused == calls           # nothing generated again
    assert [a["answer"] for a in answers] == [a["answer"] for a in first]
    assert [a["usage"] for a in answers] == [a["usage"] for a in first]
    assert [a["no_answer_p"] for a in answers] == [a["no_answer_p"] for a in first] and 0.4 in \
        [a["no_answer_p"] for a in answers]
    p._generator = fake
    evaluate.recording(p, p.settings, record, reuse=False)
    evaluate.generate(p, items, tmp_path / "c.jsonl", "c", progress=False)
    assert len(fake.prompts) == 2 * calls                                 # without reuse every call is made


def test_a_run_reusing_generations_keeps_its_answers_and_files_apart(make_pipeline, tmp_path, monkeypatch):
    import rag.pipeline

    made = []

    def pipeline(settings):
        made.append(make_pipeline(reply_fn=lambda m: "NO ANSWER"))
        return made[-1]
    monkeypatch.setattr(rag.pipeline, "Pipeline", pipeline)
    monkeypatch.setattr(evaluate, "plot_metrics", lambda *a: None)
    questions = tmp_path / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in _items(2)), encoding="utf-8")
    args = Namespace(out=tmp_path / "results", compare=None, judge=None, questions=questions, calibrate=False,
                     language="pl", limit=None, retrieval_only=False, reuse_generations=False)
    settings = make_pipeline().settings
    assert evaluate.main(args, settings) == 0
    measured = sorted(p.name for p in (tmp_path / "results").glob("*.md"))
    assert evaluate.main(Namespace(**{**args.__dict__, "reuse_generations": True}), settings) == 0
    reused = sorted(p.name for p in (tmp_path / "results").glob("*-reused.md"))
    assert len(measured) == 1 and len(reused) == 1 and "not measured" in (tmp_path / "results" / reused[0]).read_text()
    caches = sorted(p.name for p in (tmp_path / "results" / "cache").glob("*.jsonl"))
    assert any(c.endswith("-reused.jsonl") for c in caches) and "generations.jsonl" in caches
    assert len(made[-1].generator.prompts) == 0          # every prompt came from the record


def test_answerable_questions_of_two_parts_get_their_own_column(make_pipeline, tmp_path):
    from rag.articles import load_articles
    from rag.support import SimilarityJudge

    p = make_pipeline(reply_fn=lambda m: "NO ANSWER")
    items = [i for i in _items(60) if i["answerable"]][:2]
    items[1] = {**items[1], "question": "Ilu pracowników chce zatrudnić Rosja w Tatarstanie i kto ich rekrutuje?"}
    answers = evaluate.generate(p, items, tmp_path / "c.jsonl", "x", progress=False)
    articles = {a.id: a.text for a in load_articles(p.settings.seeds_dir)}
    chunks = {c.id: (c.article_id, c.start, c.end) for c in p.index().chunks}
    result = evaluate.score(items, answers, articles, chunks, SimilarityJudge(p.embedder))
    assert [r["two_parts"] for r in result["items"]] == [False, True]
    assert result["by_kind"]["pl/answerable"]["items"] == 2 and result["by_kind"]["pl/answerable, two parts"]["items"] == 1
    assert "en/answerable, two parts" not in result["by_kind"]
