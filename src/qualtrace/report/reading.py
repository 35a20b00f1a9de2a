"""How to read the report and its limits: what a count counts, how the coding was made, how
far its validity was measured. Data for templates/section_how_to_read.md.j2, from the tables
(every number a link); the wording is the template's."""
from __future__ import annotations

from collections import Counter

from . import items
from .data import ReportData
from .markdown import md_literal
from .numbers import Registry
from .overview import KIND_NAMES, corpus_numbers
from .templates import render_template
from .validity import gold_sets_context

TEMPLATE = "section_how_to_read.md.j2"


def context(reg: Registry, data: ReportData) -> dict:
    n = corpus_numbers(reg, data)
    content = data.countable()
    authored = [s["segment_id"] for s in content if s["kind"] != "quote"]
    n["authored"] = items.segments(
        reg, data, "corpus-authored-segments",
        "Content segments in the authors' own words (not quotations)",
        "segments: boilerplate=false, kind in code_kinds, kind!=quote", authored,
        compact=True, notes=[items.EXCERPTS_UNDER_CORPUS])
    statuses = Counter(r.get("status", "") for r in data.tables["codings"])
    raw = data.codebook.raw or {}
    voice = data.codebook.voice_facet()
    return {
        "n": n,
        "kinds": [KIND_NAMES.get(k, k.replace("_", " ")) for k in sorted(data.codebook.code_kinds)
                  if k != "quote"],
        "codebook": {"name": str(raw.get("codebook", "")), "version": str(raw.get("version", "")),
                     "n_rules": len(data.codebook.rule_ids()), "n_themes": len(data.themes),
                     "facets": [md_literal(f.label) for f in data.codebook.facets]},
        "voice": md_literal(voice.label.lower()) if voice else "",
        "reviewed": {k: v for k, v in sorted(statuses.items()) if k and k != "auto"},
        "gold": gold_sets_context(reg, data),
    }


def section(reg: Registry, data: ReportData) -> str:
    reg.section = "How to read this report"
    return render_template(TEMPLATE, **context(reg, data)).strip()
