"""Whose view an unattributed finding reports, taken from its context (codebook `context:`).

A key point or summary sentence that names no group ("it was felt that...", "X can strengthen
Y") reports the views of the groups that part of the report draws on. Those are the groups that
the attributed units around it (own rules or a quotation's attribution) report, preferring those
on the same themes: the unit's section on a shared theme, else its chapter on a shared theme,
else its section, else its chapter (a key point, which summarises its chapter, skips its own
section: `chapter_kinds`), the `nearest` few of them. A value is taken when at least `min_share`
of those units report it. The evidence of an inherited value is the passage it was
taken from (the nearest source unit carrying it), so every value still points at exact text.
"""
from __future__ import annotations

from bisect import bisect_left
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


# How far (in attributed units, each way) a unit looks for its context: a chapter's worth.
# It bounds the work per unit, so a very long document costs time in proportion to its length.
REACH = 25


def _nearest(unit: UnitFacets, sources: list[UnitFacets], positions: list[int],
             whole_chapter: bool, wanted: int) -> list[UnitFacets]:
    """The sources nearest the unit (up to `wanted`) in the first non-empty of: same section and
    a shared theme, any section and a shared theme, same section, any."""
    pools: tuple[list, list, list, list] = ([], [], [], [])
    after = bisect_left(positions, unit.position)
    before = after - 1
    for _ in range(2 * REACH):
        if before >= 0 and (after >= len(sources) or
                            unit.position - positions[before] <= positions[after] - unit.position):
            source = sources[before]
            before -= 1
        elif after < len(sources):
            source = sources[after]
            after += 1
        else:
            break
        shared = bool(source.themes & unit.themes)
        same = not whole_chapter and source.section == unit.section
        for pool, fits in zip(pools, (same and shared, shared, same, True)):
            if fits and len(pool) < wanted:
                pool.append(source)
        if len(pools[0]) >= wanted:
            break
    return next((pool for pool in pools if pool), [])


def inherit_context(units: list[UnitFacets], facet_id: str, context) -> None:
    """Give each eligible unit of one document the values its context reports (in place)."""
    sources = []
    for u in units:
        values, how = u.found.get(facet_id, ({}, ""))
        if how == OWN and any(v not in context.exclude for v in values):
            sources.append(u)
    if not sources:
        return
    positions = [s.position for s in sources]
    for u in units:
        values, how = u.found.get(facet_id, ({}, ""))
        if u.kind not in context.kinds or not (how == "" or how in context.replaces):
            continue
        pool = _nearest(u, sources, positions, u.kind in context.chapter_kinds, context.nearest)
        counts: dict = {}
        for source in pool:
            for value in source.found[facet_id][0]:
                counts[value] = counts.get(value, 0) + 1
        need = context.min_share * len(pool)
        taken: dict = {}
        for source in pool:  # (nearest first: the evidence is the nearest passage)
            for value, (start, end, _rule) in sorted(source.found[facet_id][0].items()):
                if counts[value] >= need and value not in context.exclude and value not in taken:
                    taken[value] = (start, end, context.rule)
        if taken:
            u.found[facet_id] = (taken, context.rule)
