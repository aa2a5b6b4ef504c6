import pytest

from rag.articles import load_articles, parse_article, read_article
from rag.errors import RagError


def test_seed_articles_load_with_dates_titles_and_no_furniture(seeds):
    articles = {a.id: a for a in load_articles(seeds)}
    assert len(articles) == 5
    a1 = articles["001_345fe1ab6c1f8ba1"]
    assert a1.date == "2025-11-14"
    assert a1.title.startswith("Rosja planuje zatrudnić 12 tys.")
    assert articles["003_2a17d32c4422d886"].date == "2024-10"
    assert articles["002_1398484bcac3d60a"].title == "Kim Dzong Un zapewnia o bezwarunkowym wsparciu dla Rosji"
    for a in articles.values():
        body = "\n".join(a.text[s:e] for s, e in a.body)
        assert " date " not in body[:10]
        for furniture in ("Reklama", "Czytaj też", "WIDEO:", "Autor. kremlin.ru", "Źródło: Reuters"):
            assert furniture not in body


def test_reader_comments_are_never_indexed_text(seeds):
    a2 = {a.id: a for a in load_articles(seeds)}["002_1398484bcac3d60a"]
    body = "\n".join(a2.text[s:e] for s, e in a2.body)
    assert "Komentarze" not in body
    assert "rosyjskaRuletkaTrwa" not in body and "Chyżwar" not in body
    assert a2.text[a2.body[-1][0]:a2.body[-1][1]].startswith("Otwarte pozostają jednak kwestie")


def test_body_spans_point_into_the_raw_text():
    text = " date 2024-10 Lead.\r\n\r\nReklama\r\nBody line.\r\n"
    a = parse_article("x", text)
    assert [text[s:e] for s, e in a.body] == ["Lead.", "Body line."]


@pytest.mark.parametrize("content, message", [
    (b"", "has no article text"),
    (b"Reklama\n", "has no article text"),
    (b"\xff\xfe zaz\xf3\xb3\xe6", "not UTF-8"),
])
def test_bad_seed_files_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(RagError, match=message):
        read_article(path)


def test_duplicate_article_is_refused(seeds):
    (seeds / "999_copy.txt").write_bytes((seeds / "000_43e3bd47b9888b39.txt").read_bytes())
    with pytest.raises(RagError, match="same content"):
        load_articles(seeds)


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(RagError, match="RAG_SEEDS_DIR"):
        load_articles(tmp_path / "nope")
    with pytest.raises(RagError, match="no \\*.txt"):
        load_articles(tmp_path)
