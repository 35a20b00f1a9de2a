"""Themes by each facet of the codebook (one table and chart per facet) and theme
co-occurrence."""
from __future__ import annotations

from . import items
from .data import ReportData
from .markdown import md_literal, series, table
from .media import figure
from .numbers import Registry
from .themes import ordered


def section(reg: Registry, data: ReportData, figures: dict[str, tuple[str, str, str]]) -> str:
    reg.section = title(data)
    parts = [f"## {md_literal(reg.section)} {{#breakdowns}}"]
    if data.facets:
        either = series((md_literal(f.label.lower()) for f in data.facets), "or")
        parts.append("Each cell counts the segments coded with the theme (row) that also carry "
                     f"the {either} (column). A segment can carry several values of a facet, "
                     "so rows do not add up to the theme's total.")
    for facet in data.facets:
        parts.append(facet_block(reg, data, facet, figures.get(f"theme_by_{facet.id}")))
    parts.append(cooccurrence_block(reg, data, figures.get("cooccurrence")))
    return "\n\n".join(parts)


def title(data: ReportData) -> str:
    """The section's title: the facets' names in the plural ("Speaker roles and settings")."""
    names = series(f.plural.replace("_", " ") for f in data.facets)
    return names.capitalize() if names else "Breakdowns"  # a codebook without facets


def facet_block(reg: Registry, data: ReportData, facet, fig) -> str:
    values = [v.id for v in facet.values]
    rows = []
    for t in ordered(data):
        rows.append([f"[{md_literal(data.theme_label(t))}](#theme-{t})"]
                    + [items.facet_cell(reg, data, facet.id, v, t) for v in values])
    coded = [f"{md_literal(v.label)} {items.facet_coded(reg, data, facet.id, v.id)}"
             for v in facet.values]
    parts = [f"### {md_literal(facet.label)} \u00d7 themes {{#facet-{facet.id}}}",
             f"*{md_literal(facet.label)}.* {md_literal(_definition(data, facet))}",
             "Segments coded with any theme, by value: " + "; ".join(coded) + "."]
    if fig:
        parts.append(figure(*fig, f"fig-{facet.id}"))
    parts.append(table(["Theme"] + [md_literal(v.label) for v in facet.values], rows,
                       "l" + "r" * len(values),
                       caption=f"Segments by theme and {md_literal(facet.label.lower())}",
                       widths=[10] + [2] * len(values), identifier=f"tbl-{facet.id}"))
    return "\n\n".join(parts)


def cooccurrence_block(reg: Registry, data: ReportData, fig) -> str:
    order = ordered(data)
    pairs = []
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            row = data.pair.get((a, b)) or data.pair.get((b, a)) or {}
            n = row.get("n_segments") or 0
            if n:
                pairs.append((n, i, order.index(b), a, b))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    parts = ["### Theme co-occurrence {#cooccurrence}",
             "How often two themes were coded on the same segment. The diagonal (a theme "
             "with itself) is left out: it is the theme's own count in the themes table."]
    if fig:
        parts.append(figure(*fig, "fig-cooccurrence"))
    if pairs:
        rows = [[f"[{md_literal(data.theme_label(a))}](#theme-{a})",
                 f"[{md_literal(data.theme_label(b))}](#theme-{b})",
                 items.pair(reg, data, a, b)] for _, _, _, a, b in pairs]
        parts.append(table(["Theme", "Co-occurs with", "Segments"], rows, "llr",
                           caption="Pairs of themes coded on the same segment, most frequent "
                                   "first", widths=[8, 8, 2], identifier="tbl-cooccurrence"))
    else:
        parts.append("No segment was coded with two themes.")
    return "\n\n".join(parts)


def _definition(data: ReportData, facet) -> str:
    """The facet's definition from the codebook (the compiled Facet keeps only its values)."""
    for spec in data.codebook.raw.get("facets", []):
        if isinstance(spec, dict) and spec.get("id") == facet.id:
            return str(spec.get("definition", "")).strip()
    return ""
