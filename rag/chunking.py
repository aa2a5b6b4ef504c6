"""Split articles into chunks with langchain-text-splitters, keeping each chunk's offsets in the article.

A chunk never crosses text left out of the index (furniture, comments): the splitter runs on each
block of adjacent body paragraphs, and every chunk satisfies `article.text[start:end] == chunk.text`.
Also here: `sentence_spans`, the one sentence splitter that citations, pruning and scoring share.
"""
from __future__ import annotations

import re

from .types import Article, Chunk


def _blocks(article: Article) -> list[tuple[int, int]]:
    """Merge body spans separated only by whitespace into blocks: [(start, end)]."""
    blocks: list[list[int]] = []
    for start, end in article.body:
        if blocks and not article.text[blocks[-1][1]:start].strip():
            blocks[-1][1] = end
        else:
            blocks.append([start, end])
    return [(s, e) for s, e in blocks]


def chunk_article(article: Article, size: int, overlap: int) -> list[Chunk]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, add_start_index=True,
        separators=["\n\n", "\n", r"(?<=[.!?…])\s+", r"(?<=[;:,])\s+", " ", ""],
        is_separator_regex=True, keep_separator="end", strip_whitespace=True,
    )
    chunks = []
    for block_start, block_end in _blocks(article):
        block = article.text[block_start:block_end]
        for doc in splitter.create_documents([block]):
            start = block_start + doc.metadata["start_index"]
            end = start + len(doc.page_content)
            assert article.text[start:end] == doc.page_content, "chunk offsets drifted"
            chunks.append(Chunk(id=f"{article.id}#{len(chunks)}", article_id=article.id,
                                start=start, end=end, text=doc.page_content))
    return chunks


def chunk_articles(articles: list[Article], size: int, overlap: int) -> list[Chunk]:
    return [c for a in articles for c in chunk_article(a, size, overlap)]


# A sentence ends at . ! ? … followed by whitespace and an upper-case letter, a digit or a quote,
# or at a line break. "12 tys. północnokoreańskich" stays one sentence: lower case follows; so does
# "ok. 3 tysięcy": no sentence ends with one of these abbreviations.
_SENTENCE_END = re.compile(r"[.!?…][\"”»)]?[ \t]+(?=[\"„«(\-–A-ZĄĆĘŁŃÓŚŹŻ0-9])|\s*\n\s*")
_ABBREVIATION = re.compile(r"(?:^|[\s(])(?:ok|m\.in|tys|mln|mld|np|tzw|godz|ul|gen|płk|dr|prof|nr|wg|ws|tj|ds)\.$",
                           re.IGNORECASE)
_TERMINAL = (".", "!", "?", "”", '"', "…", "»", ")")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[(start, end)] of the sentences of `text`, whitespace trimmed.

    >>> t = "Ala ma 12 tys. kotów. Kot ma ok. 3 tys. myszy!\\nNowy akapit"
    >>> [t[s:e] for s, e in sentence_spans(t)]
    ['Ala ma 12 tys. kotów.', 'Kot ma ok. 3 tys. myszy!', 'Nowy akapit']
    """
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if "\n" not in m.group(0) and _ABBREVIATION.search(text[max(0, m.start() - 8):m.start() + 1]):
            continue
        spans.append((start, m.start() + len(m.group(0).rstrip())))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        piece = text[s:e]
        ls = len(piece) - len(piece.lstrip())
        rs = len(piece.rstrip())
        if rs > ls:
            out.append((s + ls, s + rs))
    return out


def is_heading(text: str, start: int, end: int) -> bool:
    """True when the sentence at [start, end) stands in a line that does not end like prose:
    a title or subheading ("Wojna w Ukrainie. Korea Północna wysłała żołnierzy na front").

    >>> t = "Seul wspiera Ukrainę\\nPrezydent zapowiedział wizytę. Delegacja pojedzie."
    >>> [is_heading(t, s, e) for s, e in sentence_spans(t)]
    [True, False, False]
    """
    line_end = text.find("\n", end)
    line = text[text.rfind("\n", 0, start) + 1: len(text) if line_end < 0 else line_end]
    return not line.rstrip().endswith(_TERMINAL)
