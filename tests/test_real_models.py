"""The real offline models, end to end. Slow (the 1.1 GB GGUF loads once per session), still run in CI."""
import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from rag import cli
from rag.config import Settings
from rag.embedders import SentenceTransformerEmbedder, get_embedder
from rag.errors import ModelError
from rag.models import BUNDLED_LLMS, resolve_embedder_dir, resolve_llm
from rag.pipeline import Pipeline
from rag.prompt import OFF_TOPIC

pytestmark = pytest.mark.models
A1 = "001_345fe1ab6c1f8ba1"


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    from .conftest import SEEDS
    root = tmp_path_factory.mktemp("real")
    shutil.copytree(SEEDS, root / "seeds")
    settings = Settings(seeds_dir=root / "seeds", index_dir=root / "index")
    return Pipeline(settings)


def test_bundled_llm_is_joined_and_hash_checked(real):
    path = resolve_llm("qwen2.5-coder-1.5b", real.settings.cache_dir)
    assert path.stat().st_size == BUNDLED_LLMS["qwen2.5-coder-1.5b"].size
    assert path.with_suffix(".gguf.verified").exists()


def test_index_builds_and_a_known_question_finds_its_article(real):
    index = real.index(rebuild=True)
    assert index.manifest["embedder"] == "use-multilingual" and index.manifest["dim"] == 512
    from rag.retrieve import HybridRetriever
    r = HybridRetriever(index, real.embedder).retrieve(
        "Ilu pracowników z Korei Północnej Rosja chce zatrudnić w Tatarstanie?", 4, "pl")
    assert r.passages[0].chunk.article_id == A1


def test_answer_streams_and_cites_real_spans_of_the_right_article(real):
    events = list(real.stream("Ilu północnokoreańskich pracowników Rosja planuje zatrudnić w Tatarstanie?"))
    tokens = [e for e in events if e.kind == "token"]
    answer = events[-1].answer
    assert len(tokens) > 3, "the answer should arrive token by token"
    assert not answer.refused and "12" in answer.answer
    assert answer.citations and {c.article_id for c in answer.citations} == {A1}
    text = (real.settings.seeds_dir / f"{A1}.txt").read_text(encoding="utf-8")
    for c in answer.citations:
        assert text[c.start:c.end] == c.quote
    assert answer.usage.prompt_tokens > 0 and answer.timings.ttft_ms > 0


def test_an_off_topic_question_is_refused_before_any_token_in_either_language(real):
    for question, language in (("Jak przygotować ciasto na pierogi ruskie?", "pl"),
                               ("What is the best way to learn to play the guitar?", "en")):
        events = list(real.stream(question))
        answer = events[-1].answer
        assert [e.kind for e in events] == ["answer"] and answer.refused
        assert answer.answer == OFF_TOPIC[language] and answer.usage.completion_tokens == 0


def test_a_short_question_on_a_name_is_not_off_topic(real):
    # the encoder puts "Gdzie jest Ałabuga?" far from every sentence (cosine about 0.11); its name is the articles'
    from rag import evidence, premise

    for question in ("Gdzie jest Ałabuga?", "Kto jest szefem HUR?", "Ile dronów?"):
        _, _, retrieval, _ = real.retrieve(question, "pl")
        passages = retrieval.passages[:real.settings.k]
        found = evidence.select(passages, [question], real.index(), real.embedder, len, 100)
        assert not premise.off_topic(question, passages, found.closeness, found.known, real.min_similarity)


def test_cli_json_answers_an_english_question_over_polish_text(real, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_pipeline", lambda args: real)
    assert cli.main(["ask", "--json", "How many North Korean workers does Russia plan to hire in Tatarstan?"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["language"] == "en" and not out["refused"] and "12" in out["answer"]
    assert any(c["article_id"] == A1 for c in out["citations"])
    text = (real.settings.seeds_dir / f"{A1}.txt").read_text(encoding="utf-8")
    assert all(text[c["start"]:c["end"]] == c["quote"] for c in out["citations"] if c["article_id"] == A1)
    assert out["models"]["llm_file"].endswith(".gguf")


def test_cli_json_names_the_head_of_ukrainian_military_intelligence(real, capsys, monkeypatch):
    # the name sits in an aside of a sentence about ammunition, in a chunk ranked low for this
    # question; the model's translation ("szef") finds it, the default dictionary words do not
    # (README, "Levers"), so this runs with translate_query on
    translating = Pipeline(replace(real.settings, translate_query=True), embedder=real.embedder,
                           generator=real.generator)
    monkeypatch.setattr(cli, "_pipeline", lambda args: translating)
    assert cli.main(["ask", "--json", "Who heads Ukraine's military intelligence (HUR)?"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert not out["refused"] and ("Budanow" in out["answer"] or "Budanov" in out["answer"])
    cited = [c for c in out["citations"] if c["article_id"] == A1]
    assert cited and any("Budanow" in c["quote"] for c in cited)


def test_local_gguf_path_and_hash_check(real, tmp_path):
    joined = resolve_llm("qwen2.5-coder-1.5b", real.settings.cache_dir)
    local = tmp_path / "model.gguf"
    local.symlink_to(joined)
    assert resolve_llm(str(local), tmp_path, BUNDLED_LLMS["qwen2.5-coder-1.5b"].sha256) == joined.resolve()
    with pytest.raises(ModelError, match="SHA-256"):
        resolve_llm(str(local), tmp_path, "0" * 64)


def test_sentence_transformers_backend_loads_a_local_directory():
    # the same code path a hub id takes, pointed at the model the bundled package carries
    location = resolve_embedder_dir("minilm")
    emb = SentenceTransformerEmbedder(location)
    v = emb.embed_queries(["Kim Jong Un met Shoigu"])
    assert v.shape == (1, 384) and np.isclose(np.linalg.norm(v), 1.0, atol=1e-4)
    assert get_embedder("minilm").id == "minilm"


def test_unreachable_hub_model_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="cannot download"):
        resolve_llm("someone/missing-GGUF/missing.gguf", tmp_path)


def test_benchmark_runs_on_a_few_items_with_the_real_models(real, tmp_path, monkeypatch, capsys):
    from .conftest import ROOT
    monkeypatch.setenv("RAG_SEEDS_DIR", str(real.settings.seeds_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(real.settings.index_dir))
    assert cli.main(["eval", "--limit", "3", "--questions", str(ROOT / "eval" / "questions.jsonl"),
                     "--out", str(tmp_path)]) == 0
    results = list(tmp_path.glob("*-limit3.json"))
    assert len(results) == 1
    data = json.loads(results[0].read_text())
    assert data["overall"]["items"] == 3 and data["calibration"]["n"] >= 60
    assert results[0].with_suffix(".md").exists() and results[0].with_suffix(".png").stat().st_size > 1000
    assert "| hit@5 |" in capsys.readouterr().out


def test_speed_benchmark_runs(real, tmp_path, monkeypatch, capsys):
    from .conftest import ROOT
    monkeypatch.chdir(ROOT)                       # reads eval/questions.jsonl
    monkeypatch.setenv("RAG_SEEDS_DIR", str(real.settings.seeds_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(real.settings.index_dir))
    assert cli.main(["bench", "--limit", "2", "--scale", "2000", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "bench.json").read_text())
    p = data["pipeline"]
    assert p["questions"] == 2 and p["raw_total_ms"]["p50"] > 0 and p["ratio_end_to_end_over_raw"]["p50"] > 0.5
    assert set(data["scale"]["types"]) == {"flat", "hnsw", "ivf"}
    assert data["scale"]["types"]["flat"]["recall@10"] == 1.0


def test_doctor_loads_the_real_model_in_a_child_and_reports(real, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_settings", lambda args: real.settings)
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "generation: ok: one token" in out and "llama.cpp: CPU :" in out
    assert "sha256: matches the bundled model's" in out and "features: " in out


def test_no_answer_min_p_takes_the_models_next_start_when_it_is_unsure(real):
    # the model's greedy reply to this prompt is NO ANSWER, though passage [1] names the agency (Reuters)
    from rag.generators import FirstWord
    from rag.prompt import NO_ANSWER, answer_messages
    from rag.types import Chunk, Passage

    sentences = ["Na nagraniu, do którego dotarła agencja Reutera, widać, że przekazywane są im różnego rodzaju "
                 "urządzenia do wykrywania min.", "Korea Północna długo wypierała się współpracy z Rosją."]
    passages = [Passage(i + 1, Chunk(f"{A1}#{i}", A1, 0, len(s), s), 1.0, text=s) for i, s in enumerate(sentences)]
    messages = answer_messages("Which news agency obtained the footage showing North Korean soldiers being handed "
                               "mine-detection equipment in the Kursk region?", "en", passages)
    generator = real.generator
    sure = "".join(generator.stream(messages, 40, first=FirstWord(NO_ANSWER, 0.0)))
    p = generator.first_p()
    unsure = "".join(generator.stream(messages, 40, first=FirstWord(NO_ANSWER, 1.0)))
    assert sure.startswith(NO_ANSWER) and 0 < p < 0.6           # its first choice, and not a sure one
    assert not unsure.startswith(NO_ANSWER) and "Reuter" in unsure
    assert abs(generator.first_p() - p) < 0.05                   # measured the same way when it is ruled out
