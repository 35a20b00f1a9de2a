"""Run every check in a fixed order and turn results into table rows."""
from __future__ import annotations

from . import content, counts, integrity, review
from .base import CheckResult, Tables

DEFAULT_SEVERITY = {
    "span_integrity": "error",
    "lossless": "error",
    "quote_verbatim": "error",
    "count_evidence": "error",
    "boilerplate": "error",
    "attribution_labels": "warning",
    "cross_references": "warning",
    "key_point_support": "warning",
    "codebook_health": "info",
    "quotation_shape": "warning",
    "document_structure": "warning",
    "review": "warning",
}


class ChecksFailed(Exception):
    """An error-severity check failed; the message names the checks and their items."""


def run_checks(tables: Tables, severity: dict[str, str] | None = None):
    """Return (check rows, item rows, key point rows, error message or "")."""
    levels = {**DEFAULT_SEVERITY, **(severity or {})}
    unknown = sorted(set(severity or {}) - set(DEFAULT_SEVERITY))
    if unknown:
        raise ChecksFailed(f"config checks.severity names unknown checks {unknown}; "
                           f"known: {sorted(DEFAULT_SEVERITY)}")
    support, key_points = content.key_point_support(tables)
    results: list[CheckResult] = [
        integrity.span_integrity(tables), integrity.lossless(tables),
        integrity.quote_verbatim(tables), counts.count_evidence(tables),
        content.attribution_labels(tables), content.cross_references(tables), support,
        content.codebook_health(tables), integrity.boilerplate(tables),
        content.quotation_shape(tables), content.document_structure(tables),
        review.review_decisions(tables),
    ]
    check_rows, item_rows, errors = [], [], []
    for result in results:
        level = levels[result.check_id]
        check_rows.append({"check_id": result.check_id, "severity": level,
                           "status": "pass" if result.passed else "fail",
                           "n_items": len(result.items), "detail": result.detail})
        item_rows += [{"check_id": result.check_id, **vars(item)} for item in result.items]
        if level == "error" and not result.passed:
            listed = "\n".join(f"  - {i.item}: {i.detail}" for i in result.items[:10])
            more = f"\n  ... and {len(result.items) - 10} more" if len(result.items) > 10 else ""
            errors.append(f"check {result.check_id} failed ({result.detail}):\n{listed}{more}")
    return check_rows, item_rows, key_points, "\n".join(errors)
