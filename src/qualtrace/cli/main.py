"""`qualtrace`: one command, a subcommand per pipeline stage. The workflow's shell rules call
it (`python -m qualtrace --log LOG <subcommand> ...`); researchers and auditors use `review`,
`import-review`, `import-gold`, `validate` and `trace` directly.

One error policy for every subcommand: bad input (an InputError, or a file that cannot be read)
prints `qualtrace: error: FILE:PLACE: message` on one line and exits 2, with no traceback; any
other exception is a bug and keeps its traceback. With `--log FILE` the summary line, the error
or the traceback also goes to FILE (rewritten on each run: one job, one log).

Imports stay inside the subcommands so a small per-document job starts fast.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback

from .. import layout
from ..common.io import InputError


def json_option(text: str, option: str) -> dict:
    """An option that carries a JSON object (the workflow passes config sections this way);
    anything else is bad input, reported in one line."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{option}: not JSON ({err.msg} at character {err.pos})") from None
    if not isinstance(value, dict):
        raise InputError(f"{option}: expected a JSON object, got {type(value).__name__}")
    return value


def cmd_ingest(args) -> None:
    from ..corpus.ingest import IngestRules, ingest_file
    from ..common.io import write_json

    if len(args.path) != len(args.doc_id):
        raise InputError(f"ingest: {len(args.path)} paths but {len(args.doc_id)} --doc-id values; "
                         "give one id per path, in the same order")
    rules = IngestRules.from_config(json_option(args.rules, "--rules"))
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
    from ..coding.engine import code_segments
    from ..common.io import read_raw
    from ..common.tables import read_table, records, write_table

    codebook = load_codebook(args.codebook)
    documents = read_table(args.documents, "documents")
    raw_texts = {doc: read_raw(path) for doc, path in zip(documents["doc_id"], documents["path"])}
    segments = records(read_table(args.segments, "segments"))
    codings, facets = code_segments(segments, raw_texts, codebook)
    write_table(codings, args.codings, "codings_auto")
    write_table(facets, args.facets, "facets_auto")
    return f"{len(codings)} codings, {len(facets)} facet values"


def cmd_review_merge(args) -> str:
    from ..common.io import paused_gc
    from ..common.tables import read_table, records, write_table
    from ..review.decisions import load_vocabulary, read_decisions
    from ..review.merge import Policy, merge

    decisions = read_decisions(args.decisions, load_vocabulary(args.codebook))
    with paused_gc():  # large tables of acyclic rows
        merged = merge(records(read_table(args.segments, "segments")),
                       records(read_table(args.codings_auto, "codings_auto")),
                       records(read_table(args.facets_auto, "facets_auto")), decisions,
                       Policy.from_config(json_option(args.policy, "--policy")))
        write_table(merged.codings, args.codings, "codings")
        write_table(merged.facets, args.facets, "facets")
        write_table(merged.outcomes, args.outcomes, "review_decisions")
    return f"{len(decisions)} decisions: " + ", ".join(f"{n} {k}" for k, n in merged.counts.items())


def cmd_check(args) -> str:
    from ..checks.load import load_tables
    from ..checks.runner import ChecksFailed, run_checks
    from ..coding.codebook import load_codebook
    from ..common.tables import write_table

    tables = load_tables(args.documents, args.segments, args.codings, args.facets,
                         args.breakdowns, load_codebook(args.codebook, terms=False),
                         args.review_decisions)
    try:
        severity = json_option(args.severity, "--severity")
        checks, items, key_points, errors = run_checks(tables, severity)
    except ChecksFailed as err:
        raise InputError(str(err)) from None
    # Written even when an error-severity check fails (rule checks_gate then stops the build),
    # so the reviewer can read what failed; a failed job would lose them.
    write_table(items, args.items, "check_items")
    write_table(key_points, args.key_points, "key_point_support")
    write_table(checks, args.checks, "checks")
    return "; ".join(f"{c['check_id']} {c['status']}" for c in checks) + (
        "\n" + errors if errors else "")


def cmd_check_gate(args) -> str:
    from ..checks.runner import failed_errors
    from ..common.io import atomic_write_text
    from ..common.tables import read_table, records

    from ..checks.runner import ErrorChecksFailed

    checks = records(read_table(args.checks, "checks"))
    errors = failed_errors(checks, records(read_table(args.items, "check_items")))
    if errors:
        raise ErrorChecksFailed(f"{errors}\n(all of them in {args.checks} and {args.items})")
    passed = sorted(c["check_id"] for c in checks if c["severity"] == "error")
    atomic_write_text(args.output, f"error-severity checks passed: {', '.join(passed)}\n")
    return f"{len(passed)} error-severity checks passed"


def cmd_trace(args) -> int:
    """Exit 0 verified, 1 not verified, 2 the query names nothing (or is ambiguous). Printing
    never changes that: any locale (what it cannot encode is escaped), and a reader that went
    away (`| head`) is not an error."""
    from ..audit.trace import as_json, as_text, trace
    from ..common.terminal import stdout_is_utf8, tolerant_stdout

    tolerant_stdout()
    description, passages = trace(args.ids, args.directory)  # TraceError: exit 2
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
                                         args.review_decisions, args.external_scores))
    return f"manifest of {args.documents}"


def study(args) -> tuple[dict[str, str], str]:
    """The corpus (doc_id -> path, found by the workflow's own discovery from the config's
    corpus.patterns) and the codebook (--codebook, else the config's) of a run directory."""
    from ..common.config import validate_config_file
    from ..corpus.discovery import discover

    config = validate_config_file(args.config)
    return discover(config["corpus"]["patterns"]), args.codebook or config["codebook"]


def warn(message: str) -> None:
    """A note about input that was skipped, not an error (the command goes on)."""
    from ..common.terminal import one_line

    print(f"qualtrace: warning: {one_line(message)}", file=sys.stderr)


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

    documents, codebook = study(args)
    decisions, skipped = import_review(
        args.qdpx, args.reviewer, documents=documents, ours=args.ours,
        segments_csv=args.segments, codebook=codebook)
    for message in skipped:
        warn(message)
    counts = {w: sum(d["decision"] == w for d in decisions) for w in ("reject", "add")}
    return (f"{args.qdpx}: {counts['reject']} codings removed and {counts['add']} added "
            f"compared with {args.ours}; written to {layout.review_file(args.reviewer)}. Run "
            "`snakemake --cores 4` to regenerate.")


def build_parser() -> argparse.ArgumentParser:
    from . import exchange, report

    parser = argparse.ArgumentParser(prog="qualtrace", description=__doc__.split("\n\n")[0])
    parser.add_argument("--log", help="write the summary, the error or the traceback to this file")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
        description=f"Merge the rules' coding with the decisions in {layout.REVIEW_GLOB} "
                    "(SPEC, Researcher review).")
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
                          help=f"the review decision files ({layout.REVIEW_GLOB})")
    manifest.add_argument("--external-scores", nargs="*", default=[],
                          help="the scores file of config validity.external_scores, if any")
    manifest.add_argument("--output", required=True)
    manifest.set_defaults(func=cmd_manifest)

    review = sub.add_parser(
        "review", help="start the local review app (accept, reject, add codings, with memos)",
        description="A web app on 127.0.0.1 only; the first line printed is its URL, with a "
                    "random token that every request must carry. Decisions are saved at once "
                    f"to {layout.review_file('<reviewer>')}; run `snakemake --cores 4` "
                    "afterwards.")
    review.add_argument("--reviewer", default=_default_reviewer(),
                        help="your name; names the decision file (default: your login)")
    review.add_argument("--port", type=int, default=0, help="default: any free port")
    review.add_argument("--no-browser", action="store_true", help="do not open a browser")
    review.add_argument("--directory", default=".", help="the run directory (default: .)")
    review.set_defaults(func=cmd_review)

    recode = sub.add_parser(
        "import-review", help="a recoded REFI-QDA project -> review decisions",
        description="Compare a .qdpx recoded in another tool (e.g. our export reworked in "
                    f"QualCoder or NVivo) with our export and append the differences to "
                    f"{layout.review_file('<reviewer>')} as reject/add decisions. Sources are "
                    "matched to the corpus the config names, as `import-gold` does.")
    recode.add_argument("qdpx")
    recode.add_argument("--reviewer", required=True)
    add_study_arguments(recode)
    recode.add_argument("--ours", default=layout.QDPX, help="our export")
    recode.set_defaults(func=cmd_import_review)

    tracer = sub.add_parser(
        "trace", help="print and re-verify the passages behind an id or a number",
        description="IDS: a segment id, <segment>:<theme>, theme=<id> [<facet>=<value>], or a "
                    "report number id. Exit 0 if every passage verifies, 1 if not, 2 if the id "
                    "names nothing or a key is given twice.")
    tracer.add_argument("ids", nargs="+")
    tracer.add_argument("--json", action="store_true", help="machine-readable output")
    tracer.add_argument("--directory", default=".", help="the run directory (default: .)")
    tracer.set_defaults(func=cmd_trace)

    exchange.add_commands(sub)
    report.add_commands(sub)
    return parser


def add_study_arguments(parser: argparse.ArgumentParser) -> None:
    """Where a command that reads a built run finds its corpus, codebook and segments."""
    parser.add_argument("--config", default=layout.CONFIG,
                        help="the workflow config: its corpus.patterns name the documents")
    parser.add_argument("--codebook", help="default: the config's `codebook`")
    parser.add_argument("--segments", default=layout.table("segments"))


def bad_input(err: BaseException) -> str | None:
    """What to tell the user about an error in their input, or None: a bug (its traceback
    shows). Every stage raises InputError (or a subclass) for bad input; a file that cannot be
    opened is an OSError naming it."""
    if isinstance(err, InputError):
        return str(err)
    if isinstance(err, OSError) and err.filename is not None:
        return f"{err.filename}: {err.strerror or err}"
    return None


def error_text(err: BaseException, message: str) -> str:
    """`qualtrace: error: ...` as printable text: one line, or one line per problem for an
    error that lists several. Source text and file names are data, never terminal control."""
    from ..common.terminal import one_line, printable

    if getattr(err, "listing", False):
        body = "\n".join(printable(line) for line in message.splitlines())
    else:
        body = one_line(message)
    return f"qualtrace: error: {body}"


def _log(log_path: str | None, text: str) -> None:
    if log_path:
        with open(log_path, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand. A subcommand returns its summary line (exit 0) or, for `trace`,
    its exit code."""
    args = build_parser().parse_args(argv)
    if args.log:  # one job, one log: never mix in a previous run's lines
        os.makedirs(os.path.dirname(args.log) or ".", exist_ok=True)
        open(args.log, "w", encoding="utf-8").close()
    try:
        outcome = args.func(args)
    except Exception as err:
        message = bad_input(err)
        if message is None:
            _log(args.log, traceback.format_exc())
            raise
        text = error_text(err, message)
        print(text, file=sys.stderr)
        _log(args.log, text)
        return 2
    if isinstance(outcome, int):
        return outcome
    summary = outcome or "done"
    if args.log:
        _log(args.log, summary)
    else:
        print(summary)
    return 0
