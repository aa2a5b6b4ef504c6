"""What CPU this is, and how the GGUF weights may be loaded on it.

llama.cpp can repack a model's weights at load time into "extra buffer types" laid out for the
CPU's matrix units: AMX tiles on Intel Xeons that report AMX, and an interleaved layout (CPU_REPACK)
for AVX2/AVX-512. On AMX CPUs the AMX path crashes in the first decode with Q4_K/Q6_K weights
(llama.cpp issue 20824, no fix upstream). llama-cpp-python has one switch for both kinds
(`use_extra_bufts`). On an AVX2 CPU (AMD EPYC) repacking made prompts slower and loading longer, with
generation a little faster (`rag bench --load-modes`, README "CPU support"); the prompt is most of
the time to first token, so `llm_repack = "auto"` leaves it off on every x86-64 CPU, and keeps
llama.cpp's default (on) elsewhere, e.g. on ARM.

Flash attention (llama.cpp's fused attention kernel, setting `flash_attn`) is off by default: on
that AVX2 CPU it measured no faster (README "CPU support"), and on some Arm server CPUs it halves
prompt speed (llama.cpp issue 27086); `rag bench --load-modes` measures it on the CPU at hand.

This module only reads `/proc/cpuinfo`-style text and decides; it loads nothing.
"""
from __future__ import annotations

import platform
from dataclasses import dataclass, replace

from .errors import BadInput

REPACK_SETTINGS = ("auto", "on", "off")


@dataclass(frozen=True)
class CpuInfo:
    model: str                  # "Intel(R) Xeon(R) Platinum 8480+", "AMD EPYC", ...
    flags: frozenset[str]       # the kernel's feature flags, e.g. {"avx2", "avx512f", "amx_tile"}
    arch: str = "x86_64"

    @property
    def amx(self) -> bool:
        return bool(self.flags & {"amx_tile", "amx_int8", "amx_bf16"})

    def features(self) -> str:
        """The features that decide llama.cpp's kernels, e.g. 'AVX2 AVX-512 AMX'.

        >>> CpuInfo("x", frozenset({"avx", "avx2", "fma"})).features()
        'AVX AVX2 FMA'
        """
        named = [("avx", "AVX"), ("avx2", "AVX2"), ("fma", "FMA"), ("avx512f", "AVX-512"),
                 ("avx512_vnni", "AVX-512 VNNI"), ("avx512_bf16", "AVX-512 BF16"), ("avx_vnni", "AVX-VNNI")]
        found = [label for flag, label in named if flag in self.flags]
        amx = sorted(f for f in self.flags if f.startswith("amx"))
        if amx:
            found.append("AMX (" + ", ".join(amx) + ")")
        return " ".join(found) or "none of AVX/AVX2/AVX-512/AMX"


def parse_cpuinfo(text: str, arch: str = "x86_64") -> CpuInfo:
    """The first processor's model and flags from /proc/cpuinfo text.

    >>> info = parse_cpuinfo("model name\\t: Intel Xeon\\nflags\\t\\t: fpu avx2 amx_tile amx_int8\\n")
    >>> info.model, info.amx
    ('Intel Xeon', True)
    """
    model, flags = "", ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = value
    return CpuInfo(model=model or "unknown", flags=frozenset(flags.split()), arch=arch)


def this_cpu() -> CpuInfo:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            return parse_cpuinfo(fh.read(), platform.machine())
    except OSError:     # not Linux: no flags known, so "auto" stays on the safe side below
        return CpuInfo(model=platform.processor() or "unknown", flags=frozenset(), arch=platform.machine())


@dataclass(frozen=True)
class LoadPlan:
    repack: bool        # llama.cpp's use_extra_bufts
    reason: str         # one line for the answer's models block and `rag doctor`
    flash_attn: bool = False     # llama.cpp's flash attention


def plan_load(setting: str, cpu: CpuInfo, flash: bool = False) -> LoadPlan:
    """How to load a GGUF on this CPU for `llm_repack` = auto | on | off (and `flash_attn`, `flash`).

    >>> plan_load("auto", CpuInfo("Xeon", frozenset({"avx2", "amx_tile", "amx_int8"}))).repack
    False
    >>> plan_load("auto", CpuInfo("EPYC", frozenset({"avx2"}))).repack
    False
    >>> plan_load("auto", CpuInfo("Neoverse-V2", frozenset({"asimd", "sve"}), arch="aarch64")).repack
    True
    """
    plan = _plan_repack(setting, cpu)
    return replace(plan, flash_attn=flash, reason=plan.reason + ("; flash attention on: set by flash_attn" if flash else ""))


def _plan_repack(setting: str, cpu: CpuInfo) -> LoadPlan:
    setting = (setting or "auto").strip().lower()
    if setting not in REPACK_SETTINGS:
        raise BadInput(f"llm_repack must be one of {', '.join(REPACK_SETTINGS)}, got {setting!r}")
    if setting == "on":
        warn = " (the CPU reports AMX: llama.cpp may crash, see `rag doctor`)" if cpu.amx else ""
        return LoadPlan(True, "on: set by llm_repack" + warn)
    if setting == "off":
        return LoadPlan(False, "off: set by llm_repack")
    if cpu.amx:
        return LoadPlan(False, "off: auto, the CPU reports AMX (llama.cpp's AMX repack crashes, issue 20824)")
    if cpu.arch in ("x86_64", "AMD64", "i686", "x86") or not cpu.flags:
        return LoadPlan(False, "off: auto, x86-64 without AMX (repacking measured no faster, README)")
    return LoadPlan(True, f"on: auto, llama.cpp's default on {cpu.arch}")
