"""Assemble reports/summary.qmd (the report's body), reports/evidence.qmd (every linked number
with its passages) and report_numbers.csv from the processed tables, through the templates in
`templates/` (layout and order there; numbers and escaped source text from the sections).

Each .qmd is a generated build output: a real Quarto document (YAML front matter, figures with
`fig-alt`, cross-reference ids) with every number already computed and no executable cells, so
`quarto render` and pandoc render the identical file.
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__, layout
from ..common.io import atomic_write_text, spreadsheet_cell
from ..common.tables import write_table
from . import (appendix, checks, crosstabs, findings, keypoints, overview, reading, review,
               themes, uncoded, validity)
from .data import ReportData
from .figures import charts
from .markdown import md_literal, series
from .numbers import Registry
from .style import EVIDENCE_HTML, SUMMARY_HTML, html_header, source_date, typst_header
from .templates import render_template


EVIDENCE_SUBTITLE = "Every number of the report with the passages behind it"


@dataclass
class Context:
    """What the report says about how it is built, and where its figures are."""
    renderer: str                         # one sentence: engine and versions
    versions: dict[str, str]              # software versions added to the provenance list
    figures_dir: str = "figures"          # relative to the .qmd
    rulegraph_svg: str | None = None      # relative to the .qmd; None when dot was missing
    rulegraph_dot: str = ""
    environ: dict = field(default_factory=lambda: dict(os.environ))


def figure_specs(data: ReportData, figures_dir: str = "figures"):
    """name -> (path, caption, alt) for every chart; alt text from the same rows as the chart."""
    found = charts(data.codebook, data.tables["theme_summary"],
                   data.tables["theme_cooccurrence"], data.by_facet)
    return {c.name: (f"{figures_dir}/{c.name}.svg", c.caption, c.alt) for c in found}


def build(data: ReportData, context: Context) -> tuple[str, str, list[dict[str, str]]]:
    """(summary qmd text, evidence qmd text, report_numbers rows)."""
    reg = Registry()
    specs = figure_specs(data, context.figures_dir)
    sections = {
        "overview": overview.section(reg, data, context.renderer),
        "how_to_read": reading.section(reg, data),
        "findings": findings.section(reg, data),
        "themes": themes.section(reg, data, specs),
        "crosstabs": crosstabs.section(reg, data, specs),
        "keypoints": keypoints.section(reg, data),
        "checks": checks.section(reg, data),
        "uncoded": uncoded.section(reg, data),
        "validity": validity.section(reg, data),
        "review": review.section(reg, data),
    }
    rulegraph = None
    if context.rulegraph_svg:
        rulegraph = (context.rulegraph_svg, "The workflow's rules and their dependencies",
                     "Rule graph of the Snakemake workflow: " + _rule_names(context.rulegraph_dot))
    sections["provenance"] = appendix.provenance(data, context.renderer, rulegraph,
                                                 context.rulegraph_dot, context.versions)
    # Sections link to evidence entries as if in one document (`#ev-<id>`, `#evidence`); in the
    # body those links point into the evidence document. Source text cannot hold `](#` (every
    # punctuation character of it is escaped), so only the report's own links match.
    sections = {name: _to_evidence(text) for name, text in sections.items()}
    title = _title(data)
    summary = render_template(
        "summary.qmd.j2", sections=sections,
        front_matter=front_matter(title, subtitle(data), context, toc_depth=1))
    evidence = render_template(
        "evidence.qmd.j2", report_title=md_literal(title), summary_html=SUMMARY_HTML,
        evidence=_to_summary(appendix.evidence(reg, data)),
        front_matter=front_matter(f"Evidence: {title}", EVIDENCE_SUBTITLE, context,
                                  toc_depth=2))
    return summary, evidence, reg.rows()


_EVIDENCE_LINK = re.compile(r"\]\(#(ev-[^)\s]+|evidence)\)")


def _to_evidence(text: str) -> str:
    return _EVIDENCE_LINK.sub(
        lambda m: f"]({EVIDENCE_HTML}" + ("" if m.group(1) == "evidence" else f"#{m.group(1)}")
        + ")", text)


# The evidence document's own anchors: its entries (`ev-`), passages (`p-`) and sections.
_BODY_LINK = re.compile(r"\]\(#(?!ev-|p-|evidence|passages)([^)\s]+)\)")


def _to_summary(text: str) -> str:
    """Evidence notes' links to the body's sections, pointed at the body document."""
    return _BODY_LINK.sub(lambda m: f"]({SUMMARY_HTML}#{m.group(1)})", text)


def _title(data: ReportData) -> str:
    titles = Counter(d.get("title", "") for d in data.documents if d.get("title"))
    corpus = sorted(titles.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if titles else ""
    return f"Coded evidence: {corpus}" if corpus else "Coded evidence report"


def subtitle(data: ReportData) -> str:
    """The summary's subtitle: the themes and each facet by its plural ("Themes, speaker roles
    and settings, with every number ...")."""
    names = series(["themes"] + [f.plural.replace("_", " ") for f in data.facets])
    return f"{names.capitalize()}, with every number traced to its source passages"


def front_matter(title: str, subtitle: str, context: Context, toc_depth: int) -> str:
    """The YAML front matter; `toc_depth` counts section levels (## is 1) in both formats."""
    date = source_date(context.environ)
    return render_template(
        "front_matter.yml.j2", title=_yaml(md_literal(title)), subtitle=_yaml(md_literal(subtitle)),
        author=_yaml("Generated by qualtrace " + __version__),
        date=_yaml(date.isoformat()) if date else "", html_header=html_header(),
        typst_header=typst_header(date), typst_toc_depth=toc_depth,
        html_toc_depth=toc_depth + 1).rstrip("\n")


def _yaml(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML flow scalar


def _rule_names(dot: str) -> str:
    import re

    names = sorted(set(re.findall(r'label\s*=\s*"([A-Za-z_][\w]*)"', dot or "")))
    return ", ".join(names) + "." if names else f"see the DOT source in {layout.RULEGRAPH_DOT}."


def write(data: ReportData, context: Context, qmd: str | Path, numbers: str | Path,
          evidence_qmd: str | Path) -> None:
    summary, evidence, rows = build(data, context)
    # Reviewers open report_numbers.csv in spreadsheets; a label made from a document title or
    # a speaker group (source text) must not run as a formula there. Ids and queries cannot.
    write_table([{**row, "label": spreadsheet_cell(str(row["label"]))} for row in rows],
                numbers, "report_numbers")
    atomic_write_text(evidence_qmd, evidence)
    atomic_write_text(qmd, summary)
