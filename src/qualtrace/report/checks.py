"""Consistency checks: every check with its status, and the items each one lists."""
from __future__ import annotations

from collections import defaultdict

from .. import layout
from . import items
from .data import ReportData
from .limits import CHECK_ITEMS, DETAIL_CHARS
from .markdown import md_literal, table
from .numbers import Registry


def _items_of(data: ReportData) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for row in data.tables["check_items"]:
        out[row["check_id"]].append(row)
    return out


def count(reg: Registry, data: ReportData, check: dict) -> str:
    """The check's n_items, linked to the passages its items point at."""
    listed = _items_of(data).get(check["check_id"], [])
    segs = [r["segment_id"] for r in listed if r["segment_id"] in data.segment]
    loose = len(listed) - len(segs)
    notes = [f"{loose} of the listed items point at no segment; they are listed under "
             f"[the check's items](#check-{items.part(check['check_id'])})."] if loose else []
    return reg.link(f"check-{items.part(check['check_id'])}-items", check["n_items"],
                    f"Check {check['check_id']}: items listed",
                    f"checks: check_id={check['check_id']} (n_items); passages from "
                    "check_items.segment_id", segs, notes=notes)


def totals(reg: Registry, data: ReportData) -> tuple[str, str]:
    rows = data.tables["checks"]
    passed = [r["check_id"] for r in rows if outcome(r) == "pass"]
    note = ["No source passages: this number counts checks. " + (
        "They are: " + ", ".join(md_literal(c) for c in passed) + "." if passed else "")]
    run = reg.link("checks-run", len(rows), "Consistency checks run",
                   "checks: all rows", [], notes=["No source passages: this number counts "
                                                  "the checks in the table of checks."])
    ok = reg.link("checks-passed", len(passed), "Consistency checks passed",
                  "checks: status=pass", [], notes=note)
    return ok, run


def outcome(check: dict) -> str:
    """`pass`, `fail`, or `notice`: an info-level check that reports something is a notice for
    the reader, never a failure."""
    if check["status"] == "pass":
        return "pass"
    return "notice" if check["severity"] == "info" else "fail"


def summary(reg: Registry, data: ReportData) -> str:
    rows = data.tables["checks"]
    if not rows:
        return "- **Consistency checks.** No consistency check was run."
    ok, run = totals(reg, data)
    text = f"- **Consistency checks.** {ok} of {run} checks passed"
    listed = _items_of(data)
    for kind, words in (("fail", "failures"), ("notice", "notices (for information, not "
                                                           "failures)")):
        found = [r for r in rows if outcome(r) == kind]
        if found:
            text += f"; {words}: " + "; ".join(
                f"{_name(r, bool(listed.get(r['check_id'])))} ({md_literal(r['severity'])}, "
                f"{count(reg, data, r)} items)" for r in found)
    return text + "."


def section(reg: Registry, data: ReportData) -> str:
    reg.section = "Consistency checks"
    rows = data.tables["checks"]
    parts = ["## Consistency checks {#checks}",
             "The pipeline checks its own output (spans, counts, attributions, key points "
             "against the body text) and shows every result here; a failing check with "
             "severity *error* stops the build, so failures shown are warnings. A check of "
             "severity *info* that finds something is a notice (for information, such as "
             "codebook rules that never fired), not a failure."]
    if not rows:
        parts.append("No consistency check was run.")
        return "\n\n".join(parts)
    ok, run = totals(reg, data)
    failed = sum(outcome(r) == "fail" for r in rows)
    notices = sum(outcome(r) == "notice" for r in rows)
    parts.append(f"{ok} of {run} checks passed; {failed} failed (warnings) and {notices} "
                 f"{'is a notice' if notices == 1 else 'are notices'}.")
    listed = _items_of(data)
    shown = {"pass": "pass", "fail": "**fail**", "notice": "notice"}
    table_rows = [[_name(r, bool(listed.get(r["check_id"]))), md_literal(r["severity"]),
                   shown[outcome(r)],
                   count(reg, data, r), detail(r["detail"], "checks.csv")] for r in rows]
    parts.append(table(["Check", "Severity", "Status", "Items", "Detail"], table_rows,
                       "lllrl", caption="Consistency checks", widths=[5, 2, 2, 2, 10],
                       identifier="tbl-checks"))
    for r in rows:
        if listed.get(r["check_id"]):
            parts.append(_check_items(data, r, listed[r["check_id"]]))
    return "\n\n".join(parts)


def _name(check: dict, has_items: bool) -> str:
    """The check id, linked to its list of items when it has one."""
    name = md_literal(check["check_id"])
    return f"[{name}](#check-{items.part(check['check_id'])})" if has_items else name


MAX_ITEMS = CHECK_ITEMS  # per check; the complete list is data/processed/check_items.csv


def detail(text: str, table_name: str) -> str:
    """A check's detail as Markdown, cut past DETAIL_CHARS (some list every occurrence)."""
    text = " ".join(str(text).split())
    if len(text) <= DETAIL_CHARS:
        return md_literal(text)
    cut = text[:DETAIL_CHARS].rsplit(" ", 1)[0]
    return (f"{md_literal(cut)} \u2026 (cut at {DETAIL_CHARS} characters; the full text is in "
            f"`{layout.PROCESSED}/{table_name}`)")


def _check_items(data: ReportData, check: dict, rows: list[dict]) -> str:
    head = (f"### {md_literal(check['check_id'])} {{#check-{items.part(check['check_id'])}}}")
    status = {"pass": "passed", "fail": "failed", "notice": "a notice"}[outcome(check)]
    intro = (f"Severity {md_literal(check['severity'])}; {status}: "
             f"{detail(check['detail'], 'checks.csv')}.")
    body = []
    if len(rows) > MAX_ITEMS:
        intro += (f" The first {MAX_ITEMS} of {len(rows)} items are listed; all are in "
                  f"`{layout.table('check_items')}`.")
    for r in rows[:MAX_ITEMS]:
        seg = data.segment.get(r["segment_id"])
        if seg:
            where = (f"{md_literal(data.short_chapter(seg['doc_id']))}, line {seg['line']}, "
                     f"`{seg['segment_id']}`")
        elif r["doc_id"]:
            where = md_literal(f"{data.short_chapter(r['doc_id'])}, characters "
                               f"{r['start']}\u2013{r['end']}" if r["start"] is not None else
                               data.short_chapter(r["doc_id"]))
        else:
            where = "corpus"
        body.append([md_literal(r["item"]), where, detail(r["detail"], "check_items.csv")])
    return "\n\n".join([head, intro, table(["Item", "Where", "Detail"], body, "lll",
                                           widths=[5, 5, 10])])
