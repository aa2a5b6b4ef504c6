"""HTML for the chat: the checked answer with [n] footnotes, cited passages with the quote marked,
and the list of retrieved passages. Pure functions of `rag.types` values, tested without a browser.

Everything that comes from an article or from the model goes through `escape_text()`: HTML is
escaped and markdown link brackets become entities, so `<script>`, `<img onerror=...>` and
`[x](javascript:...)` stay visible text. The chat shows this HTML as is (markdown rendering off).

A footnote is a `<details>` element: clicking `[n]` opens the cited passage under the sentence.
That needs no JavaScript and survives Gradio's HTML sanitizer.
"""
from __future__ import annotations

import html
import re

from rag.citations import MARKER, marker_numbers
from rag.lexical import tokens
from rag.types import Answer, Citation, Passage

# Styles for the classes below; app.py puts them in a <style> element of the page.
CSS = """
details.fn { display: inline; }
details.fn > summary { display: inline; cursor: pointer; list-style: none; font-weight: 600;
  color: var(--color-accent, #2563eb); }
details.fn > summary::-webkit-details-marker { display: none; }
details.fn[open] > .passage { display: block; }
.passage { margin: .4em 0; padding: .5em .75em; border-left: 3px solid var(--color-accent, #2563eb);
  background: var(--background-fill-secondary, #f6f6f6); font-size: .92em; font-weight: normal; }
.passage .meta, .source .meta { font-size: .9em; opacity: .85; margin-bottom: .25em; }
.passage mark, .source mark { background: #fde047; color: #111; padding: 0 .1em; }
.unverified { color: #b45309; font-size: .8em; font-weight: 600; margin-left: .2em; }
.rag-error { color: #b91c1c; }
.streaming .cursor { opacity: .6; }
.answer .scope { margin-top: .5em; font-size: .85em; opacity: .8; font-style: italic; }
.sources .source { margin: .5em 0; padding: .5em .75em; border: 1px solid var(--border-color-primary, #ddd);
  border-radius: 6px; }
.sources .source.cited { border-left: 4px solid #16a34a; }
.sources .cited-as { color: #16a34a; font-weight: 600; }
"""


def escape_text(text: str) -> str:
    """Text from an article or the model as inert HTML; line breaks kept.

    >>> escape_text('<img src=x onerror=alert(1)> [x](javascript:alert(1))')
    '&lt;img src=x onerror=alert(1)&gt; &#91;x&#93;(javascript:alert(1))'
    """
    # brackets as entities: even if markdown were turned on, no [text](url) or ![img](url) could form
    return html.escape(text).replace("[", "&#91;").replace("]", "&#93;").replace("\n", "<br>")


def highlight(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` escaped, with each (start, end) span of it (offsets into `text`) wrapped in <mark>.

    >>> highlight("a <b> c", [(2, 5)])
    'a <mark>&lt;b&gt;</mark> c'
    """
    out, pos = [], 0
    for start, end in sorted(spans):
        start, end = max(start, pos), min(end, len(text))   # overlapping or out-of-range spans are clipped
        if start >= end:
            continue
        out += [escape_text(text[pos:start]), "<mark>", escape_text(text[start:end]), "</mark>"]
        pos = end
    out.append(escape_text(text[pos:]))
    return "".join(out)


def quote_span(passage: Passage, citation: Citation) -> tuple[int, int]:
    """Offsets of the citation's quote within the passage's chunk (citations hold article offsets)."""
    chunk = passage.chunk
    start, end = citation.start - chunk.start, citation.end - chunk.start
    if chunk.text[start:end] != citation.quote:         # should not happen; find the quote rather than mark the wrong text
        start = chunk.text.find(citation.quote)
        end = start + len(citation.quote) if start >= 0 else -1
    return start, end


def _meta(title: str, date: str | None) -> str:
    when = f" · {escape_text(date)}" if date else ""
    return f"<b>{escape_text(title or 'untitled')}</b>{when}"


def _unverified(citations: list[Citation]) -> str:
    if all(c.supported for c in citations):
        return ""
    return '<span class="unverified" title="the support check could not confirm this citation">unverified</span>'


def render_passage(passage: Passage, citations: list[Citation]) -> str:
    """The passage's whole chunk text with the quotes of `citations` marked, under its title and date."""
    spans = [quote_span(passage, c) for c in citations if c.chunk_id == passage.chunk.id]
    return (f'<div class="passage"><div class="meta">{_meta(passage.title, passage.date)}{_unverified(citations)}'
            f'</div><div class="text">{highlight(passage.chunk.text, spans)}</div></div>')


def render_footnote(n: int, passage: Passage, citations: list[Citation]) -> str:
    return (f'<details class="fn"><summary title="show the source">[{n}]{_unverified(citations)}</summary>'
            f'{render_passage(passage, citations)}</details>')


_MARKERS_THEN_PUNCT = re.compile(rf"(?P<markers>(?:\s*{MARKER.pattern})+)(?P<punct>[.!?,;:])")


def _closest(citations: list[Citation], claim: str) -> list[Citation]:
    """The citation whose quote shares most words with the claim: when two sentences cite the same
    passage, the pipeline makes one citation per sentence and each [n] should open on its own quote."""
    if len(citations) <= 1:
        return citations
    words = set(tokens(claim))
    return [max(citations, key=lambda c: len(words & set(tokens(c.quote))))]   # max keeps the first on ties


def render_answer(answer: Answer) -> str:
    """The checked answer; each [n] that has a citation becomes a footnote opening passage n."""
    scope = f'<div class="scope">{escape_text(answer.scope)}</div>' if answer.scope else ""
    if answer.refused:
        return f'<div class="answer refused">{escape_text(answer.answer)}{scope}</div>'
    by_marker: dict[int, list[Citation]] = {}     # n -> the citations made for [n] (one per cited sentence)
    for c in answer.citations:
        by_marker.setdefault(c.marker, []).append(c)
    passages = {p.chunk.id: p for p in answer.passages}
    # "claim [1]." -> "claim. [1]": an opened footnote is a block, and a full stop after it would dangle
    text = _MARKERS_THEN_PUNCT.sub(r"\g<punct>\g<markers>", answer.answer)
    out, pos, claim = [], 0, ""
    for m in MARKER.finditer(text):
        claim = text[pos:m.start()] or claim                # "[1][2]": the second closes the same claim
        out.append(escape_text(text[pos:m.start()]))
        for n in marker_numbers(m.group(0)):
            cites = _closest(by_marker.get(n, []), claim)
            passage = passages.get(cites[0].chunk_id) if cites else None
            out.append(render_footnote(n, passage, cites) if passage else escape_text(f"[{n}]"))
        pos = m.end()
    out.append(escape_text(text[pos:]))
    return f'<div class="answer">{"".join(out)}{scope}</div>'


CURSOR = '<span class="cursor">▌</span>'


def render_streaming(text: str, status: str = "") -> str:
    """The model's text while it writes (markers not yet checked), with a cursor."""
    shown = escape_text(text) if text else f"<i>{escape_text(status or 'searching the articles…')}</i>"
    return f'<div class="streaming">{shown}{CURSOR}</div>'


def render_error(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "something went wrong"
    return f'<div class="rag-error">⚠ {escape_text(line)}</div>'


def render_sources(answer: Answer | None, show: bool = True) -> str:
    """The retrieved passages (rank, title, date, score, text); cited ones marked, quotes highlighted."""
    if not show or answer is None or not answer.passages:
        return ""
    items = []
    for p in answer.passages:
        cites = [c for c in answer.citations if c.chunk_id == p.chunk.id]
        markers = ", ".join(f"[{n}]" for n in dict.fromkeys(c.marker for c in cites))
        cited = f' · <span class="cited-as">cited as {markers}</span>{_unverified(cites)}' if cites else ""
        spans = [quote_span(p, c) for c in cites]
        items.append(f'<div class="source{" cited" if cites else ""}"><div class="meta">#{p.rank} '
                     f'{_meta(p.title, p.date)} · score {p.score:.4f}{cited}</div>'
                     f'<div class="text">{highlight(p.chunk.text, spans)}</div></div>')
    return f'<div class="sources"><h3>Retrieved passages</h3>{"".join(items)}</div>'


# -- the articles panel -----------------------------------------------------------------------------------

ARTICLES_CSS = """
.articles table { width: 100%; border-collapse: collapse; font-size: .92em; }
.articles th, .articles td { text-align: left; padding: .25em .5em; border-bottom: 1px solid var(--border-color-primary, #ddd); }
.article-text { white-space: normal; line-height: 1.5; }
.article-text .left-out { opacity: .55; font-style: italic; }
.article-text .left-out-label { font-size: .8em; font-weight: 600; opacity: .8; margin-right: .3em; }
"""


def render_article_list(articles, passages: dict[str, int], cited: dict[str, int]) -> str:
    """Every article: title, date, how many passages it has in the index, how often this
    conversation cited it."""
    rows = "".join(
        f"<tr><td>{escape_text(a.title)}</td><td>{escape_text(a.date or '-')}</td>"
        f"<td>{passages.get(a.id, 0)}</td><td>{cited.get(a.id, 0)}</td><td><code>{escape_text(a.id)}</code></td></tr>"
        for a in articles)
    return ('<div class="articles"><table><tr><th>title</th><th>date</th><th>passages</th>'
            f'<th>cited here</th><th>id</th></tr>{rows}</table></div>')


def render_article(article, cited_spans: list[tuple[int, int]]) -> str:
    """The article's whole text: what is indexed as is, with the spans this conversation cited
    marked; what is left out (the date line, page furniture, reader comments) dimmed and labelled."""
    parts, pos = [], 0
    comments_from = _comments_start(article)
    for start, end in list(article.body) + [(len(article.text), len(article.text))]:
        cuts = [pos, *([comments_from] if comments_from is not None and pos < comments_from < start else []), start]
        for a, b in zip(cuts, cuts[1:]):          # a gap running into the comments is two parts
            gap = article.text[a:b]
            if gap.strip():
                label = "reader comments, not indexed" if comments_from is not None and a >= comments_from \
                    else "left out: not reporting"
                parts.append(f'<span class="left-out"><span class="left-out-label">[{label}]</span>'
                             f'{escape_text(gap.strip())}</span><br>')
            else:
                parts.append(escape_text(gap))
        if start < end:
            inside = [(max(s, start) - start, min(e, end) - start) for s, e in cited_spans if s < end and e > start]
            parts.append(highlight(article.text[start:end], inside))
        pos = end
    head = f"<h3>{escape_text(article.title)}</h3><div class='meta'>{escape_text(article.date or 'no date')} · " \
           f"<code>{escape_text(article.id)}</code></div>"
    return f'<div class="article-text">{head}{"".join(parts)}</div>'


def _comments_start(article) -> int | None:
    """Offset of the reader-comments header ("Komentarze (4)"), from where nothing is indexed."""
    from rag.articles import COMMENTS

    pos = 0
    for line in article.text.splitlines(keepends=True):
        if COMMENTS.match(line.strip()):
            return pos
        pos += len(line)
    return None
