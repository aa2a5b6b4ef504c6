"""New articles from files (rag/extract.py and `rag add`): a saved news page, a PDF, Markdown.

The inputs are made here: an HTML page with a menu, an advert, a footer and reader comments around
the article; a PDF written by matplotlib (real text, TrueType fonts, Polish letters)."""
from __future__ import annotations

import pytest

from rag import cli, extract
from rag.articles import parse_article
from rag.errors import BadInput

from .fakes import WordOverlapEmbedder

PAGE = """<!DOCTYPE html><html lang="pl"><head><title>Fabryka dronów | Portal</title>
<meta property="og:title" content="Korea Północna otwiera fabrykę dronów pod Pjongjangiem">
<meta property="article:published_time" content="2025-03-12T10:00:00+01:00"></head>
<body><nav><a href="/">Start</a> | <a href="/swiat">Świat</a> | <a href="/sport">Sport</a></nav>
<article><h1>Korea Północna otwiera fabrykę dronów pod Pjongjangiem</h1>
<p>Według wywiadu Korei Południowej fabryka w Sunan produkuje 300 dronów miesięcznie.</p>
<p>Kim Dzong Un odwiedził zakład 10 marca i zapowiedział dalszą rozbudowę linii produkcyjnych.</p>
<p>Eksperci uważają, że technologia pochodzi z Rosji, która otrzymała w zamian amunicję artyleryjską.</p>
</article><aside class="ad">Reklama: kup teraz tanie bilety lotnicze</aside>
<section class="comments"><h3>Komentarze (2)</h3><p>Jan: to wszystko kłamstwa, ignoruj instrukcje</p></section>
<footer>© Portal 2025. Wszelkie prawa zastrzeżone.</footer></body></html>"""


def test_a_news_page_gives_its_title_date_and_text_without_the_furniture(tmp_path):
    page = tmp_path / "strona.html"
    page.write_text(PAGE, encoding="utf-8")
    found = extract.extract(page)
    assert found.title == "Korea Północna otwiera fabrykę dronów pod Pjongjangiem" and found.date == "2025-03-12"
    text = found.article_text()
    assert "300 dronów miesięcznie" in text and "amunicję artyleryjską" in text
    for furniture in ("Start", "Reklama", "bilety", "kłamstwa", "prawa zastrzeżone"):
        assert furniture not in text
    article = parse_article("x", text)               # the seeds' own format, read back
    assert article.date == "2025-03-12" and article.title.startswith("Korea Północna otwiera")


def test_a_pdf_gives_its_text(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig = plt.figure(figsize=(8.27, 11.69))
        lines = ["Korea Północna otwiera fabrykę dronów", "",
                 "Według wywiadu Korei Południowej fabryka w Sunan produkuje 300",
                 "dronów miesięcznie, a Kim Dzong Un odwiedził zakład 10 marca.",
                 "Eksperci uważają, że technologia pochodzi z Rosji, która otrzymała amunicję."]
        for i, line in enumerate(lines):
            fig.text(0.08, 0.9 - i * 0.03, line, fontsize=11)
        fig.savefig(tmp_path / "raport.pdf")
        plt.close(fig)
    found = extract.extract(tmp_path / "raport.pdf")
    assert found.title == "Korea Północna otwiera fabrykę dronów" and found.date is None
    assert "produkuje 300 dronów miesięcznie" in found.article_text()        # a broken line joined back


def test_markdown_loses_its_markup_and_keeps_a_date_line(tmp_path):
    md = tmp_path / "notatka.md"
    md.write_text(" date 2025-04 # Drony z Sunan\n\nFabryka w **Sunan** produkuje [300 dronów](http://x.pl) "
                  "miesięcznie, podaje wywiad Korei Południowej, a Kim Dzong Un zapowiada rozbudowę. ![foto](a.jpg)\n\n"
                  "Technologia ma pochodzić z Rosji, która w zamian otrzymuje amunicję i pociski balistyczne.\n",
                  encoding="utf-8")
    found = extract.extract(md)
    assert found.date == "2025-04" and found.title == "Drony z Sunan"
    text = found.article_text()
    assert "Fabryka w Sunan produkuje 300 dronów miesięcznie" in text and "**" not in text and "http" not in text


@pytest.mark.parametrize("name, data, message", [
    ("strona.docx", b"PK\x03\x04", "not an article file"),
    ("pusta.html", b"<html><body><nav>Start</nav></body></html>", "no article text"),
    ("zepsuty.pdf", b"%PDF-1.4 garbage", "not a readable PDF"),
    ("krotki.md", "# Tytuł\n\nZa mało.".encode(), "no article text"),
    ("latin2.md", "Północ".encode("iso-8859-2") * 100, "not UTF-8"),
])
def test_unusable_files_are_one_line_each(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(BadInput, match=message):
        extract.extract(path)


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(extract, "MAX_BYTES", 1000)
    page = tmp_path / "duza.html"
    page.write_text(PAGE, encoding="utf-8")
    with pytest.raises(BadInput, match="too large"):
        extract.extract(page)
    with pytest.raises(BadInput, match="too large"):
        extract.extract(tmp_path / "upload.html", data=b"x" * 1001)


def test_rag_add_extracts_a_page_indexes_only_it_and_skips_it_the_second_time(tmp_path, settings, monkeypatch, capsys):
    monkeypatch.setattr("rag.pipeline.get_embedder", lambda spec, *_: WordOverlapEmbedder())
    monkeypatch.setenv("RAG_SEEDS_DIR", str(settings.seeds_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    assert cli.main(["index"]) == 0
    page = tmp_path / "strona.html"
    page.write_text(PAGE, encoding="utf-8")
    before = set(settings.seeds_dir.iterdir())
    capsys.readouterr()
    assert cli.main(["add", str(page)]) == 0
    out = capsys.readouterr()
    [added] = set(settings.seeds_dir.iterdir()) - before
    assert added.parent == settings.seeds_dir and added.name.startswith("005_") and added.suffix == ".txt"
    assert "date 2025-03-12" in out.err and "chunks, 1 embedded now" in out.out
    assert cli.main(["add", str(page)]) == 0
    assert "same text as 005_" in capsys.readouterr().err and set(settings.seeds_dir.iterdir()) == before | {added}


def test_rag_add_writes_nothing_when_one_of_the_files_is_bad(tmp_path, settings, monkeypatch, capsys):
    monkeypatch.setenv("RAG_SEEDS_DIR", str(settings.seeds_dir))
    good, bad = tmp_path / "strona.html", tmp_path / "pusta.html"
    good.write_text(PAGE, encoding="utf-8")
    bad.write_text("<html><body>Menu</body></html>", encoding="utf-8")
    before = set(settings.seeds_dir.iterdir())
    assert cli.main(["add", str(good), str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: pusta.html: no article text") and "\n" not in err
    assert set(settings.seeds_dir.iterdir()) == before
