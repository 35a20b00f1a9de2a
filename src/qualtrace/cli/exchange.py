"""`qualtrace export qdpx|qdc|taguette`, `qualtrace import-gold` and `qualtrace validate`: the
coded corpus and the codebook in the formats other qualitative-analysis tools read, and a coder's
REFI-QDA project back in (qualtrace.exchange)."""
from __future__ import annotations

import argparse

from .. import layout


def cmd_export_qdpx(args) -> str:
    from ..exchange.refiqda import export_qdpx

    return export_qdpx(args.output, codebook=args.codebook, documents=args.documents,
                       segments=args.segments, codings=args.codings, facets=args.facets,
                       name=args.name, validate=not args.no_validate)


def cmd_export_qdc(args) -> str:
    from ..exchange.refiqda import export_qdc

    return export_qdc(args.codebook, args.output, validate=not args.no_validate)


def cmd_export_taguette(args) -> str:
    from ..exchange.refiqda import export_taguette

    return export_taguette(args.codebook, args.output)


def cmd_import_gold(args) -> str:
    from ..exchange.qdpx_read import qdpx_to_gold
    from .main import study, warn

    documents, codebook = study(args)
    summary = qdpx_to_gold(args.qdpx, documents, args.output, codebook=codebook,
                           segments_csv=args.segments, all_units=args.all_units)
    for message in summary["skipped"]:
        warn(message)
    return (f"{args.output}: {summary['units']} units from {summary['codings']} codings; "
            f"{len(summary['skipped'])} warning(s)")


def cmd_validate(args) -> str:
    from ..exchange.refiqda import validate_file

    return "\n".join(validate_file(p) for p in args.files)


def add_commands(sub) -> None:
    from .main import add_study_arguments

    export = sub.add_parser(
        "export", help="the coded corpus or the codebook for other tools (REFI-QDA, Taguette)",
        description="Every REFI-QDA export is validated against the QDA-XML 1.0 schemas before "
                    "it is written.")
    kinds = export.add_subparsers(dest="format", required=True, metavar="FORMAT")
    qdpx = kinds.add_parser("qdpx", help="the coded corpus as a REFI-QDA project (.qdpx) for "
                                         "NVivo, ATLAS.ti, MAXQDA, QualCoder")
    for name in ("codebook", "documents", "segments", "codings", "facets"):
        qdpx.add_argument(f"--{name}", required=True)
    qdpx.add_argument("--output", required=True, help=f"e.g. {layout.QDPX}")
    qdpx.add_argument("--name", default="qualtrace", help="project name shown by the tool")
    qdpx.add_argument("--no-validate", action="store_true")
    qdpx.set_defaults(func=cmd_export_qdpx)

    qdc = kinds.add_parser("qdc", help="the codebook as a REFI-QDA codebook (.qdc)")
    qdc.add_argument("--codebook", required=True)
    qdc.add_argument("--output", required=True, help=f"e.g. {layout.QDC}")
    qdc.add_argument("--no-validate", action="store_true")
    qdc.set_defaults(func=cmd_export_qdc)

    taguette = kinds.add_parser("taguette", help="the codebook as the CSV Taguette imports")
    taguette.add_argument("--codebook", required=True)
    taguette.add_argument("--output", required=True, help=f"e.g. {layout.TAGUETTE_CSV}")
    taguette.set_defaults(func=cmd_export_taguette)

    gold = sub.add_parser(
        "import-gold", help="read a REFI-QDA project's codings back as a gold file (SPEC)",
        description="Read a .qdpx that a human (re)coded in NVivo, ATLAS.ti, MAXQDA or "
                    "QualCoder and write data/gold-style JSONL (one unit per coded segment). "
                    "Sources are matched to the corpus the config names.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    gold.add_argument("qdpx")
    gold.add_argument("--output", required=True, help="e.g. data/gold/recoded.jsonl")
    add_study_arguments(gold)
    gold.add_argument("--all-units", action="store_true",
                      help="also write units the coder left without any code")
    gold.set_defaults(func=cmd_import_gold)

    validate = sub.add_parser("validate", help="validate .qdpx / .qdc files against the "
                                               "REFI-QDA schemas")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(func=cmd_validate)
