from pathlib import Path

import pytest

from rag.config import load_settings
from rag.errors import BadInput


def test_precedence_defaults_file_env_flags(tmp_path):
    assert load_settings(root=tmp_path, environ={}).k == 10
    (tmp_path / "rag.toml").write_text('k = 6\nchunk_size = 900\nllm = "file.gguf"\n')
    s = load_settings(root=tmp_path, environ={"RAG_K": "7", "RAG_SEEDS_DIR": "/data/seeds"})
    assert (s.k, s.chunk_size, s.llm, s.seeds_dir) == (7, 900, "file.gguf", Path("/data/seeds"))
    s = load_settings({"k": 3, "llm": None}, root=tmp_path, environ={"RAG_K": "7"})
    assert (s.k, s.llm) == (3, "file.gguf")


def test_pyproject_tool_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.rag]\nembedder = "minilm"\nverify_citations = false\n')
    s = load_settings(root=tmp_path, environ={"RAG_VERIFY_CITATIONS": "yes"})
    assert s.embedder == "minilm" and s.verify_citations is True
    assert load_settings(root=tmp_path, environ={"RAG_VERIFY_CITATIONS": "off"}).verify_citations is False


@pytest.mark.parametrize("env, message", [({"RAG_K": "many"}, "bad value"), ({"RAG_K": "0"}, "between 1 and 20"),
                                          ({"RAG_FOLLOW": "flase"}, "'follow' .* bad value 'flase': use true or false"),
                                          ({"RAG_NO_ANSWER_MIN_P": "1.5"}, "probability from 0 to 1")])
def test_bad_values_are_one_clear_error(tmp_path, env, message):
    with pytest.raises(BadInput, match=message):
        load_settings(root=tmp_path, environ=env)


def test_unknown_setting_in_file(tmp_path):
    (tmp_path / "rag.toml").write_text("kk = 3\n")
    with pytest.raises(BadInput, match="unknown setting 'kk'"):
        load_settings(root=tmp_path, environ={})


def test_profiles(tmp_path):
    (tmp_path / "rag.toml").write_text('[profiles.small]\nllm = "qwen2.5-coder-0.5b"\n')
    s = load_settings(root=tmp_path, environ={})
    assert s.profile_names() == ["default", "small"]
    assert s.with_profile("small").llm == "qwen2.5-coder-0.5b"
    with pytest.raises(BadInput, match="unknown profile"):
        s.with_profile("huge")
