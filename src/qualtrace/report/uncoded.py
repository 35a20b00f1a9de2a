"""Uncoded segments: content passages no theme was coded on, so a reader sees what the
codebook missed. Data for templates/section_uncoded.md.j2."""
from __future__ import annotations

from . import items
from .data import ReportData
from .limits import spread
from .markdown import excerpt, md_literal, strip_bullet
from .numbers import Registry
from .templates import render_template

TEMPLATE = "section_uncoded.md.j2"
LISTED = 12          # passages shown in the body (the evidence entry lists more)
EXCERPT_CHARS = 160


def context(reg: Registry, data: ReportData) -> dict:
    content = data.countable()
    uncoded = [s for s in content if not data.themes_of.get(s["segment_id"])]
    n = items.segments(reg, data, "corpus-uncoded-segments",
                       "Content segments with no theme coded",
                       "segments: boilerplate=false, kind in code_kinds, no row in codings",
                       [s["segment_id"] for s in uncoded])
    shown = [data.segment[sid] for sid in spread(sorted(s["segment_id"] for s in uncoded),
                                                 LISTED)]
    return {
        "n_uncoded": n, "n_count": len(uncoded), "n_total": len(content),
        "n_shown": len(shown),
        "passages": [{"where": f"{md_literal(data.short_chapter(s['doc_id']))}, line "
                               f"{s['line']}",
                      "kind": md_literal(s["kind"].replace("_", " ")),
                      "segment_id": s["segment_id"],
                      "text": excerpt(strip_bullet(s["text"]), EXCERPT_CHARS)}
                     for s in shown],
    }


def section(reg: Registry, data: ReportData) -> str:
    reg.section = "Uncoded segments"
    return render_template(TEMPLATE, **context(reg, data)).strip()
