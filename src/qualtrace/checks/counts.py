"""Checks that every count equals its evidence and that tables agree with each other."""
from __future__ import annotations

from ..analysis.breakdowns import verify_table
from .base import CheckResult, Finding, Tables


def _theme_ids_from_codings(tables: Tables) -> dict[str, set[str]]:
    flagged = tables.boilerplate_ids()
    ids: dict[str, set[str]] = {}
    for row in tables.codings:
        if row["segment_id"] not in flagged:
            ids.setdefault(row["theme"], set()).add(row["segment_id"])
    return ids


def count_evidence(tables: Tables) -> CheckResult:
    items = [Finding(f"{name}", detail=problem)
             for name, rows in tables.breakdowns.items()
             for problem in verify_table(rows, name)]
    coded = _theme_ids_from_codings(tables)
    summary = {row["theme"]: row for row in tables.breakdowns.get("theme_summary", [])}
    # Each theme's total id set, split once rather than once per breakdown row that uses it.
    totals = {theme: set(row["segment_ids"].split()) for theme, row in summary.items()}
    for theme, row in summary.items():
        ids = totals[theme]
        if ids != coded.get(theme, set()):
            items.append(Finding(f"theme_summary:{theme}", detail=(
                f"theme_summary lists {len(ids)} segments for {theme}, codings.csv has "
                f"{len(coded.get(theme, set()))}")))
    for name, rows in tables.breakdowns.items():
        for row in rows:
            theme = row.get("theme") or (row.get("theme_a") if row.get("theme_a") ==
                                         row.get("theme_b") else None)
            if theme is None or theme not in summary:
                continue
            ids = set(row["segment_ids"].split())
            total = totals[theme]
            where = f"{name}:{theme}" + (f"={row['value']}" if "value" in row else "")
            if not ids <= total:
                items.append(Finding(where, detail=(
                    f"{sorted(ids - total)[:5]} are counted here but not in the theme total")))
            if name == "theme_cooccurrence" and ids != total:
                items.append(Finding(where, detail="the diagonal differs from the theme total"))
    n_counts = sum(len(rows) for rows in tables.breakdowns.values())
    return CheckResult("count_evidence", not items,
                       f"{n_counts} breakdown rows: every count equals its listed ids and agrees "
                       "with the theme totals" if not items else f"{len(items)} disagreements",
                       items)
