"""All settings in one place: defaults < rag.toml (or [tool.rag] in pyproject.toml) < RAG_* env < CLI flags.

`load_settings(overrides)` is the only way the CLI, the UI and the benchmark get a `Settings`.
A setting named `chunk_size` is `chunk_size = 900` in rag.toml and `RAG_CHUNK_SIZE=900` in the environment.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BadInput
from .hardware import REPACK_SETTINGS

DEFAULT_LLM = "qwen2.5-coder-1.5b"          # bundled offline model, see rag/models.py
DEFAULT_EMBEDDER = "use-multilingual"       # bundled offline model, chosen by measurement (README)


@dataclass
class Settings:
    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path("index")
    cache_dir: Path = Path(os.path.expanduser("~/.cache/rag"))   # joined/downloaded model files
    # a bundled name, a local file/folder, a hub id, or "openai:http://host:port/v1#model" for a server
    embedder: str = DEFAULT_EMBEDDER
    llm: str = DEFAULT_LLM
    # where the vectors live: "faiss" (in the index folder), "milvus:index/milvus.db" (Milvus Lite,
    # embedded) or "milvus:http://host:19530" (a Milvus server); rag/stores.py
    store: str = "faiss"
    # server backends ("openai:..." specs): the key comes from RAG_LLM_API_KEY / RAG_EMBEDDER_API_KEY
    server_timeout: float = 60.0    # seconds without a byte from the server before giving up
    server_retries: int = 3         # retries, with backoff, on connection errors only
    chat_concurrency: int = 1       # questions the chat answers at once; >1 only with a server LLM
    llm_sha256: str = ""            # checked for a local or downloaded GGUF when set
    # chunking (part of the index manifest: changing it rebuilds the index)
    chunk_size: int = 1500          # measured: README, "Retrieval"
    chunk_overlap: int = 250
    index_type: str = "auto"        # "flat" (exact), "hnsw" (approximate), "auto": by corpus size (README)
    # retrieval
    k: int = 10                     # passages retrieved; their best sentences make the prompt
    candidates: int = 20            # depth of each retriever before fusion
    rrf_k: int = 60
    fusion: str = "language"        # RRF weights: "language" (by the question's language) or "equal"
    translate_query: bool = False   # English questions: also retrieve with the model's Polish translation (slower, measured: README)
    query_lexicon: bool = True      # English questions: Polish words from a dictionary (rag/lexicon.py) for BM25 and the
                                    # sentence choice, no model call; used when translate_query is off (measured: README)
    bridge_words: int = 0           # English questions: add the articles' closest words per question word (0: off)
    bridge_similarity: float = 0.7  # ... when at least this close (cosine): measured, README "Levers"
    # generation
    n_ctx: int = 4096
    n_threads: int = 0              # 0: all physical cores
    max_tokens: int = 256
    temperature: float = 0.0
    repeat_penalty: float = 1.05    # llama.cpp's penalty on tokens the answer already wrote (1: none): README "Levers"
    llm_repack: str = "auto"        # llama.cpp weight repacking: auto (off on CPUs with AMX) | on | off; rag/hardware.py
    flash_attn: bool = False        # llama.cpp flash attention: measured no faster on AVX2 (README "CPU support")
    state_cache_mb: int = 256       # saved llama.cpp states, so prompt prefixes survive other calls (0: off)
    prompt_budget: int = 100        # tokens of passage text in the prompt: measured, README "Levers"
    second_margin: float = 0.5      # the best sentence goes in alone when it scores this much above the next (0: off,
                                    # the best two always): measured, README "Levers"
    antecedents: int = 3            # a chosen sentence whose speaker is in an earlier one ("- … - dodał.") brings the
                                    # nearest earlier sentence with a name, looked for this many back (0: off): README "Levers"
    follow: bool = True             # the best sentence brings the next one of its passage when that one goes on about it
                                    # ("Oficjalnie mają oni…"): README "Levers"
    prompt_dates: bool = False      # each passage's article date in the prompt (on: worse and slower): README "Levers"
    # answering policy
    english_answers: str = "direct"  # English questions: "direct" (answer in English) or "via-polish" (in Polish, check, translate): README "Levers"
    english_names: bool = True      # English answers write the articles' names the English way ("Pieskow" -> "Peskov",
                                    # "w Pjongjangu" -> "Pyongyang"; `rag/spelling.py`): README "Levers"
    check_premise: bool = True      # refuse, naming them, when the question's names/numbers/months are in no passage
    min_similarity: float = -1.0    # refuse before answering when no retrieved sentence is this close to the
                                    # question (cosine); -1: the embedder's calibrated value (README), 0: off
    no_answer_min_p: float = 0.0    # the model's NO ANSWER counts only when its first token is at least this likely;
                                    # under it the next-best start is taken and the answer check decides (0: the
                                    # model's choice; 1: never; llama.cpp in process only): README "Levers"
    second_look: bool = False       # a refused answer is tried once more from the next-best sentences: README "Levers"
    llm_judge: bool = False         # ask the model yes/no whether its answer is supported; "no" refuses (measured: README)
    refusal_threshold: float = 0.0  # refuse answers whose evidence score is below this (eval report: the curve)
    verify_citations: bool = True
    extractive_fallback: bool = True  # answers that only restate the question become the best sentences (English: translated)
    max_question_chars: int = 2000
    profiles: dict = field(default_factory=dict)   # name -> {"llm": spec, "embedder": spec}

    def profile_names(self) -> list[str]:
        return ["default", *[n for n in self.profiles if n != "default"]]

    def with_profile(self, name: str) -> "Settings":
        if name in ("", "default") and "default" not in self.profiles:
            return self
        if name not in self.profiles:
            raise BadInput(f"unknown profile {name!r}; configured: {', '.join(self.profile_names())}")
        return dataclasses.replace(self, **_coerce(self.profiles[name], source=f"profile {name}"))


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _coerce(values: dict, source: str) -> dict:
    """Convert raw values (strings from env, TOML values) to each field's type."""
    out = {}
    for key, raw in values.items():
        if key not in _FIELDS:
            raise BadInput(f"unknown setting {key!r} in {source}; known: {', '.join(sorted(_FIELDS))}")
        default = getattr(Settings(), key)
        try:
            if isinstance(default, bool):
                value = raw if isinstance(raw, bool) else _BOOLEANS[str(raw).strip().lower()]   # "flase": an error
            elif isinstance(default, Path):
                value = Path(os.path.expanduser(str(raw)))
            elif isinstance(default, (int, float)):
                value = type(default)(raw)
            elif isinstance(default, dict):
                if not isinstance(raw, dict):
                    raise ValueError("expected a table")
                value = raw
            else:
                value = str(raw)
        except (TypeError, ValueError, KeyError):
            raise BadInput(f"setting {key!r} in {source} has a bad value {raw!r}"
                           + (": use true or false" if isinstance(default, bool) else "")) from None
        out[key] = value
    return out


def _file_settings(root: Path) -> tuple[dict, str]:
    rag_toml = root / "rag.toml"
    try:
        if rag_toml.is_file():
            return tomllib.loads(rag_toml.read_text(encoding="utf-8")), str(rag_toml)
        pyproject = root / "pyproject.toml"
        if pyproject.is_file():
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            return data.get("tool", {}).get("rag", {}), f"{pyproject} [tool.rag]"
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read settings file in {root}: {exc}") from None
    return {}, ""


def _env_settings(environ) -> dict:
    values = {}
    for key in _FIELDS:
        env_key = "RAG_" + key.upper()
        if env_key in environ and key != "profiles":
            values[key] = environ[env_key]
    return values


def load_settings(overrides: dict | None = None, root: Path | None = None, environ=None) -> Settings:
    root = Path.cwd() if root is None else root
    environ = os.environ if environ is None else environ
    merged: dict = {}
    file_values, source = _file_settings(root)
    merged.update(_coerce(file_values, source or "settings file"))
    merged.update(_coerce(_env_settings(environ), "environment"))
    merged.update(_coerce({k: v for k, v in (overrides or {}).items() if v is not None}, "command line"))
    settings = Settings(**merged)
    if settings.k < 1 or settings.k > 20:
        raise BadInput(f"k must be between 1 and 20, got {settings.k}")
    if settings.llm_repack.strip().lower() not in REPACK_SETTINGS:
        raise BadInput(f"llm_repack must be one of {', '.join(REPACK_SETTINGS)}, got {settings.llm_repack!r}")
    if settings.english_answers not in ("via-polish", "direct"):
        raise BadInput(f"english_answers must be via-polish or direct, got {settings.english_answers!r}")
    if settings.chat_concurrency < 1 or settings.server_retries < 0 or settings.server_timeout <= 0:
        raise BadInput("chat_concurrency must be at least 1, server_retries at least 0, server_timeout above 0")
    if not 0 <= settings.no_answer_min_p <= 1:
        raise BadInput(f"no_answer_min_p is a probability from 0 to 1, got {settings.no_answer_min_p}")
    if settings.chunk_overlap >= settings.chunk_size:
        raise BadInput("chunk_overlap must be smaller than chunk_size")
    return settings
