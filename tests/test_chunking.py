import pytest

from rag.articles import load_articles
from rag.chunking import chunk_articles, sentence_spans


@pytest.mark.parametrize("size, overlap", [(300, 50), (600, 100), (1200, 0)])
def test_every_chunk_is_the_exact_span_of_its_article(seeds, size, overlap):
    articles = {a.id: a for a in load_articles(seeds)}
    chunks = chunk_articles(list(articles.values()), size, overlap)
    assert len({c.id for c in chunks}) == len(chunks)
    for c in chunks:
        assert articles[c.article_id].text[c.start:c.end] == c.text
        assert len(c.text) <= size
        assert "Reklama" not in c.text and "Komentarze" not in c.text


def test_chunks_cover_the_whole_body(seeds):
    article = load_articles(seeds)[1]
    chunks = chunk_articles([article], 600, 100)
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    for s, e in article.body:
        assert all(i in covered for i in range(s, e) if not article.text[i].isspace())


def test_sentences_keep_abbreviations_and_closing_quotes():
    text = 'Zatrudni 12 tys. osób. Powiedział: „Tak.” Potem "To koniec." A dalej? Tak.'
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Zatrudni 12 tys. osób.", "Powiedział: „Tak.”", 'Potem "To koniec."', "A dalej?", "Tak."]
