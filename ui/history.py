"""The conversation, kept in the reader's browser and exported as Markdown.

`saved(turns)` is what the page stores in the browser's localStorage after every answer (plain JSON:
the question, the answer's HTML as shown, its text, and its citations), and `restored(data)` brings
it back after a reload: anything malformed (an older format, hand-edited storage) starts a new
conversation instead of failing. Nothing of the conversation is kept on the server.
`markdown(turns)` is the export: every question and answer, then each citation's quoted sentence
with its article's title and date.
"""
from __future__ import annotations

from dataclasses import asdict

from rag.types import Answer

FORMAT = 1
MAX_TURNS = 200                 # a conversation longer than this keeps its latest turns


def summary(answer: Answer) -> dict:
    """What a finished turn keeps of its answer, for the export and the browser's copy."""
    return {"refused": answer.refused, "language": answer.language, "scope": answer.scope,
            "citations": [{k: v for k, v in asdict(c).items() if k in ("marker", "article_id", "title", "date", "quote",
                                                                         "start", "end", "supported")}
                          for c in answer.citations]}


def saved(turns) -> dict:
    return {"format": FORMAT, "turns": [
        {"question": t.question, "html": t.html, "answer": t.answer, "record": t.record}
        for t in turns[-MAX_TURNS:] if t.status == "done"]}


def restored(data, turn_type) -> list:
    """Turns from the browser's copy; [] when there is none or it cannot be read."""
    try:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return []
        turns = []
        for t in data["turns"][-MAX_TURNS:]:
            if not isinstance(t["question"], str) or not isinstance(t["html"], str):
                return []
            answer = t.get("answer") if isinstance(t.get("answer"), str) else None
            record = t.get("record") if isinstance(t.get("record"), dict) else None
            turns.append(turn_type(t["question"], t["html"], answer, "done", record=record))
        return turns
    except (KeyError, TypeError):
        return []


def markdown(turns, title: str = "Conversation with the articles") -> str:
    lines = [f"# {title}", ""]
    for n, t in enumerate(turns, start=1):
        if t.status != "done":
            continue
        lines += [f"## {n}. {t.question.strip()}", ""]
        if t.answer is None:
            lines += ["_(no answer: stopped or failed)_", ""]
            continue
        lines += [t.answer.strip(), ""]
        if (t.record or {}).get("scope"):
            lines += [f"_{t.record['scope']}_", ""]
        cites = (t.record or {}).get("citations", [])
        if cites:
            lines += ["Sources:", ""]
            seen = set()
            for c in cites:
                key = (c["marker"], c["quote"])
                if key in seen:
                    continue
                seen.add(key)
                when = f", {c['date']}" if c.get("date") else ""
                mark = "" if c.get("supported", True) else " (not confirmed by the check)"
                lines.append(f"- [{c['marker']}] *{c['title']}*{when} (article {c['article_id']}, characters "
                             f"{c['start']}-{c['end']}){mark}: „{' '.join(c['quote'].split())}”")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
