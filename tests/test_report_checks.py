"""How the report frames check results: info-level findings are notices, never failures."""
from __future__ import annotations

from types import SimpleNamespace

from qualtrace.report import checks
from qualtrace.report.numbers import Registry

ROWS = [
    {"check_id": "lossless", "severity": "error", "status": "pass", "n_items": "0", "detail": ""},
    {"check_id": "attribution_labels", "severity": "warning", "status": "fail", "n_items": "3",
     "detail": "three spellings"},
    {"check_id": "codebook_health", "severity": "info", "status": "fail", "n_items": "24",
     "detail": "rules never fired"},
]


def data():
    return SimpleNamespace(tables={"checks": ROWS, "check_items": []}, segment={})


def test_info_level_finding_is_a_notice_not_a_failure():
    assert [checks.outcome(r) for r in ROWS] == ["pass", "fail", "notice"]
    text = checks.summary(Registry(), data())
    failures, notices = text.split("; failures: ")[1].split("; notices")
    assert "attribution\\_labels" in failures and "codebook" not in failures
    assert "codebook\\_health" in notices and "not failures" in notices


def test_checks_section_counts_failures_and_notices_apart():
    text = checks.section(Registry(), data())
    assert "1 failed (warnings) and 1 is a notice" in text
    row = next(line for line in text.splitlines() if line.startswith("| codebook"))
    assert "| notice |" in row and "fail" not in row
