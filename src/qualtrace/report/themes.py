"""Themes: prevalence chart and table, then each theme's definition and quotations."""
from __future__ import annotations

from . import contrast, items
from .data import ReportData
from .figures import theme_order
from .markdown import excerpt, md_literal, strip_bullet, table
from .templates import render_template
from .numbers import Registry
from .media import figure

MAX_QUOTES = 2
VOICE_CHARS = 180             # excerpt length of a group's passage


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
    voices = theme_voices(reg, data, t)
    if voices:
        lines.append(voices)
    chosen = representative_quotes(data, t)
    if chosen:
        lines.append("Representative quotations:" if len(chosen) > 1
                     else "Representative quotation:")
        lines += [quote_block(data, s) for s in chosen]
    else:
        lines.append("No quotation was coded with this theme.")
    return "\n\n".join(lines)


def theme_voices(reg: Registry, data: ReportData, t: str) -> str:
    """The theme's passages grouped by the values of the voice facet (whose view a passage
    reports, Codebook.voice_facet), one shown per value, preferring one whose text marks a
    contrast, with the contrast cues shown as cues."""
    facet = data.codebook.voice_facet()
    if facet is None or facet.id not in {f.id for f in data.facets}:
        return ""
    groups, contrasting, cue_seen = [], [], []
    in_contrasting: set[str] = set()  # `contrasting` as a set: a list lookup made this quadratic
    for value in facet.values:
        ids = items.ids((data.cell.get((facet.id, t, value.id)) or {}).get("segment_ids", ""))
        segs = [data.segment[s] for s in ids if s in data.segment]
        if not segs:
            continue
        marked = [(s, data.contrast_cues(s)) for s in segs]
        for s, found in marked:
            if found and s["segment_id"] not in in_contrasting:
                in_contrasting.add(s["segment_id"])
                contrasting.append(s["segment_id"])
                cue_seen += [c for c in found if c not in cue_seen]
        pick, found = min(marked, key=lambda m: (not m[1], len(m[0]["text"]),
                                                 m[0]["segment_id"]))
        groups.append({
            "label": md_literal(value.label), "count": len(segs),
            "n": items.facet_cell(reg, data, facet.id, value.id, t),
            "passages": [{"where": f"{md_literal(data.short_chapter(pick['doc_id']))}, line "
                                   f"{pick['line']}, `{pick['segment_id']}`",
                          "segment_id": pick["segment_id"],
                          "text": excerpt(strip_bullet(pick["text"]), VOICE_CHARS),
                          "cues": [md_literal(c) for c in found]}]})
    if not groups:
        return ""
    n_contrast = items.segments(
        reg, data, f"theme-{t}-contrast-cues",
        f"{data.theme_label(t)}: passages whose text marks a contrast",
        f"theme_by_{facet.id}: theme={t} segment_ids whose text holds a contrast cue "
        f"({', '.join(contrast.CUES)})", contrasting, theme=t) if contrasting else ""
    return render_template("theme_voices.md.j2", facet=md_literal(facet.label), groups=groups,
                           n_contrast=n_contrast,
                           cue_list=", ".join(f"\u201c{md_literal(c)}\u201d"
                                              for c in cue_seen)).strip()


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
    text, cut = seg["text"], seg.get("attribution_start")
    if cut:
        rel = cut - seg["start"]
        if 0 < rel <= len(text):
            text = text[:rel]
    return text.strip()


def quote_block(data: ReportData, seg: dict) -> str:
    who = seg["speaker_group_raw"] or "unattributed"
    where = (f"{md_literal(data.chapter(seg['doc_id']))}, line {seg['line']}, segment "
             f"`{seg['segment_id']}`")
    return f"> {md_literal(quote_body(seg))}\n>\n> \u2014 {md_literal(who)} ({where})"
