"""Charts as deterministic SVG (matplotlib), each with alt text computed from the same rows.

Determinism: a fixed `svg.hashsalt` (ids in the SVG), no date in the metadata, glyphs as paths
(no dependence on installed fonts), math text off (a `$` in a codebook label is just a `$`).
Two builds from the same tables give byte-identical files.
"""
from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from typing import Sequence

RC = {
    "svg.hashsalt": "qualtrace",
    "svg.fonttype": "path",
    "text.parse_math": False,
    "text.usetex": False,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
BAR_COLOUR = "#2b6a99"
HEAT_MAP = "Blues"


@dataclass
class Grid:
    """A labelled matrix of counts (rows x columns), None for cells not shown."""
    rows: list[str]
    columns: list[str]
    values: list[list[int | None]]


def theme_order(summary_rows: Sequence[dict], theme_ids: Sequence[str]) -> list[str]:
    """Themes by number of segments (most first), ties in codebook order."""
    count = {r["theme"]: r["n_segments"] for r in summary_rows}
    return sorted(theme_ids, key=lambda t: (-count.get(t, 0), theme_ids.index(t)))


def prevalence_grid(summary_rows, theme_ids, labels) -> Grid:
    count = {r["theme"]: r["n_segments"] for r in summary_rows}
    order = theme_order(summary_rows, theme_ids)
    return Grid([labels[t] for t in order], ["segments"], [[count.get(t, 0)] for t in order])


def facet_grid(summary_rows, facet_rows, theme_ids, labels, values, value_labels) -> Grid:
    count = {(r["theme"], r["value"]): r["n_segments"] for r in facet_rows}
    order = theme_order(summary_rows, theme_ids)
    return Grid([labels[t] for t in order], [value_labels[v] for v in values],
                [[count.get((t, v), 0) for v in values] for t in order])


def cooccurrence_grid(summary_rows, pair_rows, theme_ids, labels) -> Grid:
    """Pairs of distinct themes in prevalence order: rows are all themes but the last, columns
    all but the first, and only cells above the diagonal (each pair once) are shown."""
    count = {}
    for r in pair_rows:
        count[(r["theme_a"], r["theme_b"])] = count[(r["theme_b"], r["theme_a"])] = r["n_segments"]
    order = theme_order(summary_rows, theme_ids)
    rows, columns = order[:-1], order[1:]
    values = [[count.get((a, b), 0) if j + 1 > i else None for j, b in enumerate(columns)]
              for i, a in enumerate(rows)]
    return Grid([labels[t] for t in rows], [labels[t] for t in columns], values)


# ---------------------------------------------------------------------- alt text
def prevalence_alt(grid: Grid) -> str:
    parts = [f"{name} {row[0]}" for name, row in zip(grid.rows, grid.values)]
    return ("Horizontal bar chart of the number of segments coded with each theme, most "
            "frequent first: " + "; ".join(parts) + ".")


def heatmap_alt(grid: Grid, what: str) -> str:
    parts = []
    for name, row in zip(grid.rows, grid.values):
        cells = [f"{col} {v}" for col, v in zip(grid.columns, row) if v]
        parts.append(f"{name}: " + (", ".join(cells) if cells else "none"))
    return (f"Heatmap of segments per theme (rows) and {what} (columns), darker means more; "
            + "; ".join(parts) + ".")


def cooccurrence_alt(grid: Grid) -> str:
    pairs = [(v, a, b) for i, a in enumerate(grid.rows)
             for j, (b, v) in enumerate(zip(grid.columns, grid.values[i])) if v]
    pairs.sort(key=lambda p: -p[0])
    shown = "; ".join(f"{a} with {b} {v}" for v, a, b in pairs[:8]) or "no pair co-occurs"
    return ("Heatmap of the number of segments coded with both themes of each pair (upper "
            f"triangle); the most frequent pairs: {shown}.")


# ---------------------------------------------------------------------- drawing
def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return matplotlib, plt


def prevalence_svg(grid: Grid) -> bytes:
    matplotlib, plt = _pyplot()
    with matplotlib.rc_context(RC):
        height = 0.9 + 0.32 * len(grid.rows)
        fig, ax = plt.subplots(figsize=(7.0, height), layout="constrained")
        values = [row[0] for row in grid.values]
        y = list(range(len(values)))
        ax.barh(y, values, color=BAR_COLOUR)
        ax.set_yticks(y, grid.rows)
        ax.invert_yaxis()
        ax.set_xlabel("segments coded with the theme")
        ax.xaxis.get_major_locator().set_params(integer=True)
        for yi, v in zip(y, values):
            ax.annotate(str(v), (v, yi), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=8)
        ax.margins(x=0.08)
        return _svg(fig, plt)


def heatmap_svg(grid: Grid, xlabel: str, rotate: bool = False) -> bytes:
    matplotlib, plt = _pyplot()
    import numpy as np

    with matplotlib.rc_context(RC):
        n_rows, n_cols = len(grid.rows), len(grid.columns)
        cell = 0.5 if rotate else 0.95
        width = min(7.5, 2.7 + cell * n_cols)
        height = 1.0 + 0.3 * n_rows + (1.6 if rotate else 0.5)
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
        matrix = np.array([[np.nan if v is None else v for v in row] for row in grid.values],
                          dtype=float)
        shown = matrix[~np.isnan(matrix)]
        vmax = max(1.0, float(shown.max()) if shown.size else 1.0)
        ax.imshow(np.ma.masked_invalid(matrix), cmap=HEAT_MAP, vmin=0, vmax=vmax,
                  aspect="auto")
        columns = (grid.columns if rotate else
                   [textwrap.fill(c, 12, break_long_words=False) for c in grid.columns])
        ax.set_xticks(range(n_cols), columns, rotation=45 if rotate else 0,
                      ha="right" if rotate else "center", rotation_mode="anchor")
        ax.set_yticks(range(n_rows), grid.rows)
        if not rotate:  # a few columns: labels on top, where the eye starts reading
            ax.xaxis.tick_top()
            ax.xaxis.set_label_position("top")
        ax.set_xlabel(xlabel)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        for i, row in enumerate(grid.values):
            for j, v in enumerate(row):
                if v is None:
                    continue
                dark = v > vmax * 0.55
                ax.text(j, i, str(v), ha="center", va="center", fontsize=8,
                        color="white" if dark else "#1a1a1a")
        return _svg(fig, plt)


def _svg(fig, plt) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buffer.getvalue()


# ---------------------------------------------------------------------- the report's charts
@dataclass
class Chart:
    name: str       # file stem in reports/figures/
    caption: str
    alt: str
    grid: Grid
    kind: str       # bars | heatmap | triangle
    xlabel: str = ""


def charts(codebook, summary_rows, pair_rows, by_facet: dict[str, list[dict]]) -> list[Chart]:
    """Every chart of the report, from the codebook and the breakdown tables."""
    ids = [t.id for t in codebook.themes]
    labels = {t.id: t.label for t in codebook.themes}
    grid = prevalence_grid(summary_rows, ids, labels)
    out = [Chart("prevalence", "Segments coded with each theme", prevalence_alt(grid), grid,
                 "bars")]
    for facet in codebook.facets:
        if facet.id not in by_facet:
            continue
        values = [v.id for v in facet.values]
        grid = facet_grid(summary_rows, by_facet[facet.id], ids, labels, values,
                          {v.id: v.label for v in facet.values})
        out.append(Chart(f"theme_by_{facet.id}", f"Segments by theme and {facet.label.lower()}",
                         heatmap_alt(grid, facet.label.lower()), grid, "heatmap",
                         facet.label))
    grid = cooccurrence_grid(summary_rows, pair_rows, ids, labels)
    out.append(Chart("cooccurrence", "Segments coded with both themes of a pair",
                     cooccurrence_alt(grid), grid, "triangle", ""))
    return out


def draw(chart: Chart) -> bytes:
    if chart.kind == "bars":
        return prevalence_svg(chart.grid)
    return heatmap_svg(chart.grid, chart.xlabel, rotate=chart.kind == "triangle")


def write_charts(charts_: list[Chart], outputs: dict[str, str]) -> None:
    """Draw each chart to its output path (outputs: chart name -> path)."""
    from ..common.io import InputError, atomic_write_bytes

    missing = sorted(set(outputs) - {c.name for c in charts_})
    if missing:
        raise InputError(f"no chart named {', '.join(missing)} (the codebook has no such facet?)")
    for chart in charts_:
        if chart.name in outputs:
            atomic_write_bytes(outputs[chart.name], draw(chart))
