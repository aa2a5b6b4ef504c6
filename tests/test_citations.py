from rag.citations import cite, drop_invalid_markers, marker_numbers, parse_markers
from rag.types import Chunk, Passage

TEXT = "Rosja zatrudni 12 tys. pracowników. Pracują w Ałabudze w Tatarstanie. Drony to Shahed."


def _passages():
    c1 = Chunk("a#0", "a", 100, 100 + len(TEXT), TEXT)
    c2 = Chunk("b#0", "b", 0, 20, "Szojgu był w Pjongjangu")
    return [Passage(1, c1, 0.5, "Tytuł A", "2025-11-14", TEXT), Passage(2, c2, 0.4, "Tytuł B", None, c2.text)]


def test_marker_forms():
    assert marker_numbers("a [1] b [1, 2] c [3][4] d [5; 6]") == [1, 1, 2, 3, 4, 5, 6]
    assert parse_markers("Jeden [1]. Dwa. [2] Trzy [1][2].") == [
        ("Jeden [1].", [1]), ("Dwa [2].", [2]), ("Trzy [1][2].", [1, 2])]


def test_markers_pointing_nowhere_are_dropped():
    assert drop_invalid_markers("Fakt [7]. Inny [1, 9].", 2) == "Fakt. Inny [1]."
    answer, cites = cite("Fakt [0]. Pracują w Tatarstanie [1] [3].", _passages())
    assert [c.marker for c in cites] == [1]
    assert "[3]" not in answer and "[0]" not in answer


def test_citation_quotes_the_best_matching_sentence_with_article_offsets():
    _, cites = cite("Workers go to Tatarstan and Ałabuga [1]. Shoigu visited [2].", _passages())
    c = cites[0]
    assert c.quote == "Pracują w Ałabudze w Tatarstanie."
    assert (c.start, c.end) == (100 + TEXT.index(c.quote), 100 + TEXT.index(c.quote) + len(c.quote))
    assert (c.article_id, c.title, c.date) == ("a", "Tytuł A", "2025-11-14")
    assert cites[1].chunk_id == "b#0"


def test_citation_quotes_a_sentence_the_prompt_showed():
    # the prompt showed only the last sentence of the chunk: the quote is that one, though another
    # sentence of the chunk shares more words with the answer
    c1 = Chunk("a#0", "a", 100, 100 + len(TEXT), TEXT)
    shown = Passage(1, c1, 0.5, "Tytuł A", None, "Drony to Shahed.")
    _, cites = cite("Pracują w Ałabudze w Tatarstanie, drony Shahed [1].", [shown])
    assert cites[0].quote == "Drony to Shahed."
    whole = Passage(1, c1, 0.5, "Tytuł A", None, TEXT)
    assert cite("Pracują w Ałabudze w Tatarstanie, drony Shahed [1].", [whole])[1][0].quote == \
        "Pracują w Ałabudze w Tatarstanie."
