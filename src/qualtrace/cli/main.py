"""Command line: the entry points the workflow's shell rules call, and `trace` for auditors.

Imports stay inside the subcommands so a small per-document job starts fast.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback

from ..common.io import InputError


def _log(log_path: str | None, line: str) -> None:
    if log_path:
        with open(log_path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def cmd_ingest(args) -> None:
    from ..corpus.ingest import IngestRules, ingest_file
    from ..common.io import write_json

    if len(args.path) != len(args.doc_id):
        raise InputError(f"ingest: {len(args.path)} paths but {len(args.doc_id)} --doc-id values; "
                         "give one id per path, in the same order")
    rules = IngestRules.from_config(json.loads(args.rules))
    parsed = [ingest_file(path, doc_id, rules) for path, doc_id in zip(args.path, args.doc_id)]
    # One document: its object (as always); a batch: a list of them, in the order given.
    write_json(args.output, parsed[0] if len(parsed) == 1 else parsed)
    return "\n".join(f"{path}: {len(item['segments'])} segments"
                     for path, item in zip(args.path, parsed))


def cmd_gather_segments(args) -> None:
    from ..corpus.gather import gather

    gather(args.parsed, args.documents, args.segments)
    return f"{len(args.parsed)} documents gathered"


def cmd_code(args) -> None:
    from ..coding.codebook import load_codebook
    from ..coding.engine import CODING_FIELDS, FACET_FIELDS, code_segments
    from ..common.io import read_csv, read_raw, write_csv

    codebook = load_codebook(args.codebook)
    documents = read_csv(args.documents)
    raw_texts = {doc["doc_id"]: read_raw(doc["path"]) for doc in documents}
    codings, facets = code_segments(read_csv(args.segments), raw_texts, codebook)
    write_csv(args.codings, CODING_FIELDS, codings)
    write_csv(args.facets, FACET_FIELDS, facets)
    return f"{len(codings)} codings, {len(facets)} facet values"


def cmd_review_merge(args) -> str:
    from ..common.io import paused_gc, read_csv, write_csv
    from ..review.decisions import load_vocabulary, read_decisions
    from ..review.merge import (OUTCOME_FIELDS, REVIEWED_CODING_FIELDS, REVIEWED_FACET_FIELDS,
                               Policy, merge)

    decisions = read_decisions(args.decisions, load_vocabulary(args.codebook))
    with paused_gc():  # large tables of acyclic rows
        merged = merge(read_csv(args.segments), read_csv(args.codings_auto),
                       read_csv(args.facets_auto), decisions,
                       Policy.from_config(json.loads(args.policy)))
        write_csv(args.codings, REVIEWED_CODING_FIELDS, merged.codings)
        write_csv(args.facets, REVIEWED_FACET_FIELDS, merged.facets)
        write_csv(args.outcomes, OUTCOME_FIELDS, merged.outcomes)
    return f"{len(decisions)} decisions: " + ", ".join(f"{n} {k}" for k, n in merged.counts.items())


def cmd_check(args) -> str:
    from ..checks import CHECK_FIELDS, ITEM_FIELDS
    from ..checks.load import load_tables
    from ..checks.runner import ChecksFailed, run_checks
    from ..coding.codebook import load_codebook
    from ..common.io import write_csv

    tables = load_tables(args.documents, args.segments, args.codings, args.facets,
                         args.breakdowns, load_codebook(args.codebook, terms=False),
                         args.review_decisions)
    try:
        checks, items, key_points, errors = run_checks(tables, json.loads(args.severity))
    except ChecksFailed as err:
        raise InputError(str(err)) from None
    # Written even when an error-severity check fails (rule checks_gate then stops the build),
    # so the reviewer can read what failed; a failed job would lose them.
    write_csv(args.items, ITEM_FIELDS, items)
    write_csv(args.key_points, ["key_point_id", "doc_id", "themes", "supported",
                                "supporting_segment_ids", "shared_themes"], key_points)
    write_csv(args.checks, CHECK_FIELDS, checks)
    return "; ".join(f"{c['check_id']} {c['status']}" for c in checks) + (
        "\n" + errors if errors else "")


def cmd_check_gate(args) -> str:
    from ..checks.runner import failed_errors
    from ..common.io import atomic_write_text, read_csv

    checks = read_csv(args.checks)
    errors = failed_errors(checks, read_csv(args.items))
    if errors:
        raise InputError(f"{errors}\n(all of them in {args.checks} and {args.items})")
    passed = sorted(c["check_id"] for c in checks if c["severity"] == "error")
    atomic_write_text(args.output, f"error-severity checks passed: {', '.join(passed)}\n")
    return f"{len(passed)} error-severity checks passed"


def cmd_trace(args) -> int:
    """Exit 0 verified, 1 not verified, 2 the query names nothing (or is ambiguous). Printing
    never changes that: any locale (what it cannot encode is escaped), and a reader that went
    away (`| head`) is not an error."""
    from ..common.terminal import one_line, stdout_is_utf8, tolerant_stdout
    from ..audit.trace import TraceError, as_json, as_text, trace

    tolerant_stdout()
    try:
        description, passages = trace(args.ids, args.directory)
    except TraceError as err:
        print(f"qualtrace trace: {one_line(err)}", file=sys.stderr)
        return 2
    code = 0 if all(p.ok for p in passages) else 1
    if args.json:  # ASCII escapes where the terminal is not UTF-8: still the same JSON
        text = json.dumps(as_json(description, passages), ensure_ascii=not stdout_is_utf8(),
                          indent=2)
    else:
        text = as_text(description, passages)
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the failed flush at exit: point stdout at nothing instead.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code


def cmd_manifest(args) -> str:
    from ..common.io import write_json
    from ..audit.provenance import run_manifest

    write_json(args.output, run_manifest(args.documents, args.codebook, args.config,
                                         args.review_decisions))
    return f"manifest of {args.documents}"


def cmd_import_gold(args) -> int:
    """`python -m qualtrace.refiqda import-gold`, whose one-line errors and exit 2 it keeps."""
    from ..exchange import refiqda

    forwarded = ["import-gold", args.qdpx, "--output", args.output, "--config", args.config,
                 "--segments", args.segments, "--codebook", args.codebook]
    return refiqda.main(forwarded + (["--all-units"] if args.all_units else []))


def _default_reviewer() -> str:
    import getpass
    import re

    try:
        name = getpass.getuser()
    except Exception:
        name = ""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:64].lstrip("._-") or "reviewer"


def cmd_review(args) -> str:
    from ..review.app import serve

    serve(args.directory, args.reviewer, args.port, not args.no_browser)
    return "review app stopped"


def cmd_import_review(args) -> str:
    from ..review.recode import import_review

    decisions, skipped = import_review(
        args.qdpx, args.reviewer, ours=args.ours, raw_dir=args.raw_dir,
        segments_csv=args.segments, codebook=args.codebook)
    for message in skipped:
        print(f"qualtrace import-review: note: {message}", file=sys.stderr)
    counts = {w: sum(d["decision"] == w for d in decisions) for w in ("reject", "add")}
    summary = (f"{args.qdpx}: {counts['reject']} codings removed and {counts['add']} added "
               f"compared with {args.ours}; written to data/review/{args.reviewer}.csv. Run "
               "`snakemake --cores 4` to regenerate.")
    print(summary)
    return summary


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qualtrace", description=__doc__)
    parser.add_argument("--log", help="also append errors to this file")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser(
        "ingest", help="parse raw documents into segments (JSON)",
        description="One path: the document's JSON object. Several paths (a batch, one Python "
                    "start-up for many documents): a JSON list of those objects.")
    ingest.add_argument("path", nargs="+")
    ingest.add_argument("--doc-id", required=True, nargs="+", help="one id per path")
    ingest.add_argument("--rules", required=True, help="the config's `ingest` section as JSON")
    ingest.add_argument("--output", required=True)
    ingest.set_defaults(func=cmd_ingest)

    gather = sub.add_parser("gather-segments", help="write documents.csv and segments.csv")
    gather.add_argument("parsed", nargs="+", help="`ingest` outputs (one document or a batch each)")
    gather.add_argument("--documents", required=True)
    gather.add_argument("--segments", required=True)
    gather.set_defaults(func=cmd_gather_segments)

    code = sub.add_parser("code", help="apply the codebook: codings.csv and facets.csv")
    code.add_argument("--codebook", required=True)
    code.add_argument("--documents", required=True)
    code.add_argument("--segments", required=True)
    code.add_argument("--codings", required=True)
    code.add_argument("--facets", required=True)
    code.set_defaults(func=cmd_code)

    merger = sub.add_parser(
        "review-merge", help="apply review decisions: codings.csv, facets.csv (reviewed)",
        description="Merge the rules' coding with the decisions in data/review/*.csv (SPEC, "
                    "Researcher review).")
    for name in ("codebook", "segments", "codings-auto", "facets-auto", "codings", "facets",
                 "outcomes"):
        merger.add_argument(f"--{name}", required=True)
    merger.add_argument("--decisions", nargs="*", default=[], help="decision files")
    merger.add_argument("--policy", default="{}", help="the config's `review` section as JSON")
    merger.set_defaults(func=cmd_review_merge)

    check = sub.add_parser("check", help="run the consistency checks")
    for name in ("codebook", "documents", "segments", "codings", "facets", "checks", "items",
                 "key-points"):
        check.add_argument(f"--{name}", required=True)
    check.add_argument("--breakdowns", nargs="+", required=True)
    check.add_argument("--severity", default="{}", help="check id -> severity, as JSON")
    check.add_argument("--review-decisions", help="review_decisions.csv (the `review` check)")
    check.set_defaults(func=cmd_check)

    gate = sub.add_parser("check-gate", help="fail if an error-severity check failed",
                          description="Reads the tables `check` wrote; exit 1 naming each "
                                      "failed error-severity check and its items.")
    for name in ("checks", "items", "output"):
        gate.add_argument(f"--{name}", required=True)
    gate.set_defaults(func=cmd_check_gate)

    manifest = sub.add_parser("manifest", help="inputs, codebook, config and software versions")
    manifest.add_argument("--documents", required=True)
    manifest.add_argument("--codebook", required=True)
    manifest.add_argument("--config", nargs="+", required=True)
    manifest.add_argument("--review-decisions", nargs="*", default=[],
                          help="the review decision files (data/review/*.csv)")
    manifest.add_argument("--output", required=True)
    manifest.set_defaults(func=cmd_manifest)

    gold = sub.add_parser(
        "import-gold", help="read a REFI-QDA project's codings back as a gold file (SPEC)",
        description="Read a .qdpx that a human (re)coded in NVivo, ATLAS.ti, MAXQDA or "
                    "QualCoder and write data/gold-style JSONL (one unit per coded segment).")
    gold.add_argument("qdpx")
    gold.add_argument("--output", required=True, help="e.g. data/gold/recoded.jsonl")
    gold.add_argument("--config", default="config/config.yaml",
                      help="the workflow config: its corpus.patterns name the documents")
    gold.add_argument("--segments", default="data/processed/segments.csv")
    gold.add_argument("--codebook", default="config/codebook.yaml")
    gold.add_argument("--all-units", action="store_true",
                      help="also write units the coder left without any code")
    gold.set_defaults(func=cmd_import_gold, returns_code=True)

    review = sub.add_parser(
        "review", help="start the local review app (accept, reject, add codings, with memos)",
        description="A web app on 127.0.0.1 only; the first line printed is its URL, with a "
                    "random token that every request must carry. Decisions are saved at once "
                    "to data/review/<reviewer>.csv; run `snakemake --cores 4` afterwards.")
    review.add_argument("--reviewer", default=_default_reviewer(),
                        help="your name; names the decision file (default: your login)")
    review.add_argument("--port", type=int, default=0, help="default: any free port")
    review.add_argument("--no-browser", action="store_true", help="do not open a browser")
    review.add_argument("--directory", default=".", help="the run directory (default: .)")
    review.set_defaults(func=cmd_review)

    recode = sub.add_parser(
        "import-review", help="a recoded REFI-QDA project -> review decisions",
        description="Compare a .qdpx recoded in another tool (e.g. our export reworked in "
                    "QualCoder or NVivo) with our export and append the differences to "
                    "data/review/<reviewer>.csv as reject/add decisions.")
    recode.add_argument("qdpx")
    recode.add_argument("--reviewer", required=True)
    recode.add_argument("--ours", default="reports/qualtrace.qdpx", help="our export")
    recode.add_argument("--raw-dir", default="data/raw")
    recode.add_argument("--segments", default="data/processed/segments.csv")
    recode.add_argument("--codebook", default="config/codebook.yaml")
    recode.set_defaults(func=cmd_import_review)

    tracer = sub.add_parser(
        "trace", help="print and re-verify the passages behind an id or a number",
        description="IDS: a segment id, <segment>:<theme>, theme=<id> [<facet>=<value>], or a "
                    "report number id. Exit 0 if every passage verifies, 1 if not, 2 if the id "
                    "names nothing or a key is given twice.")
    tracer.add_argument("ids", nargs="+")
    tracer.add_argument("--json", action="store_true", help="machine-readable output")
    tracer.add_argument("--directory", default=".", help="the run directory (default: .)")
    tracer.set_defaults(func=cmd_trace, returns_code=True)
    return parser


def _user_error(err: Exception) -> bool:
    """An error in the user's input or codebook (reported in one line, no traceback).

    The codebook module (PyYAML, jsonschema) is not imported just to name its error: a job that
    never loaded it cannot have raised it, and small jobs (ingest) start faster without it."""
    codebook = sys.modules.get("qualtrace.coding.codebook")
    return isinstance(err, InputError) or (
        codebook is not None and isinstance(err, codebook.CodebookError))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.log:  # one job, one log: never mix in a previous run's lines
        open(args.log, "w", encoding="utf-8").close()
    if getattr(args, "returns_code", False):
        return args.func(args)
    try:
        summary = args.func(args)
    except Exception as err:
        if not _user_error(err):
            _log(args.log, traceback.format_exc())
            raise
        print(f"qualtrace: error: {err}", file=sys.stderr)
        _log(args.log, f"error: {err}")
        return 1
    _log(args.log, summary or "done")
    return 0
