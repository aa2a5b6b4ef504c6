"""Readers' feedback on answers, and draft eval items made from it.

`record` appends one JSON line per thumbs up/down to `feedback.jsonl` beside the index (the
question, the answer, its citations with their quotes, the passages shown, the models, the time,
the verdict and an optional note). `drafts` turns the thumbs-down ones into draft eval items for
an evaluator to complete: the question, its language, the answer given and the passages shown are
filled in; whether it is answerable, the evidence quotes and the key facts are left for a person
(`"todo"`). Drafts are written to their own file, never into the eval set.
"""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict
from pathlib import Path

from .errors import BadInput
from .types import Answer

FILE = "feedback.jsonl"
MAX_NOTE_CHARS = 2000
_LOCK = threading.Lock()


def path_for(index_dir: Path) -> Path:
    return Path(index_dir) / FILE


def record(path: Path, answer: Answer, liked: bool, note: str = "") -> dict:
    """Append one reader's verdict on an answer; returns the line written."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise BadInput(f"the note is too long ({len(note)} characters, at most {MAX_NOTE_CHARS})")
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "liked": bool(liked),
        "note": note,
        "question": answer.question,
        "language": answer.language,
        "answer": answer.answer,
        "refused": answer.refused,
        "citations": [asdict(c) for c in answer.citations],
        "passages": [{"rank": p.rank, "chunk_id": p.chunk.id, "article_id": p.chunk.article_id, "text": p.text}
                     for p in answer.passages],
        "models": dict(answer.models),
    }
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, open(path, "a", encoding="utf-8") as fh:      # one write per line: lines never interleave
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())
    return entry


def load(path: Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"no feedback file at {path}: readers' thumbs in the chat write it")
    entries = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                raise BadInput(f"{path}:{n} is not valid JSON; fix or delete that line") from None
    return entries


def drafts(entries: list[dict], known_questions: set[str] = frozenset()) -> list[dict]:
    """Draft eval items from the thumbs-down entries (one per question, newest verdict wins; a
    question already in the eval set is left out)."""
    latest: dict[str, dict] = {}
    for e in entries:
        latest[e["question"]] = e
    out = []
    for n, (question, e) in enumerate(sorted(latest.items(), key=lambda kv: kv[1]["time"]), start=1):
        if e.get("liked") or question in known_questions:
            continue
        out.append({
            "id": f"fb{n:03d}",
            "question": question,
            "language": e.get("language", ""),
            "answerable": "todo: true if the articles hold the answer",
            "evidence": "todo: [{article_id, quote}] exact quotes that hold the answer",
            "facts": "todo: [[spellings of each key fact]]",
            "type": "todo: fact | out-of-scope | near-topic | false-premise",
            "draft": {"reader_note": e.get("note", ""), "answer_given": e.get("answer", ""),
                      "refused": e.get("refused"), "cited": [{"article_id": c["article_id"], "quote": c["quote"]}
                                                             for c in e.get("citations", [])],
                      "passages_shown": e.get("passages", []), "models": e.get("models", {}), "time": e["time"]},
        })
    return out


def write_drafts(feedback_path: Path, questions_path: Path, out_path: Path) -> int:
    """`rag eval --from-feedback`: the drafts into `out_path` (one JSON object per line); their count."""
    known = set()
    if Path(questions_path).is_file():
        known = {json.loads(line)["question"] for line in Path(questions_path).read_text(encoding="utf-8").splitlines()
                 if line.strip()}
    items = drafts(load(feedback_path), known)
    if Path(out_path).resolve() == Path(questions_path).resolve():
        raise BadInput("drafts never go into the eval set itself: choose another --out file")
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    Path(out_path).write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return len(items)
