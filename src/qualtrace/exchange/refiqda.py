"""REFI-QDA (QDA-XML 1.0) exchange: the coded corpus out as a `.qdpx` project, the codebook as
`.qdc` and Taguette CSV, and a coder's `.qdpx` back in as gold units.

Command line (used by workflow/rules/export.smk):

    python -m qualtrace.refiqda export --codebook config/codebook.yaml \\
        --documents data/processed/documents.csv --segments data/processed/segments.csv \\
        --codings data/processed/codings.csv --facets data/processed/facets.csv \\
        --output reports/qualtrace.qdpx
    python -m qualtrace.refiqda codebook --codebook config/codebook.yaml \\
        [--qdc reports/codebook.qdc] [--taguette reports/codebook_taguette.csv]
    python -m qualtrace.refiqda import-gold coded.qdpx [--config config/config.yaml] \\
        --segments data/processed/segments.csv --codebook config/codebook.yaml \\
        --output data/gold/coder_a.jsonl [--all-units]
    python -m qualtrace.refiqda validate reports/qualtrace.qdpx reports/codebook.qdc

Exports are validated against src/qualtrace/schemas/refi-qda/*.xsd with libxml2 (lxml), streamed:
any size, constant memory (see refiqda_export.validate_xml). Files from outside are refused
before they are parsed when they declare a DOCTYPE (qualtrace.xmlguard) or their archive is
over the limits (refiqda_read.open_archive).

Bad input (a file that cannot be read, is not valid, or is refused) prints one line,
`qualtrace.refiqda: error: FILE[: MEMBER]: what is wrong`, and exits 2.
"""
from __future__ import annotations

import argparse
import sys
import traceback
import zipfile
from pathlib import Path

from .codebook_formats import codebook_qdc, write_qdc, write_taguette_csv
from ..common.io import paused_gc
from .qdpx_export import (SCHEMA_DIR, ProjectXml, XsdValidationError, build_project,
                             source_date_epoch, validate_xml, write_project, write_qdpx,
                             zip_bytes)
from .qdpx_read import (Coding, Project, anchor_for, open_archive, open_member,
                           project_member, qdpx_to_gold, read_qdpx)
from ..common.terminal import one_line

__all__ = ["export_qdpx", "build_project", "zip_bytes", "write_qdpx", "read_qdpx",
           "qdpx_to_gold", "anchor_for", "validate_file", "validate_xml", "Project", "Coding",
           "ProjectXml", "write_project", "XsdValidationError", "SCHEMA_DIR", "main"]


def _validate(source, schema: str, name: str) -> str:
    """source: bytes or a binary file object (streamed); `name` leads the error message."""
    try:
        validate_xml(source, schema)
    except XsdValidationError as err:
        raise XsdValidationError(f"{name} {err}") from err
    return f"valid against {schema}"


def export_qdpx(output, *, codebook, documents, segments, codings, facets,
                name: str = "qualtrace", validate: bool = True) -> str:
    """Read the tables and raw files, write the `.qdpx`; return a one-line summary."""
    with paused_gc():
        return _export(output, validate, codebook=codebook, documents=documents,
                       segments=segments, codings=codings, facets=facets, name=name)


def _export(output, validate, *, codebook, documents, segments, codings, facets, name) -> str:
    from ..coding.codebook import load_codebook
    from ..common.io import read_csv, read_raw, sha256_file

    cb = load_codebook(codebook, terms=False)
    tables = {"documents": documents, "segments": segments, "codings": codings,
              "facets": facets}
    rows = {key: read_csv(path) for key, path in tables.items()}
    raw_texts = {d["doc_id"]: read_raw(d["path"]) for d in rows["documents"]}
    meta = cb.raw if isinstance(getattr(cb, "raw", None), dict) else {}
    inputs = "; ".join(f"{Path(p).name} {sha256_file(p)}"
                       for p in [codebook, *tables.values()])
    description = (f"Coded corpus exported by qualtrace: {len(rows['documents'])} documents, "
                   f"{len(rows['codings'])} theme codings, {len(rows['facets'])} facet codings, "
                   f"codebook {meta.get('codebook', '')} version {meta.get('version', '')}. "
                   "Each selection spans one segment (its id follows the `line:N` prefix of the "
                   "selection name); its description gives the evidence span (code points, end "
                   "exclusive) and the codebook rule that fired. Inputs (SHA-256): " + inputs)
    project = ProjectXml(cb, rows["documents"], rows["segments"], rows["codings"],
                         rows["facets"], raw_texts, name=name, description=description,
                         epoch=source_date_epoch(),
                         table_names={k: str(v) for k, v in tables.items()})
    try:
        write_project(output, project, validate=validate)
    except XsdValidationError as err:
        raise XsdValidationError(f"{output}: project.qde {err}; nothing was written") from err
    status = "valid against Project.xsd" if validate else "not validated"
    return f"{output}: {project.n_sources} sources, {project.n_selections} selections; {status}"


def validate_file(path) -> str:
    """Validate a `.qdpx` (its project.qde) or `.qdc` against the REFI-QDA schemas."""
    path = Path(path)
    if path.suffix.lower() == ".qdpx":
        with open_archive(path) as archive:
            name = project_member(archive, path)
            with open_member(archive, name, path) as member:
                return f"{path}: " + _validate(member, "Project.xsd", f"{path}: {name}")
    with open(path, "rb") as handle:
        return f"{path}: " + _validate(handle, "Codebook.xsd", f"{path}:")


# ------------------------------------------------------------------------------ command line
def _cmd_export(args) -> str:
    return export_qdpx(args.output, codebook=args.codebook, documents=args.documents,
                       segments=args.segments, codings=args.codings, facets=args.facets,
                       name=args.name, validate=not args.no_validate)


def _cmd_codebook(args) -> str:
    from ..coding.codebook import load_codebook

    cb = load_codebook(args.codebook, terms=False)
    done = []
    if args.qdc:
        status = "" if args.no_validate else _validate(
            codebook_qdc(cb), "Codebook.xsd", f"{args.qdc}: not written, it")
        write_qdc(cb, args.qdc)
        done.append(f"{args.qdc} ({status or 'not validated'})")
    if args.taguette:
        write_taguette_csv(cb, args.taguette)
        done.append(str(args.taguette))
    return "wrote " + ", ".join(done) if done else "nothing to do (give --qdc or --taguette)"


def corpus_documents(config_path) -> dict[str, str]:
    """The corpus the workflow reads: doc_id -> path for config corpus.patterns, found by the
    workflow's own discovery (qualtrace.corpus.discover)."""
    from ..common.config import validate_config_file
    from ..corpus.discovery import discover

    return discover(validate_config_file(config_path)["corpus"]["patterns"])


def _cmd_import_gold(args) -> str:
    summary = qdpx_to_gold(args.qdpx, corpus_documents(args.config), args.output,
                           codebook=args.codebook, segments_csv=args.segments,
                           all_units=args.all_units)
    for message in summary["skipped"]:
        print(f"qualtrace.refiqda: warning: {one_line(message)}", file=sys.stderr)
    return (f"{args.output}: {summary['units']} units from {summary['codings']} codings; "
            f"{len(summary['skipped'])} warning(s)")


def _cmd_validate(args) -> str:
    return "\n".join(validate_file(p) for p in args.files)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qualtrace.refiqda",
                                     description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log", help="also write the summary or the error to this file")
    sub = parser.add_subparsers(dest="command", required=True)

    ex = sub.add_parser("export", help="write the coded corpus as a REFI-QDA project (.qdpx)")
    for flag in ("codebook", "documents", "segments", "codings", "facets", "output"):
        ex.add_argument(f"--{flag}", required=True)
    ex.add_argument("--name", default="qualtrace", help="project name shown by the tool")
    ex.add_argument("--no-validate", action="store_true")
    ex.set_defaults(func=_cmd_export)

    cb = sub.add_parser("codebook", help="write the codebook as .qdc and/or Taguette CSV")
    cb.add_argument("--codebook", required=True)
    cb.add_argument("--qdc")
    cb.add_argument("--taguette")
    cb.add_argument("--no-validate", action="store_true")
    cb.set_defaults(func=_cmd_codebook)

    ig = sub.add_parser("import-gold", help="a coder's .qdpx -> SPEC gold units (JSONL)")
    ig.add_argument("qdpx")
    ig.add_argument("--config", default="config/config.yaml",
                    help="the workflow config: its corpus.patterns name the documents")
    ig.add_argument("--segments", default="data/processed/segments.csv")
    ig.add_argument("--codebook", default="config/codebook.yaml")
    ig.add_argument("--output", required=True)
    ig.add_argument("--all-units", action="store_true",
                    help="also write coded-kind units the coder left without any code")
    ig.set_defaults(func=_cmd_import_gold)

    va = sub.add_parser("validate", help="validate .qdpx / .qdc files against the schemas")
    va.add_argument("files", nargs="+")
    va.set_defaults(func=_cmd_validate)
    return parser


def _log(path: str | None, text: str) -> None:
    if path:  # one job, one log: never mix in a previous run's lines
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    from ..coding.codebook import CodebookError
    from ..common.io import InputError

    args = build_parser().parse_args(argv)
    try:
        summary = args.func(args)
    except (InputError, CodebookError, ValueError, OSError, zipfile.BadZipFile) as err:
        named = isinstance(err, OSError) and err.filename is not None
        message = one_line(f"{err.filename}: {err.strerror}" if named else err)
        print(f"qualtrace.refiqda: error: {message}", file=sys.stderr)
        _log(args.log, f"error: {message}")
        return 2
    except Exception:
        _log(args.log, traceback.format_exc())
        raise
    print(summary)
    _log(args.log, summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
