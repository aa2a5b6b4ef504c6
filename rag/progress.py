"""Progress reporting on the terminal, shared by the CLI and the chat's start (so `rag chat`
looks like `rag index`): `notify(message)` prints one line to stderr, `bar(desc)` returns a
`progress(done, total)` callback drawing a tqdm bar."""
from __future__ import annotations

import sys


def notify(message: str) -> None:
    print(message, file=sys.stderr)


def bar(desc: str):
    from tqdm import tqdm

    shown = None

    def progress(done: int, total: int):
        nonlocal shown
        if shown is None:
            shown = tqdm(total=total, desc=desc, unit="chunk", file=sys.stderr, disable=total == 0)
        shown.n = done
        shown.refresh()
        if done >= total:
            shown.close()
    return progress
