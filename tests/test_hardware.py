"""How the GGUF is loaded for a given CPU: the features are fed in, never read from this machine."""
import pytest

from rag.config import load_settings
from rag.errors import BadInput
from rag.hardware import CpuInfo, parse_cpuinfo, plan_load

SAPPHIRE_RAPIDS = ("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz\n"
                   "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8\n\n"
                   "processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz\nflags\t\t: fpu\n")
EPYC = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx avx2 fma\n"
ICE_LAKE = "model name\t: Intel(R) Xeon(R) Platinum 8375C\nflags\t\t: avx avx2 fma avx512f avx512_vnni\n"


def test_amx_cpu_loads_without_repacking():
    cpu = parse_cpuinfo(SAPPHIRE_RAPIDS)
    assert cpu.model.startswith("Intel(R) Xeon(R) Platinum 8481C") and cpu.amx
    assert "AMX" in cpu.features() and "AVX-512" in cpu.features()
    plan = plan_load("auto", cpu)
    assert plan.repack is False and "AMX" in plan.reason


@pytest.mark.parametrize("cpuinfo", [EPYC, ICE_LAKE])
def test_x86_cpu_without_amx_loads_without_repacking_too(cpuinfo):
    """Measured no faster there (README), so the safe choice costs nothing."""
    cpu = parse_cpuinfo(cpuinfo)
    assert not cpu.amx
    plan = plan_load("auto", cpu)
    assert plan.repack is False and "x86-64" in plan.reason


def test_arm_keeps_llama_cpps_default():
    cpu = parse_cpuinfo("processor\t: 0\nFeatures\t: fp asimd sve i8mm\n", arch="aarch64")
    assert plan_load("auto", cpu).repack is True


def test_unknown_cpu_stays_on_the_safe_side():
    assert plan_load("auto", CpuInfo("unknown", frozenset())).repack is False


def test_the_setting_overrides_auto_and_says_so():
    amx = parse_cpuinfo(SAPPHIRE_RAPIDS)
    forced = plan_load("on", amx)
    assert forced.repack is True and "AMX" in forced.reason        # allowed, with a warning in the note
    assert plan_load("off", parse_cpuinfo(EPYC)).repack is False
    assert plan_load(" AUTO ", amx).repack is False


def test_bad_setting_is_one_clear_line(tmp_path):
    with pytest.raises(BadInput, match="llm_repack must be one of auto, on, off"):
        plan_load("sometimes", parse_cpuinfo(EPYC))
    with pytest.raises(BadInput, match="llm_repack"):
        load_settings(root=tmp_path, environ={"RAG_LLM_REPACK": "maybe"})
    assert load_settings(root=tmp_path, environ={"RAG_LLM_REPACK": "off"}).llm_repack == "off"


def test_generator_passes_the_plan_to_llama_cpp(monkeypatch):
    """The load really sets use_extra_bufts from the plan, and puts llama-cpp-python back as it was."""
    native = pytest.importorskip("llama_cpp.llama_cpp")
    import llama_cpp

    from rag.generators import LlamaCppGenerator
    from rag.hardware import LoadPlan

    seen = []

    class RecordingLlama:
        def __init__(self, **kwargs):
            seen.append(native.llama_model_default_params().use_extra_bufts)

        def set_cache(self, cache):
            pass

    monkeypatch.setattr(llama_cpp, "Llama", RecordingLlama)
    original = native.llama_model_default_params
    for repack in (False, True):
        g = LlamaCppGenerator("/nonexistent.gguf", "fake", plan=LoadPlan(repack, "test"), state_cache_mb=0)
        g.llm
        assert g.load_note == "repack test"
    assert seen == [False, True]
    assert native.llama_model_default_params is original


def test_flash_attention_is_off_unless_set_and_then_said():
    cpu = parse_cpuinfo(EPYC)
    assert plan_load("auto", cpu).flash_attn is False and "flash" not in plan_load("auto", cpu).reason
    plan = plan_load("auto", cpu, True)
    assert plan.flash_attn is True and plan.repack is False and "flash attention on" in plan.reason
