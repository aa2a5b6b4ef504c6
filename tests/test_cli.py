import json

import pytest

from rag import cli
from rag.pipeline import Pipeline

from .fakes import ScriptedGenerator, WordOverlapEmbedder


@pytest.fixture
def fake_cli(monkeypatch, settings):
    gen = ScriptedGenerator(reply_fn=lambda m: "Rosja chce zatrudnić 12 tys. pracowników w Tatarstanie [1].")
    pipeline = Pipeline(settings, embedder=WordOverlapEmbedder(), generator=gen)
    monkeypatch.setattr(cli, "_pipeline", lambda args: pipeline)
    return pipeline


def test_ask_json_contract(fake_cli, capsys):
    assert cli.main(["ask", "--json", "Ilu pracowników Rosja zatrudni w Tatarstanie?"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"question", "language", "answer", "refused", "citations", "passages", "timings",
                        "usage", "models"}
    assert set(out["citations"][0]) == {"marker", "chunk_id", "article_id", "title", "date", "quote", "start",
                                         "end", "supported"}
    assert set(out["passages"][0]) == {"rank", "chunk_id", "article_id", "score", "text", "shown"}
    assert set(out["timings"]) == {"retrieve_ms", "ttft_ms", "total_ms"}
    assert set(out["models"]) == {"embedder", "llm", "llm_file", "llm_load"}


def test_ask_json_stdin_one_object_per_line(fake_cli, capsys, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("Pierwsze pytanie o Tatarstan?\n\nDrugie pytanie o drony?\n"))
    assert cli.main(["ask", "--json", "-"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(line)["question"] for line in lines] == ["Pierwsze pytanie o Tatarstan?", "Drugie pytanie o drony?"]


def test_ask_streams_text_then_sources(fake_cli, capsys):
    assert cli.main(["ask", "Ilu pracowników Rosja zatrudni w Tatarstanie?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Rosja chce zatrudnić") and "Sources:" in out and "001_345fe1ab6c1f8ba1" in out


def test_ask_says_when_it_looks_further_and_prints_the_second_answer_once(monkeypatch, settings, capsys):
    from dataclasses import replace

    def reply(messages):
        return "Zatrudnienie pracowników ma na celu zwiększenie produkcji maszyn [1]." \
            if "na celu" in messages[1]["content"] else "NO ANSWER"
    pipeline = Pipeline(replace(settings, second_look=True, prompt_budget=1), embedder=WordOverlapEmbedder(),
                        generator=ScriptedGenerator(reply_fn=reply))
    monkeypatch.setattr(cli, "_pipeline", lambda args: pipeline)
    assert cli.main(["ask", "Po co Rosja chce zatrudnić pracowników z Korei Północnej w Tatarstanie?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("NO ANSWER\n(szukam dalej w artykułach…)\nZatrudnienie pracowników ma na celu")
    assert "Checked answer" not in out and out.count("Zatrudnienie pracowników") == 1


@pytest.mark.parametrize("argv, code, message", [
    (["ask", ""], 2, "question is empty"),
    (["ask", "   "], 2, "question is empty"),
    (["ask", "pytanie", "--bogus"], 2, "unrecognized arguments"),
    (["frobnicate"], 2, "invalid choice"),
    ([], 2, "required"),
])
def test_bad_input_exits_2_with_one_line(argv, code, message, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == code
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_runtime_failure_exits_1(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAG_SEEDS_DIR", str(tmp_path / "missing"))
    monkeypatch.setenv("RAG_EMBEDDER", "minilm")
    assert cli.main(["index"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no articles folder") and err.count("\n") == 1


def test_unknown_model_is_one_clear_error(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["ask", "pytanie?", "--llm", str(tmp_path / "missing.gguf")]) == 1
    assert "model file" in capsys.readouterr().err


def test_profile_then_flags(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rag.toml").write_text('[profiles.small]\nllm = "qwen2.5-coder-0.5b"\nprompt_budget = 99\n')
    args = cli.build_parser().parse_args(["ask", "q", "--profile", "small", "--k", "3"])
    s = cli._settings(args)
    assert (s.llm, s.prompt_budget, s.k) == ("qwen2.5-coder-0.5b", 99, 3)
    args = cli.build_parser().parse_args(["ask", "q", "--profile", "small", "--llm", "x.gguf"])
    assert cli._settings(args).llm == "x.gguf"
