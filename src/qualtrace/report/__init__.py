"""The report: reports/summary.qmd (the body, with its figures) and reports/evidence.qmd (every
number's passages), with report_numbers.csv, built from the processed tables through the
templates in `templates/`, rendered to self-contained HTML and to PDF.

Modules, one job each: `markdown` (literal text, number links, tables), `numbers` (the registry
behind report_numbers.csv), `items` (item ids and queries), `data` (loading the inputs),
`figures` (deterministic SVG charts), one module per section (`overview`, `findings`, `themes`,
`crosstabs`, `keypoints`, `checks`, `validity`, `appendix`), `document` (assembly), `style`,
`render` (Quarto or pandoc + Typst), `rulegraph`.
"""
from __future__ import annotations

import os
from pathlib import Path

from .markdown import md_literal

__all__ = ["md_literal", "build_source"]


def build_source(tables: dict[str, str], by_facet: dict[str, str], manifest: str, codebook: str,
                 rulegraph_dot: str, rulegraph_svg: str, qmd: str, numbers: str,
                 engine: str = "auto", gold: list[str] | None = None,
                 environ: dict | None = None, evidence_qmd: str | None = None,
                 external_scores: str = "", external_note: str = "") -> None:
    """Write the report's .qmd, the evidence .qmd (default: evidence.qmd beside it) and
    report_numbers.csv; figure paths are made relative to the .qmd. `external_scores`: the
    scores file of config validity.external_scores ("" when none), with its `note`."""
    from . import rulegraph
    from .data import load
    from .document import Context, write
    from .render import resolve

    data = load(tables, by_facet, manifest, codebook, gold, external_scores, external_note)
    chosen = resolve(engine)
    dot, drawn = rulegraph.read(rulegraph_dot, rulegraph_svg)
    base = Path(qmd).resolve().parent
    svg = os.path.relpath(Path(rulegraph_svg).resolve(), base) if drawn else None
    context = Context(renderer=chosen.describe(), versions=_versions(chosen),
                      rulegraph_svg=svg, rulegraph_dot=dot,
                      environ=dict(os.environ if environ is None else environ))
    write(data, context, qmd, numbers,
          evidence_qmd or Path(qmd).with_name("evidence.qmd"))


def _versions(engine) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("matplotlib",):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            pass
    out.update(engine.versions)
    return out
