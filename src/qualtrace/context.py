"""Whose view an unattributed finding reports, taken from its context (codebook `context:`).

A key point or summary sentence that names no group ("it was felt that...", "X can strengthen
Y") reports the views of the groups that part of the report draws on. Those are the groups that
the attributed units around it (own rules or a quotation's attribution) report, preferring those
on the same themes: the unit's section on a shared theme, else its chapter on a shared theme,
else its section, else its chapter (a key point, which summarises its chapter, skips its own
section: `chapter_kinds`). A value is taken when at least `min_share` of those units report it. The evidence of an inherited value is the passage it was
taken from (the nearest source unit carrying it), so every value still points at exact text.
"""
from __future__ import annotations

from dataclasses import dataclass, field

OWN = "own"  # the unit's own rules or its quotation's attribution found the values


@dataclass
class UnitFacets:
    """One coded unit's place in its document and the facet values found for it so far."""
    position: int
    kind: str
    section: str
    themes: frozenset
    # facet id -> ({value: (abs start, abs end, rule)}, how): how is OWN, the inherit rule,
    # the fallback rule that answered, or "" for nothing
    found: dict = field(default_factory=dict)


def _pool(unit: UnitFacets, sources: list[UnitFacets], whole_chapter: bool) -> list[UnitFacets]:
    same_section = [] if whole_chapter else [s for s in sources if s.section == unit.section]
    for pool in ([s for s in same_section if s.themes & unit.themes],
                 [s for s in sources if s.themes & unit.themes], same_section, sources):
        if pool:
            return pool
    return []


def inherit_context(units: list[UnitFacets], facet_id: str, context) -> None:
    """Give each eligible unit of one document the values its context reports (in place)."""
    sources = []
    for u in units:
        values, how = u.found.get(facet_id, ({}, ""))
        if how == OWN and any(v not in context.exclude for v in values):
            sources.append(u)
    if not sources:
        return
    for u in units:
        values, how = u.found.get(facet_id, ({}, ""))
        if u.kind not in context.kinds or not (how == "" or how in context.replaces):
            continue
        pool = _pool(u, [s for s in sources if s is not u], u.kind in context.chapter_kinds)
        counts: dict = {}
        for source in pool:
            for value in source.found[facet_id][0]:
                counts[value] = counts.get(value, 0) + 1
        keep = {v for v, n in counts.items() if n >= context.min_share * len(pool)}
        taken: dict = {}
        for source in sorted(pool, key=lambda s: (abs(s.position - u.position), s.position)):
            for value, (start, end, _rule) in sorted(source.found[facet_id][0].items()):
                if value in keep and value not in context.exclude and value not in taken:
                    taken[value] = (start, end, context.rule)
        if taken:
            u.found[facet_id] = (taken, context.rule)
