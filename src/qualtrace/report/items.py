"""Item ids, labels and queries for each kind of number the report shows.

One function per kind, so an id always means the same thing wherever the number appears
(prose, table or chart caption) and `qualtrace trace <item_id>` finds the same passages.
Ids are readable: `theme-resourcing-segments`, `<facet>-<value>-theme-<theme>` (a breakdown
cell), `cooccurrence-consistency-partnership`.
"""
from __future__ import annotations

from .data import ReportData
from .markdown import item_part, md_literal
from .numbers import Registry

# Items whose passages all appear, with excerpts, under another item: listed by locator only.
COMPACT_MEASURES = {"documents", "interviews"}
THEME_MEASURES = {
    # measure: (summary count column, ids column, what is counted)
    "segments": ("n_segments", "segment_ids", "segments coded"),
    "documents": ("n_documents", "segment_ids", "documents with a coded segment"),
    "key-points": ("n_key_points", "key_point_ids", "key points coded"),
    "quotations": ("n_quotations", "quotation_ids", "quotations coded"),
    "interviews": ("n_interviews", "segment_ids", "interviews quoted"),
}


def ids(text: str) -> list[str]:
    return text.split()


def theme(reg: Registry, data: ReportData, theme_id: str, measure: str) -> str:
    """A theme_summary count: segments, documents, key-points, quotations or interviews."""
    row = data.summary.get(theme_id) or {}
    count_col, ids_col, what = THEME_MEASURES[measure]
    segment_ids = ids(row.get(ids_col, ""))
    if measure == "interviews":  # the quotations that name the interviews counted
        segment_ids = [s for s in segment_ids if data.segment.get(s, {}).get("interview_id")]
    return reg.link(
        f"theme-{theme_id}-{measure}", row.get(count_col, "0"),
        f"{data.theme_label(theme_id)}: {what}",
        f"theme_summary: theme={theme_id} ({count_col}; passages from {ids_col})",
        segment_ids, theme=theme_id, compact=measure in COMPACT_MEASURES,
        notes=[f"Excerpts are under [{md_literal(data.theme_label(theme_id))}: segments "
               f"coded](#ev-theme-{theme_id}-segments)."] if measure in COMPACT_MEASURES else [])


def facet_cell(reg: Registry, data: ReportData, facet: str, value: str, theme_id: str) -> str:
    """A theme_by_<facet> count: segments coded with the theme and carrying the value."""
    row = data.cell.get((facet, theme_id, value)) or {}
    return reg.link(
        f"{facet}-{value}-theme-{theme_id}", row.get("n_segments", "0"),
        f"{data.theme_label(theme_id)} \u00d7 {data.value_label(facet, value)}: segments",
        f"theme_by_{facet}: theme={theme_id}, {facet}={value} (n_segments)",
        ids(row.get("segment_ids", "")), theme=theme_id)


def facet_coded(reg: Registry, data: ReportData, facet: str, value: str) -> str:
    """Content segments carrying a facet value and coded with at least one theme."""
    found = sorted(s for s in data.facet_segments.get((facet, value), ())
                   if s in data.countable_ids and data.themes_of.get(s))
    return reg.link(
        f"{facet}-{value}-coded", len(found),
        f"{data.value_label(facet, value)}: segments coded with any theme",
        f"facets: {facet}={value}, joined with codings (segments with at least one theme)",
        found, compact=True, notes=[EXCERPTS_UNDER_CORPUS])


def pair(reg: Registry, data: ReportData, a: str, b: str) -> str:
    row = data.pair.get((a, b)) or data.pair.get((b, a)) or {}
    first, second = (a, b) if (a, b) in data.pair else (b, a)
    return reg.link(
        f"cooccurrence-{first}-{second}", row.get("n_segments", "0"),
        f"{data.theme_label(first)} with {data.theme_label(second)}: segments",
        f"theme_cooccurrence: theme_a={first}, theme_b={second} (n_segments)",
        ids(row.get("segment_ids", "")), compact=True,
        notes=[f"Excerpts are under [{md_literal(data.theme_label(first))}]"
               f"(#ev-theme-{first}-segments) and [{md_literal(data.theme_label(second))}]"
               f"(#ev-theme-{second}-segments)."])


EXCERPTS_UNDER_CORPUS = "Excerpts are under [content segments](#ev-corpus-segments)."


def segments(reg: Registry, data: ReportData, item_id: str, label: str, query: str,
             segment_ids, value=None, **extra) -> str:
    """A count of passages (value defaults to their number)."""
    segment_ids = sorted(set(segment_ids))
    return reg.link(item_id, len(segment_ids) if value is None else value, label, query,
                    segment_ids, **extra)


def part(value: str) -> str:
    return item_part(value)
