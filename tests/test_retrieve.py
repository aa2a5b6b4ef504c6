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
