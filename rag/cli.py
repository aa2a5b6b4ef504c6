"""The `rag` command: index, ask, add, chat, doctor, eval, bench. A thin layer over `Pipeline`.

Exit codes: 0 success, 2 bad input (empty question, unknown option), 1 runtime failure.
Errors are one line on stderr starting with `error:`; no traceback reaches the user.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from . import progress
from .errors import BadInput, RagError


class _Parser(argparse.ArgumentParser):
    def error(self, message):      # argparse's usage dump becomes our one-line error, exit 2
        raise BadInput(f"{message} (see `{self.prog} --help`)")


def _model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--llm", help="LLM spec: bundled name, .gguf path, or hub file owner/repo/file.gguf")
    p.add_argument("--embedder", help="embedder spec: bundled name, model directory, or hub id")
    p.add_argument("--profile", help="a model profile from the settings file")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rag", description="Cited answers over the articles in seeds/.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, required=True)

    p = sub.add_parser("index", help="build or refresh the index")
    p.add_argument("--rebuild", action="store_true", help="rebuild from scratch")
    _model_flags(p)

    p = sub.add_parser("ask", help="answer a question (use - to read one question per line from stdin)")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    p.add_argument("--k", type=int, help="number of passages given to the model")
    p.add_argument("--article", action="append", metavar="ID", help="only this article (repeatable)")
    p.add_argument("--since", metavar="YYYY-MM", help="only articles from this month on")
    p.add_argument("--until", metavar="YYYY-MM", help="only articles up to this month")
    _model_flags(p)

    p = sub.add_parser("add", help="add articles (.txt, or a saved .html page, .pdf, .md: their text is extracted) "
                                   "to the seeds folder and index only what is new")
    p.add_argument("files", nargs="+", type=Path)
    _model_flags(p)

    p = sub.add_parser("chat", help="serve the chat in a browser")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", metavar="USER:PASSWORD", help="require this login (needed on any address but 127.0.0.1)")
    p.add_argument("--auth-file", type=Path, metavar="FILE", help="require a login: one USER:PASSWORD per line")
    p.add_argument("--no-auth", action="store_true", help="serve on a non-local address without a login, explicitly")
    p.add_argument("--read-only", action="store_true", help="readers cannot add or remove articles")
    _model_flags(p)

    p = sub.add_parser("doctor", help="report versions, CPU, models and index, and check that the model answers")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--no-check", action="store_true", help="skip the one-token generation check")
    _model_flags(p)

    p = sub.add_parser("eval", help="run the citation-accuracy benchmark")
    p.add_argument("--limit", type=int, help="only the first N items")
    p.add_argument("--questions", type=Path, default=Path("eval/questions.jsonl"))
    p.add_argument("--out", type=Path, default=Path("eval/results"))
    p.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two saved configurations")
    p.add_argument("--judge", help="support judge: 'similarity' (offline default) or an NLI cross-encoder id/path")
    p.add_argument("--retrieval-only", action="store_true", help="only retrieval metrics (no answers generated)")
    p.add_argument("--calibrate", action="store_true", help="only report the judge's agreement with eval/judge_calibration.jsonl")
    p.add_argument("--language", choices=["pl", "en"], help="only the items in this language")
    p.add_argument("--reuse-generations", action="store_true",
                   help="answer a prompt seen in an earlier run from its record (fast; times are not measured)")
    p.add_argument("--from-feedback", nargs="?", const="", metavar="FILE",
                   help="only: turn the chat's thumbs-down answers (default: feedback.jsonl beside the index) "
                        "into draft eval items in --out/drafts-from-feedback.jsonl, for an evaluator to complete")
    p.add_argument("--k", type=int)
    _model_flags(p)

    p = sub.add_parser("bench", help="run the speed benchmark")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--out", type=Path, default=Path("eval/results"))
    p.add_argument("--scale", type=int, default=0, help="also measure FAISS on this many synthetic chunks")
    p.add_argument("--load-modes", action="store_true",
                   help="only prompt and generation speed with llama.cpp weight repacking on and off")
    p.add_argument("--against", metavar="LLM",
                   help="only: the configured LLM against this one (e.g. openai:http://HOST:PORT/v1#MODEL), same questions")
    p.add_argument("--users", type=_users,
                   help="only: answers per minute with this many users at once, e.g. 1,2,4 (LLM on a server)")
    _model_flags(p)
    return parser


def _settings(args):
    """Defaults < file < environment < the chosen profile < command-line flags."""
    import dataclasses

    from .config import _coerce, load_settings

    settings = load_settings()
    if getattr(args, "profile", None):
        settings = settings.with_profile(args.profile)
    flags = {key: getattr(args, key, None) for key in ("llm", "embedder", "k")}
    return dataclasses.replace(settings, **_coerce({k: v for k, v in flags.items() if v is not None}, "command line"))


def _pipeline(args):
    from .pipeline import Pipeline

    return Pipeline(_settings(args))


def cmd_index(args) -> int:
    pipeline = _pipeline(args)
    index = pipeline.index(rebuild=args.rebuild, notify=progress.notify, progress=progress.bar("embedding"))
    m = index.manifest
    print(f"index ready: {m['count']} chunks from {len(m['articles'])} articles, embedder {m['embedder']} "
          f"({m.get('embedded', 0)} chunks embedded now) in {index.path}")
    return 0


def _print_sources(answer) -> None:
    if answer.citations:
        print("\nSources:")
    for c in answer.citations:
        mark = "" if c.supported else " (unverified)"
        when = f", {c.date}" if c.date else ""
        print(f"[{c.marker}] {c.title}{when} - {c.article_id} [{c.start}:{c.end}]{mark}\n    \"{c.quote}\"")


def _filter(args):
    """--article/--since/--until as a retrieval filter (rag/stores.py); None when none is given."""
    from .stores import Filter

    return Filter.of(args.article, args.since, args.until)


def cmd_ask(args) -> int:
    where = _filter(args)
    pipeline = _pipeline(args)
    if args.question == "-":
        # invalid UTF-8 must not stop a batch: undecodable bytes become U+FFFD, cleaned later
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        questions = [line for line in raw.decode("utf-8", "replace").splitlines() if line.strip()]
        if not questions:
            raise BadInput("no questions on standard input: give one question per line")
    else:
        questions = [args.question]
        pipeline.validate(args.question)          # fail fast, before loading anything
    pipeline.generator                            # resolves the model file (no load yet): a bad spec fails here
    pipeline.index(notify=progress.notify, progress=progress.bar("embedding"))
    status = 0
    for question in questions:
        try:
            if args.json:
                answer = pipeline.ask(question, k=args.k, where=where)
                print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
                continue
            answer, streamed = None, []
            for event in pipeline.stream(question, k=args.k, where=where):
                if event.kind == "token":
                    streamed.append(event.text)
                    print(event.text, end="", flush=True)
                elif event.kind == "status":          # what was streamed is withdrawn (a second look)
                    streamed = []
                    print(f"\n({event.text})", flush=True)
                elif event.kind == "answer":
                    answer = event.answer
            if answer.answer.strip() != "".join(streamed).strip():
                # the citation check changed the text: show what it kept
                print(f"\n\nChecked answer: {answer.answer}", end="")
            print()
            if answer.scope:
                print(f"({answer.scope})")
            _print_sources(answer)
        except BadInput as exc:
            if len(questions) == 1:
                raise
            print(json.dumps({"question": question, "error": str(exc)}, ensure_ascii=False), flush=True)
            status = 2
    return status


def cmd_add(args) -> int:
    """Articles in, as plain text in the seeds folder: a .txt in the seeds' format is copied as it
    is; a saved web page, a PDF or Markdown is extracted first (rag/extract.py). Every file is read
    and checked before anything is written; a duplicate is skipped with a message."""
    from . import extract
    from .articles import read_article

    settings = _settings(args)
    seen = extract.known(settings.seeds_dir)
    todo = []                          # (input path, Extracted or None for a .txt copied as is)
    for path in args.files:
        if not path.is_file():
            raise BadInput(f"{path} is not a file")
        if path.suffix.lower() == ".txt":
            found, digest = None, read_article(path).sha256        # checks UTF-8 and that it has text
        else:
            found = extract.extract(path)
            digest = extract.text_hash(found.article_text())
        if digest in seen:
            print(f"{path.name}: same text as {seen[digest]}, skipped", file=sys.stderr)
            continue
        seen[digest] = path.name
        todo.append((path, found))
    settings.seeds_dir.mkdir(parents=True, exist_ok=True)
    for path, found in todo:
        if found is None:
            target = settings.seeds_dir / path.name
            tmp = target.with_suffix(".txt.tmp")
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        else:
            target = extract.save(found, settings.seeds_dir)
        print(f"added {target}" + (f" (from {path.name}: {found.title[:60]!r}, date {found.date or 'unknown'})"
                                   if found else ""), file=sys.stderr)
    from .pipeline import Pipeline
    index = Pipeline(settings).index(notify=progress.notify, progress=progress.bar("embedding"))
    print(f"index ready: {index.manifest['count']} chunks, {index.manifest.get('embedded', 0)} embedded now")
    return 0


def cmd_chat(args) -> int:
    from ui.app import launch, logins

    users = logins(args.host, args.auth, args.auth_file, args.no_auth)     # before anything loads
    launch(_settings(args), host=args.host, port=args.port, auth=users, read_only=args.read_only)
    return 0


def cmd_doctor(args) -> int:
    from .doctor import format_report, report

    data = report(_settings(args), probe=not args.no_check)
    print(json.dumps(data, ensure_ascii=False, indent=1) if args.json else format_report(data), flush=True)
    return 0 if data["ok"] else 1


def cmd_eval(args) -> int:
    if args.from_feedback is not None:
        from . import feedback

        settings = _settings(args)
        source = Path(args.from_feedback) if args.from_feedback else feedback.path_for(settings.index_dir)
        out = args.out / "drafts-from-feedback.jsonl"
        n = feedback.write_drafts(source, args.questions, out)
        print(f"{n} draft eval items from the thumbs-down answers in {source} -> {out} "
              "(complete the 'todo' fields, then move the finished ones into the eval set)")
        return 0
    from .evaluate import main as eval_main

    return eval_main(args, _settings(args))


def _users(text: str) -> list[int]:
    try:
        users = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, like 1,2,4, got {text!r}") from None
    if not users or min(users) < 1:
        raise argparse.ArgumentTypeError("each number of users must be at least 1")
    return users


def cmd_bench(args) -> int:
    if args.against or args.users:
        from .bench_backends import main as backends_main
        from .evaluate import load_items

        questions = [i["question"] for i in load_items(Path("eval/questions.jsonl"))][: args.limit or None]
        return backends_main(args, _settings(args), questions)
    from .bench import main as bench_main

    return bench_main(args, _settings(args))


COMMANDS = {"index": cmd_index, "ask": cmd_ask, "add": cmd_add, "chat": cmd_chat, "doctor": cmd_doctor,
            "eval": cmd_eval, "bench": cmd_bench}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:    # a bug: still one line, with the type to report it by
        print(f"error: unexpected {type(exc).__name__}: {exc} (please report this)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
