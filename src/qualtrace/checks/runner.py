"""Run every check in a fixed order and turn results into table rows."""
from __future__ import annotations

from ..common.io import InputError
from ..common.terminal import printable
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


class ChecksFailed(InputError):
    """The checks cannot run as configured (e.g. an unknown check named in the config)."""


class ErrorChecksFailed(InputError):
    """An error-severity check failed; the message names the checks and their items, one per
    line."""

    listing = True


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
    check_rows, item_rows = [], []
    for result in results:
        check_rows.append({"check_id": result.check_id, "severity": levels[result.check_id],
                           "status": "pass" if result.passed else "fail",
                           "n_items": len(result.items), "detail": result.detail})
        item_rows += [{"check_id": result.check_id, **vars(item)} for item in result.items]
    return check_rows, item_rows, key_points, failed_errors(check_rows, item_rows)


def failed_errors(check_rows: list[dict], item_rows: list[dict], listed: int = 10) -> str:
    """The error-severity checks that failed, each with its first items, or "" if none did.
    Works on the rows as run_checks makes them or as checks.csv / check_items.csv hold them."""
    errors = []
    for check in check_rows:
        if check["severity"] != "error" or check["status"] != "fail":
            continue
        items = [i for i in item_rows if i["check_id"] == check["check_id"]]
        # Items quote source text (attributions, excerpts): data, never terminal control.
        lines = "\n".join(f"  - {printable(i['item'])}: {printable(i['detail'])}"
                          for i in items[:listed])
        more = f"\n  ... and {len(items) - listed} more" if len(items) > listed else ""
        errors.append(f"check {check['check_id']} failed ({check['detail']}):\n{lines}{more}")
    return "\n".join(errors)
