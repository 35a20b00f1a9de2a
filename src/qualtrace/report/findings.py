"""Key findings: the story first, as sentences generated from the tables.

Every number in a sentence is the same item (same id, same passages) as in the tables below,
so a reader can click from a finding straight to its evidence.
"""
from __future__ import annotations

from . import checks, items, validity
from .data import ReportData
from .markdown import md_literal
from .numbers import Registry
from .overview import corpus_numbers
from .themes import ordered

TOP = 3


def section(reg: Registry, data: ReportData) -> str:
    reg.section = "Key findings"
    bullets = [_overall(reg, data)]
    for facet in data.facets:
        bullets.append(_facet(reg, data, facet))
    bullets.append(_cooccurrence(reg, data))
    bullets.append(checks.summary(reg, data))
    score = validity.summary(reg, data)
    if score:
        bullets.append(score)
    return "## Key findings {#key-findings}\n\n" + "\n\n".join(
        b for b in bullets if b)


def _overall(reg: Registry, data: ReportData) -> str:
    n = corpus_numbers(reg, data)
    leading = [t for t in ordered(data) if _count(data, t) > 0][:TOP]
    if not leading:
        return (f"- **Overall.** No theme was coded in the {n['segments']} content segments "
                f"of the {n['documents']} documents.")
    described = [f"{_theme(data, t)} ({items.theme(reg, data, t, 'segments')} segments in "
                 f"{items.theme(reg, data, t, 'documents')} documents, with "
                 f"{items.theme(reg, data, t, 'quotations')} quotations)" for t in leading]
    return (f"- **Overall.** Of {n['segments']} content segments in {n['documents']} "
            f"documents, {n['coded']} were coded with at least one theme. The most frequently "
            f"coded themes were {_series(described)}.")


def _facet(reg: Registry, data: ReportData, facet) -> str:
    lines = [f"- **By {md_literal(facet.label.lower())}.**"]
    for value in facet.values:
        counts = {t: int((data.cell.get((facet.id, t, value.id)) or {}).get("n_segments", 0)
                         or 0) for t in ordered(data)}
        leading = sorted((t for t in ordered(data) if counts[t] > 0),
                         key=lambda t: -counts[t])[:TOP]
        name = f"**{md_literal(value.label)}**"
        coded = items.facet_coded(reg, data, facet.id, value.id)
        if not leading:
            lines.append(f"    - {name}: {coded} coded segments; no theme stands out.")
            continue
        described = [f"{_theme(data, t)} ({items.facet_cell(reg, data, facet.id, value.id, t)})"
                     for t in leading]
        lines.append(f"    - {name}: of {coded} coded segments, the leading "
                     f"{'theme was' if len(leading) == 1 else 'themes were'} "
                     f"{_series(described)}.")
    return "\n".join(lines)


def _cooccurrence(reg: Registry, data: ReportData) -> str:
    best = None
    order = ordered(data)
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            row = data.pair.get((a, b)) or data.pair.get((b, a)) or {}
            n = row.get("n_segments") or 0
            if n and (best is None or n > best[0]):
                best = (n, a, b)
    if best is None:
        return ""
    _, a, b = best
    return (f"- **Themes together.** The pair coded together most often was {_theme(data, a)} "
            f"with {_theme(data, b)} ({items.pair(reg, data, a, b)} segments).")


def _theme(data: ReportData, t: str) -> str:
    return f"[{md_literal(data.theme_label(t))}](#theme-{t})"


def _count(data: ReportData, t: str) -> int:
    return (data.summary.get(t) or {}).get("n_segments") or 0


def _series(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
