from rag.lexical import BM25, fold, tokens
from rag.retrieve import rrf


def test_polish_normalization_meets_inflections_and_spellings():
    assert fold("Żółć Łódź") == "zolc lodz"
    assert tokens("Budanow")[0] == tokens("Budanov")[0]
    assert tokens("Koreą Północną") == tokens("Korea Północna")[:1] + tokens("Północną")


def test_bm25_ranks_the_document_sharing_rare_words():
    docs = ["Kim Dzong Un spotkał się z Szojgu.", "Rosja zatrudni pracowników w Tatarstanie.", "Pogoda w Seulu."]
    bm = BM25(docs)
    assert bm.search("Gdzie Rosja zatrudni pracowników?", 3)[0][0] == 1
    assert bm.search("zupełnie obce słowa", 3) == []


def test_rrf_worked_example():
    # a: 1/61 ; b: 1/62 + 1/61 ; c: 1/62
    fused = dict(rrf([[("a", 9.0), ("b", 1.0)], [("b", 5.0), ("c", 4.0)]], rrf_k=60))
    assert abs(fused["b"] - (1 / 62 + 1 / 61)) < 1e-12
    assert abs(fused["a"] - 1 / 61) < 1e-12
    assert list(dict(rrf([[("a", 9.0), ("b", 1.0)], [("b", 5.0), ("c", 4.0)]])).keys()) == ["b", "a", "c"]


def test_hybrid_retrieval_finds_the_right_article(make_pipeline):
    from rag.retrieve import HybridRetriever

    p = make_pipeline()
    r = HybridRetriever(p.index(), p.embedder).retrieve("Ilu pracowników z Korei Północnej ma zatrudnić Rosja w Tatarstanie?", 4)
    assert r.passages[0].chunk.article_id == "001_345fe1ab6c1f8ba1"
    assert [p.rank for p in r.passages] == [1, 2, 3, 4]


class _SynonymEmbedder:
    """Words of one group share a vector; every other word gets its own random direction."""
    id, dim = "synonyms", 256
    GROUPS = [{"heads", "szef"}, {"intelligence", "wywiadu", "wywiad"}]

    def _vec(self, text):
        import hashlib

        import numpy as np
        word = text.lower()
        key = next((min(g) for g in self.GROUPS if word in g), word)
        seed = int(hashlib.md5(key.encode()).hexdigest(), 16) % 2**32
        v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_queries(self, texts):
        import numpy as np
        return np.vstack([self._vec(t) for t in texts])

    embed_passages = embed_queries


def test_bridge_words_are_the_articles_words_closest_to_the_question_words(make_pipeline):
    from rag.retrieve import bridge_words

    index = make_pipeline().index()
    found = bridge_words("Who heads the military intelligence?", index, _SynonymEmbedder(), per_word=2)
    assert "szef" in found and {"wywiadu", "wywiad"} & set(found)
    assert "who" not in found and "the" not in found                    # stopwords are never bridged
    assert bridge_words("Who heads it?", index, _SynonymEmbedder(), per_word=0) == []


def test_english_question_gets_bridged_polish_search_words(make_pipeline):
    p = make_pipeline(["NO ANSWER"], bridge_words=1)
    p._embedder = _SynonymEmbedder()
    answer = p.ask("Who heads the intelligence?")
    assert answer.translation and "szef" in answer.translation.split()


def test_the_dictionary_has_each_english_key_once_in_lower_case():
    # a key written twice in the dict literal silently drops the first entry's Polish words
    import ast
    from collections import Counter
    from pathlib import Path

    import rag.lexicon

    tree = ast.parse(Path(rag.lexicon.__file__).read_text(encoding="utf-8"))
    literal = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                   and any(getattr(t, "id", "") == "EN_PL" for t in node.targets))
    keys = [k.value for k in literal.keys]
    assert [k for k, n in Counter(keys).items() if n > 1] == []
    assert all(k == k.lower() and v for k, v in rag.lexicon.EN_PL.items())
