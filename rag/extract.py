"""New articles from files: a saved news page (`.html`), a `.pdf`, a `.md` or a `.txt` -> a plain
text article in `seeds/`, shared by `rag add` and the chat's upload.

trafilatura takes a news page's main text, title and date (menus, adverts, footers and reader
comments left out); pypdf takes a PDF's text (a PDF's own dates are the file's, not the article's,
so a PDF article has no date unless its text opens with a date line). What is saved is what gets
indexed: ` date YYYY-MM-DD <title>` on the first line (the seeds' format), then the paragraphs,
separated by blank lines, so citations point at exact, stable offsets of that file.

The file name is made here (`NNN_<16 hex digits of the text's hash>.txt`), never taken from the
input, so nothing can be written outside `seeds/`. Every refusal is one `BadInput` line and changes
nothing: an unsupported or oversized file, an unreadable one, an empty extraction, a duplicate.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .articles import DATE_LINE, read_article
from .errors import BadInput, RagError

SUFFIXES = (".html", ".htm", ".pdf", ".md", ".txt")
MAX_BYTES = 20_000_000          # a saved news page with inline images can reach a few MB; a book cannot come in
MIN_CHARS = 200                 # less than this is a failed extraction, not an article


@dataclass(frozen=True)
class Extracted:
    title: str
    date: str | None            # "YYYY-MM-DD" (or "YYYY-MM") when the source says
    paragraphs: tuple[str, ...]
    source: str                 # the input's file name, for messages

    def article_text(self) -> str:
        """The seeds' format: the date line with the title, a blank line, the paragraphs."""
        paragraphs = list(self.paragraphs)
        if paragraphs and paragraphs[0].strip() == self.title.strip():
            paragraphs = paragraphs[1:]                 # trafilatura repeats the heading as the first line
        head = f" date {self.date} {self.title}" if self.date else self.title
        return "\n\n".join([head, *paragraphs]) + "\n"


def extract(path: Path, data: bytes | None = None) -> Extracted:
    """The article in a file (`data`: its bytes, when they came from an upload)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BadInput(f"{path.name}: not an article file; use {', '.join(SUFFIXES)}")
    if data is None:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise BadInput(f"{path.name}: cannot be read ({exc.strerror})") from None
        if size > MAX_BYTES:
            raise BadInput(f"{path.name}: too large ({size / 1e6:.1f} MB, at most {MAX_BYTES / 1e6:.0f} MB)")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BadInput(f"{path.name}: cannot be read ({exc.strerror})") from None
    elif len(data) > MAX_BYTES:
        raise BadInput(f"{path.name}: too large ({len(data) / 1e6:.1f} MB, at most {MAX_BYTES / 1e6:.0f} MB)")
    if suffix in (".html", ".htm"):
        found = _from_html(data, path.name)
    elif suffix == ".pdf":
        found = _from_pdf(data, path.name)
    else:
        found = _from_text(data, path.name, markdown=suffix == ".md")
    if sum(len(p) for p in found.paragraphs) < MIN_CHARS:
        raise BadInput(f"{path.name}: no article text found (under {MIN_CHARS} characters); "
                       "save the page itself, or copy its text into a .txt file")
    return found


def _paragraphs(text: str) -> tuple[str, ...]:
    return tuple(" ".join(p.split()) for p in re.split(r"\n\s*\n|\n", text) if p.strip())


def _from_html(data: bytes, name: str) -> Extracted:
    try:
        import trafilatura
    except ImportError:
        raise RagError("trafilatura is not installed: pip install trafilatura lxml_html_clean") from None
    doc = trafilatura.bare_extraction(data.decode("utf-8", errors="replace"), with_metadata=True,
                                      include_comments=False, include_tables=False)
    if doc is None or not (doc.text or "").strip():
        raise BadInput(f"{name}: no article text found in the page; save the article's own page, not a list of articles")
    paragraphs = _paragraphs(doc.text)
    title = " ".join((doc.title or paragraphs[0][:120]).split())
    return Extracted(title, _date(doc.date), paragraphs, name)


def _from_pdf(data: bytes, name: str) -> Extracted:
    import io

    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:
        raise RagError("pypdf is not installed: pip install pypdf") from None
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise BadInput(f"{name}: the PDF is encrypted; save an unencrypted copy")
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        meta_title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    except BadInput:
        raise
    except (PdfReadError, ValueError, OSError, KeyError, TypeError) as exc:
        raise BadInput(f"{name}: not a readable PDF ({type(exc).__name__})") from None
    # PDF text comes in lines: a line going on in lower case continues the paragraph above
    joined = re.sub(r"(?<![.!?:”\"])\n(?=[a-ząćęłńóśźż])", " ", text)
    paragraphs = _paragraphs(joined)
    found = _from_text("\n\n".join(paragraphs).encode("utf-8"), name, markdown=False)
    title = " ".join(str(meta_title).split()) if meta_title and str(meta_title).strip() else found.title
    return Extracted(title, found.date, found.paragraphs, name)


def _from_text(data: bytes, name: str, markdown: bool) -> Extracted:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{name}: not UTF-8 text; save it as UTF-8") from None
    date = None
    m = DATE_LINE.match(text)
    if m:
        date, text = m.group(1), text[m.end():]
    if markdown:
        text = re.sub(r"^\s{0,3}#{1,6}\s*", "", text, flags=re.M)          # headings
        text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)                    # images
        text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)                # links keep their words
        text = re.sub(r"(\*\*|__|\*|_|`)(\S.*?\S|\S)\1", r"\2", text)      # emphasis, code
    paragraphs = _paragraphs(text)
    if not paragraphs:
        return Extracted("", date, (), name)
    return Extracted(paragraphs[0][:200], date, paragraphs, name)


def _date(value: str | None) -> str | None:
    m = re.match(r"(\d{4}-\d{2}(?:-\d{2})?)", value or "")
    return m.group(1) if m else None


def known(seeds_dir: Path) -> dict[str, str]:
    """SHA-256 of each readable article's text -> its file name (a new file with the same text is a duplicate)."""
    out = {}
    for path in sorted(Path(seeds_dir).glob("*.txt")):
        try:
            out[read_article(path).sha256] = path.name
        except RagError:
            continue
    return out


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save(found: Extracted, seeds_dir: Path) -> Path:
    """Write the article into `seeds_dir` under a name made here (the next number, the text's
    hash), atomically: a reader never sees half a file."""
    text = found.article_text()
    seeds_dir = Path(seeds_dir)
    seeds_dir.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in seeds_dir.glob("*.txt") if (m := re.match(r"(\d+)_", p.name))]
    target = seeds_dir / f"{max(numbers, default=-1) + 1:03d}_{text_hash(text)[:16]}.txt"
    tmp = target.with_suffix(".txt.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target
