"""The `review` check: decisions in data/review/ that could not be applied, with file:line."""
from __future__ import annotations

from .base import CheckResult, Finding, Tables

# Outcomes a researcher must act on: review again (stale), fix or drop (unknown), or settle
# with the other reviewer (conflict). `superseded` rows are the normal history of a file.
LISTED = ("stale", "unknown", "conflict")


def review_decisions(tables: Tables) -> CheckResult:
    rows = tables.review_decisions
    segments = tables.segments_by_id() if any(r["outcome"] in LISTED for r in rows) else {}
    items = []
    for row in rows:
        if row["outcome"] not in LISTED:
            continue
        seg = segments.get(row["segment_id"], {})
        items.append(Finding(
            f"{row['file']}:{row['line']}", seg.get("doc_id", ""), row["segment_id"],
            seg.get("start", ""), seg.get("end", ""),
            f"{row['outcome']}: {row['reviewer']} {row['decision']} {row['facet']}="
            f"{row['label']}: {row['detail']}"))
    counts = {o: sum(r["outcome"] == o for r in rows) for o in ("applied", *LISTED)}
    return CheckResult(
        "review", not items,
        f"{len(rows)} review decisions: " + ", ".join(f"{n} {o}" for o, n in counts.items()),
        items)
