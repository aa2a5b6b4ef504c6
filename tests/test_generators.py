"""The llama.cpp generator's locking, with a stand-in for llama_cpp.Llama (no model file needed)."""
import threading

from rag.generators import LlamaCppGenerator


class FakeLlama:
    n_tokens = 0

    def create_chat_completion(self, messages, max_tokens, stream, **kw):
        for word in ["one", " two", " three"]:
            self.n_tokens += 1
            yield {"choices": [{"delta": {"content": word}}]}

    def tokenize(self, data, add_bos=False, special=True):
        return data.split()


def _generator():
    g = LlamaCppGenerator("/nonexistent.gguf", "fake")
    g._llm = FakeLlama()
    return g


def test_a_stream_closed_from_another_thread_frees_the_model():
    g = _generator()
    stream = g.stream([{"role": "user", "content": "q"}], 8)
    assert next(stream) == "one"
    closer = threading.Thread(target=stream.close)      # what a server's Stop does
    closer.start()
    closer.join(timeout=5)
    # the next question, from yet another worker thread, is not blocked
    out = []
    worker = threading.Thread(target=lambda: out.append("".join(g.stream([{"role": "user", "content": "q"}], 8))),
                              daemon=True)     # with the old RLock this thread blocked forever
    worker.start()
    worker.join(timeout=5)
    assert out == ["one two three"]


def test_two_threads_are_served_one_after_the_other():
    g = _generator()
    inside, overlaps = [], []

    def run():
        for _ in g.stream([{"role": "user", "content": "q"}], 8):
            inside.append(1)
            if len(inside) > 1:
                overlaps.append(1)
            inside.pop()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    assert not overlaps and g.last_usage()[1] == 3


def test_the_repeat_penalty_setting_reaches_llama_cpp_and_names_the_configuration():
    from rag.config import Settings
    from rag.evaluate import configuration_name

    seen = []

    class Recording(FakeLlama):
        def create_chat_completion(self, messages, max_tokens, stream, **kw):
            seen.append(kw["repeat_penalty"])
            return super().create_chat_completion(messages, max_tokens, stream, **kw)

    for penalty in (1.0, 1.05):
        g = LlamaCppGenerator("/nonexistent.gguf", "fake", repeat_penalty=penalty)
        g._llm = Recording()
        "".join(g.stream([{"role": "user", "content": "q"}], 8))
    assert seen == [1.0, 1.05]
    default, other = Settings(), Settings(repeat_penalty=Settings.repeat_penalty + 0.1)
    assert "-rp" not in configuration_name(default) and "-rp" in configuration_name(other)


def test_the_flash_attention_plan_reaches_llama_cpp(monkeypatch):
    import llama_cpp

    from rag.hardware import LoadPlan

    seen = []

    class Loading(FakeLlama):
        def __init__(self, **kw):
            seen.append(kw["flash_attn"])
            super().__init__()

        def set_cache(self, cache):
            pass

    monkeypatch.setattr(llama_cpp, "Llama", Loading)
    for on in (True, False):
        LlamaCppGenerator("/nonexistent.gguf", "fake", plan=LoadPlan(False, "test", on)).llm
    assert seen == [True, False]


def test_a_first_word_reaches_llama_cpp_as_a_logits_processor_that_rules_it_out_when_unsure():
    import numpy as np

    from rag.generators import FirstWord

    seen = []

    class Logits(FakeLlama):
        def create_chat_completion(self, messages, max_tokens, stream, **kw):
            seen.append(kw["logits_processor"])
            return super().create_chat_completion(messages, max_tokens, stream, **kw)

    g = LlamaCppGenerator("/nonexistent.gguf", "fake")
    g._llm = Logits()
    "".join(g.stream([{"role": "user", "content": "q"}], 8))
    assert seen == [None] and g.first_p() is None                # no first word: nothing measured
    g._llm.tokenize = lambda data, add_bos=False, special=True: [0]      # NO ANSWER's first token is id 0
    for min_p, ruled_out in ((0.5, True), (0.1, False)):
        "".join(g.stream([{"role": "user", "content": "q"}], 8, first=FirstWord("NO ANSWER", min_p)))
        processor = seen[-1][0]
        logits = np.log(np.array([0.3, 0.7], dtype=np.float32))
        out = processor([], logits.copy())
        assert abs(g.first_p() - 0.3) < 1e-6 and (out[0] < -1e20) == ruled_out
        again = processor([], logits.copy())                     # later tokens are left alone
        assert again[0] == logits[0]
