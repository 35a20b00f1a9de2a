"""Command line: the entry points the workflow's shell rules call, and `trace` for auditors.

Imports stay inside the subcommands so a small per-document job starts fast.
"""
from __future__ import annotations

import argparse
import json
import sys
import traceback


def _log(log_path: str | None, line: str) -> None:
    if log_path:
        with open(log_path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def cmd_ingest(args) -> None:
    from .ingest import IngestRules, ingest_file
    from .io import write_json

    rules = IngestRules.from_config(json.loads(args.rules))
    parsed = ingest_file(args.path, args.doc_id, rules)
    write_json(args.output, parsed)
    return f"{args.path}: {len(parsed['segments'])} segments"


def cmd_gather_segments(args) -> None:
    from .gather import gather

    gather(args.parsed, args.documents, args.segments)
    return f"{len(args.parsed)} documents gathered"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qualtrace", description=__doc__)
    parser.add_argument("--log", help="also append errors to this file")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="parse one raw document into segments (JSON)")
    ingest.add_argument("path")
    ingest.add_argument("--doc-id", required=True)
    ingest.add_argument("--rules", required=True, help="the config's `ingest` section as JSON")
    ingest.add_argument("--output", required=True)
    ingest.set_defaults(func=cmd_ingest)

    gather = sub.add_parser("gather-segments", help="write documents.csv and segments.csv")
    gather.add_argument("parsed", nargs="+", help="per-document JSON files")
    gather.add_argument("--documents", required=True)
    gather.add_argument("--segments", required=True)
    gather.set_defaults(func=cmd_gather_segments)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .io import InputError

    args = build_parser().parse_args(argv)
    if args.log:  # one job, one log: never mix in a previous run's lines
        open(args.log, "w", encoding="utf-8").close()
    try:
        summary = args.func(args)
    except InputError as err:
        print(f"qualtrace: error: {err}", file=sys.stderr)
        _log(args.log, f"error: {err}")
        return 1
    except Exception:
        _log(args.log, traceback.format_exc())
        raise
    _log(args.log, summary or "done")
    return 0
