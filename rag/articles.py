"""Load `seeds/*.txt` into `Article`s: id, title, date, and the spans of the text that are reporting.

The text is kept exactly as read so citation offsets point into the file itself. What is not
reporting is left out of `body` (and so of the index): the leading " date ..." marker, page
furniture ("Reklama", "Czytaj też", "WIDEO: …", "Autor. …", "Źródło: …") and everything from a
reader-comments header ("Komentarze (4)") on, since comments are untrusted text, not facts.

    >>> a = parse_article("x", " date 2024-10 Lead sentence.\\n\\nReklama\\n\\nBody.\\n")
    >>> a.date, [a.text[s:e] for s, e in a.body]
    ('2024-10', ['Lead sentence.', 'Body.'])
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .chunking import sentence_spans
from .errors import RagError
from .types import Article

DATE_LINE = re.compile(r"\A\s*date\s+(\d{4}-\d{2}(?:-\d{2})?)\b[ \t]*")
FURNITURE = re.compile(
    r"^(Reklama\d*|Czytaj (też|także|więcej)\b.*|WIDEO:.*|Wideo:.*|Autor\. .*|Źródło: .*|Fot\. .*|Zobacz (też|także)\b.*)$"
)
COMMENTS = re.compile(r"^Komentarze\s*\(\d+\)\s*$")


def parse_article(article_id: str, text: str) -> Article:
    body_from = 0
    date = None
    m = DATE_LINE.match(text)
    if m:
        date, body_from = m.group(1), m.end()

    spans: list[tuple[int, int]] = []
    pos = body_from
    for line in text[body_from:].splitlines(keepends=True):
        start, pos = pos, pos + len(line)
        stripped = line.strip()
        if COMMENTS.match(stripped):
            break
        if not stripped or FURNITURE.match(stripped):
            continue
        lead = len(line) - len(line.lstrip())
        spans.append((start + lead, start + lead + len(stripped)))

    title = _title(text, spans)
    return Article(
        id=article_id, title=title, date=date, text=text, body=tuple(spans),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def _title(text: str, spans: list[tuple[int, int]]) -> str:
    """A short heading line when the article opens with one, else its first sentence, shortened."""
    if not spans:
        return "(empty article)"
    first = re.sub(r"^W skrócie\s+", "", text[slice(*spans[0])])
    if len(first) <= 100 and not first.endswith("."):
        return first
    s, e = sentence_spans(first)[0]
    sentence = first[s:e]
    return sentence if len(sentence) <= 100 else sentence[:97].rsplit(" ", 1)[0] + "…"


def load_articles(seeds_dir: Path) -> list[Article]:
    """Every `*.txt` in `seeds_dir`, sorted by id. Unreadable or empty files are a clear error."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise RagError(f"no articles folder at {seeds_dir}: create it or set RAG_SEEDS_DIR")
    articles, seen = [], {}
    for path in sorted(seeds_dir.glob("*.txt")):
        article = read_article(path)
        if article.sha256 in seen:
            raise RagError(f"{path.name} has the same content as {seen[article.sha256]}: remove one of them")
        seen[article.sha256] = path.name
        articles.append(article)
    if not articles:
        raise RagError(f"no *.txt articles in {seeds_dir}: add some or set RAG_SEEDS_DIR")
    return articles


def read_article(path: Path) -> Article:
    try:
        # newline="" keeps "\r\n" as is, so offsets match the file's characters
        with open(path, encoding="utf-8", newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise RagError(f"{path.name} is not UTF-8 text (byte {exc.start}): re-save it as UTF-8") from None
    except OSError as exc:
        raise RagError(f"cannot read {path}: {exc.strerror}") from None
    article = parse_article(path.stem, text)
    if not article.body:
        raise RagError(f"{path.name} has no article text: fill it in or remove it")
    return article
