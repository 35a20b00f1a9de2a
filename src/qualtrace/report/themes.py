"""Themes: prevalence chart and table, then each theme's definition and quotations."""
from __future__ import annotations

from . import items
from .data import ReportData
from .figures import theme_order
from .markdown import md_literal, table
from .numbers import Registry
from .media import figure

MAX_QUOTES = 3


def ordered(data: ReportData) -> list[str]:
    """Themes by segments coded (most first), ties in codebook order."""
    return theme_order(data.tables["theme_summary"], [t.id for t in data.themes])


def section(reg: Registry, data: ReportData, figures: dict[str, tuple[str, str]]) -> str:
    reg.section = "Themes"
    rows = []
    for t in ordered(data):
        rows.append([f"[{md_literal(data.theme_label(t))}](#theme-{t})"]
                    + [items.theme(reg, data, t, m) for m in items.THEME_MEASURES])
    parts = [
        "## Themes {#themes}",
        "How often each theme of the codebook was coded. A segment is one paragraph, key "
        "point, list item or quotation; a segment can carry several themes. *Documents* and "
        "*interviews* count the distinct documents and quoted interviews among the theme's "
        "segments.",
        figure(*figures["prevalence"], "fig-prevalence"),
        table(["Theme", "Segments", "Documents", "Key points", "Quotations", "Interviews"],
              rows, "lrrrrr", caption="Themes by number of coded segments",
              widths=[10, 2, 2, 2, 2, 2], identifier="tbl-themes"),
    ]
    for t in ordered(data):
        parts.append(_theme_block(reg, data, t))
    return "\n\n".join(parts)


def _theme_block(reg: Registry, data: ReportData, t: str) -> str:
    label = data.theme_label(t)
    definition = data.theme[t].definition if t in data.theme else ""
    n = {m: items.theme(reg, data, t, m) for m in items.THEME_MEASURES}
    lines = [f"### {md_literal(label)} {{#theme-{t}}}",
             f"*Definition.* {md_literal(definition)}",
             f"Coded in {n['segments']} segments across {n['documents']} documents, including "
             f"{n['key-points']} key points and {n['quotations']} quotations from "
             f"{n['interviews']} interviews."]
    chosen = representative_quotes(data, t)
    if chosen:
        lines.append("Representative quotations:" if len(chosen) > 1
                     else "Representative quotation:")
        lines += [quote_block(data, s) for s in chosen]
    else:
        lines.append("No quotation was coded with this theme.")
    return "\n\n".join(lines)


def representative_quotes(data: ReportData, theme_id: str, limit: int = MAX_QUOTES):
    """Up to `limit` quotations coded with the theme, chosen deterministically.

    Each pick prefers an interview not yet shown, then a speaker group not yet shown, then
    the shorter quotation, then the segment id: varied voices, readable length, stable order.
    """
    row = data.summary.get(theme_id) or {}
    pool = [data.segment[s] for s in row.get("quotation_ids", "").split() if s in data.segment]
    chosen, interviews, groups = [], set(), set()
    while pool and len(chosen) < limit:
        best = min(pool, key=lambda s: (
            bool(s["interview_id"]) and s["interview_id"] in interviews,
            s["speaker_group"] in groups, len(quote_body(s)), s["segment_id"]))
        pool.remove(best)
        chosen.append(best)
        interviews.add(best["interview_id"])
        groups.add(best["speaker_group"])
    return chosen


def quote_body(seg: dict) -> str:
    """What the speaker said: the quotation without its printed (attribution)."""
    text, cut = seg["text"], seg.get("attribution_start") or ""
    if cut:
        rel = int(cut) - int(seg["start"])
        if 0 < rel <= len(text):
            text = text[:rel]
    return text.strip()


def quote_block(data: ReportData, seg: dict) -> str:
    who = seg["speaker_group_raw"] or "unattributed"
    where = (f"{md_literal(data.chapter(seg['doc_id']))}, line {seg['line']}, segment "
             f"`{seg['segment_id']}`")
    return f"> {md_literal(quote_body(seg))}\n>\n> \u2014 {md_literal(who)} ({where})"
