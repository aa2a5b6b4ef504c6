"""`rag doctor`: a crash in a child process becomes one readable line; the report has what a bug report needs.

The crashing children here are real processes that really die (SIGSEGV, SIGILL); only what they
print before dying is scripted, standing in for llama.cpp's stages.
"""
import json
import sys

import pytest

from rag import cli
from rag.doctor import explain_failure, format_report, missing_on_cpu, run_probe
from rag.hardware import CpuInfo, LoadPlan

AMX_CPU = CpuInfo("Intel(R) Xeon(R) Platinum 8481C", frozenset({"avx", "avx2", "fma", "avx512f", "amx_tile", "amx_int8"}))
AVX2_CPU = CpuInfo("AMD EPYC", frozenset({"avx", "avx2", "fma"}))
INFO_AMX = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | FMA = 1 | AVX512 = 1 | AMX_INT8 = 1 | REPACK = 1 |"


def child(*stages, then: str) -> list[str]:
    """A Python child that reports `stages` like the probe does, then runs `then`."""
    lines = "".join(f"print(json.dumps({s!r}), flush=True); " for s in stages)
    return [sys.executable, "-c", f"import json, ctypes, os, signal, sys; {lines}{then}"]


STARTED = {"stage": "started"}
INFO = {"stage": "system_info", "value": INFO_AMX}
LOADED = {"stage": "loaded"}


def test_segfault_in_first_decode_on_amx_names_the_cause_and_the_fix():
    result = run_probe(child(STARTED, INFO, LOADED, then="ctypes.string_at(0)"), LoadPlan(True, "on"), AMX_CPU)
    assert not result.ok
    assert "SIGSEGV" in result.line and "in the first decode" in result.line
    assert "AMX" in result.line and 'llm_repack = "off"' in result.line
    assert "\n" not in result.line and "Traceback" not in result.line
    assert result.system_info == INFO_AMX


def test_illegal_instruction_says_the_build_is_for_another_cpu():
    info = {"stage": "system_info", "value": "CPU : AVX2 = 1 | AVX512 = 1 |"}
    result = run_probe(child(STARTED, info, then="os.kill(os.getpid(), signal.SIGILL)"), LoadPlan(True, "on"), AVX2_CPU)
    assert not result.ok and "SIGILL" in result.line and "while loading the model" in result.line
    assert "AVX512" in result.line and "--force-reinstall" in result.line


def test_crash_with_repacking_already_off_does_not_advise_turning_it_off():
    result = run_probe(child(STARTED, then="ctypes.string_at(0)"), LoadPlan(False, "off"), AVX2_CPU)
    assert "SIGSEGV" in result.line and "while importing" in result.line and "rebuild llama-cpp-python" in result.line


def test_an_error_in_the_child_is_its_last_line():
    result = run_probe(child(STARTED, then="print('error: cannot load x.gguf', file=sys.stderr); sys.exit(1)"),
                       LoadPlan(True, "on"), AVX2_CPU)
    assert not result.ok and result.line == "the model could not answer (cannot load x.gguf)"


def test_a_hung_child_is_reported_after_the_timeout():
    result = run_probe(child(STARTED, INFO, then="import time; time.sleep(30)"), LoadPlan(True, "on"), AVX2_CPU,
                       timeout=2)
    assert not result.ok and "no token within 2 s" in result.line and "while loading the model" in result.line


def test_a_healthy_child_is_ok():
    token = {"stage": "token", "value": {"load_s": 1.5, "token_s": 0.25, "text": "OK"}}
    result = run_probe(child(STARTED, INFO, LOADED, token, then="pass"), LoadPlan(False, "off"), AMX_CPU)
    assert result.ok and result.line == "one token in 0.25 s after a 1.5 s load (repack off)"


def test_build_features_missing_on_the_cpu():
    assert missing_on_cpu(INFO_AMX, AVX2_CPU) == ["AMX_INT8", "AVX512"]
    assert missing_on_cpu(INFO_AMX, AMX_CPU) == []
    assert explain_failure(-4, "", {}, LoadPlan(True, "on"), AVX2_CPU).startswith("llama.cpp crashed (SIGILL)")


def test_doctor_report_without_the_check(tmp_path, monkeypatch, capsys, seeds):
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + bytes(60))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAG_LLM", str(gguf))
    monkeypatch.setenv("RAG_SEEDS_DIR", str(seeds))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "CURRENT").write_bytes(bytes(range(200)))
    assert cli.main(["doctor", "--no-check", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"llama-cpp-python", "faiss-cpu", "sentence-transformers", "gradio"} <= set(data["packages"])
    assert data["cpu"]["model"] and data["cpu"]["features"]
    assert data["llm"]["file"] == str(gguf) and data["llm"]["size"] == "0.0 MB"
    assert "not checked" in data["llm"]["sha256"]
    assert "index pointer" in data["index"]["state"] and "damaged" in data["index"]["state"]
    assert data["llm_repack"].startswith("auto -> ")
    text = format_report(data)
    assert "cpu:\n  model: " in text and "index:\n" in text


def test_doctor_exits_1_with_the_reason_when_the_model_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAG_LLM", str(tmp_path / "missing.gguf"))
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "generation: FAILED: model file" in out and "not found" in out
