"""`qualtrace report figures|source|rulegraph|render`: the report rules' entry points
(qualtrace.report)."""
from __future__ import annotations

import os

from .. import layout
from ..common.io import InputError


def _pairs(items: list[str]) -> dict[str, str]:
    """NAME=PATH arguments as a dict."""
    out = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep:
            raise InputError(f"expected NAME=PATH, got {item!r}")
        out[name] = path
    return out


def cmd_figures(args) -> str:
    from ..coding.codebook import load_codebook
    from ..common.tables import read_table, records
    from ..report.figures import charts, write_charts

    found = charts(load_codebook(args.codebook, terms=False),
                   records(read_table(args.theme_summary, "theme_summary")),
                   records(read_table(args.cooccurrence, "theme_cooccurrence")),
                   {f: records(read_table(p, layout.by_facet_name(f)))
                    for f, p in _pairs(args.by_facet).items()})
    outputs = _pairs(args.output)
    write_charts(found, outputs)
    return f"{len(outputs)} charts written"


def cmd_source(args) -> str:
    from ..report import build_source

    build_source(tables=_pairs(args.table), by_facet=_pairs(args.by_facet),
                 manifest=args.manifest, codebook=args.codebook, gold=args.gold,
                 rulegraph_dot=args.rulegraph_dot, rulegraph_svg=args.rulegraph_svg,
                 engine=args.engine, qmd=args.qmd, numbers=args.numbers,
                 evidence_qmd=args.evidence_qmd, external_scores=args.external_scores or "",
                 external_note=args.external_note)
    return f"{args.qmd}, the evidence document and {args.numbers} written"


def cmd_rulegraph(args) -> str:
    from ..report.rulegraph import write

    return write(args.snakefile, args.directory, args.dot, args.svg, args.configfile)


def cmd_render(args) -> str:
    from ..report.render import render_many, resolve

    engine = resolve(args.engine)
    # each document's outputs beside it, same name; Quarto renders them all in one run
    stems = [os.path.splitext(qmd)[0] for qmd in args.qmd]
    render_many([(qmd, f"{stem}.html" if "html" in args.formats else None,
                  f"{stem}.pdf" if "pdf" in args.formats else None)
                 for qmd, stem in zip(args.qmd, stems)], engine)
    return f"{len(args.qmd)} documents: {engine.describe()}"


def add_commands(commands) -> None:
    report = commands.add_parser("report", help="the report: charts, Quarto sources, rule graph, "
                                                "rendering")
    sub = report.add_subparsers(dest="step", required=True, metavar="STEP")

    p = sub.add_parser("figures", help="draw the report's charts (SVG)")
    p.add_argument("--codebook", required=True)
    p.add_argument("--theme-summary", required=True)
    p.add_argument("--cooccurrence", required=True)
    p.add_argument("--by-facet", nargs="*", default=[], help="FACET=theme_by_<facet>.csv")
    p.add_argument("--output", nargs="+", required=True, help="CHART=path.svg")
    p.set_defaults(func=cmd_figures)

    p = sub.add_parser("source", help=f"write {layout.report_file('summary', 'qmd')}, the "
                       f"evidence document and {layout.table('report_numbers')}")
    p.add_argument("--table", nargs="+", required=True, help="NAME=path.csv")
    p.add_argument("--by-facet", nargs="*", default=[], help="FACET=theme_by_<facet>.csv")
    p.add_argument("--manifest", required=True)
    p.add_argument("--codebook", required=True)
    p.add_argument("--gold", nargs="*", default=[])
    p.add_argument("--external-scores", help="scores on other gold corpora (config "
                   "validity.external_scores)")
    p.add_argument("--external-note", default="", help="what those corpora are (validity.note)")
    p.add_argument("--rulegraph-dot", required=True)
    p.add_argument("--rulegraph-svg", required=True)
    p.add_argument("--engine", default="auto")
    p.add_argument("--qmd", required=True)
    p.add_argument("--numbers", required=True)
    p.add_argument("--evidence-qmd", help="default: evidence.qmd beside --qmd")
    p.set_defaults(func=cmd_source)

    p = sub.add_parser("rulegraph", help="the workflow's rule graph as DOT and SVG")
    p.add_argument("--snakefile", required=True)
    p.add_argument("--directory", default=".")
    p.add_argument("--configfile", nargs="*", default=[])
    p.add_argument("--dot", required=True)
    p.add_argument("--svg", required=True)
    p.set_defaults(func=cmd_rulegraph)

    p = sub.add_parser("render", help="render each .qmd to HTML and/or PDF beside it")
    p.add_argument("qmd", nargs="+")
    p.add_argument("--engine", default="auto")
    p.add_argument("--formats", nargs="+", choices=["html", "pdf"], default=["html", "pdf"])
    p.set_defaults(func=cmd_render)
