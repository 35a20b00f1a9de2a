"""Checks that every span and hash still points at the characters it claims."""
from __future__ import annotations

import hashlib
from collections import defaultdict
from itertools import chain

from ..corpus.spans import coverage_problems
from .base import CheckResult, Finding, Tables

CONTENT_KINDS = {"key_point", "paragraph", "quote", "list_item"}


def _span_rows(tables: Tables):
    """(table, row, start, end, text) for every row that carries a span."""
    for seg in tables.segments:
        yield "segments", seg, seg["start"], seg["end"], seg["text"]
    for name, rows in (("codings", tables.codings), ("facets", tables.facets)):
        for row in rows:
            yield name, row, row["evidence_start"], row["evidence_end"], row["evidence_text"]


def _span_mismatch(raw: str | None, s: int | None, e: int | None, text: str) -> str:
    if raw is None:
        return "its document is not in documents.csv"
    if s is None or e is None:
        return f"span {s}:{e} is not a pair of offsets"
    if not 0 <= s <= e <= len(raw):
        return f"span {s}:{e} lies outside the document (length {len(raw)})"
    if raw[s:e] != text:
        return f"raw text at {s}:{e} is {raw[s:e][:60]!r}, the table says {text[:60]!r}"
    return ""


def span_integrity(tables: Tables) -> CheckResult:
    items = []
    for doc in tables.documents:
        data = tables.raw_bytes.get(doc["doc_id"])
        actual = hashlib.sha256(data).hexdigest() if data is not None else "missing"
        if actual != doc["sha256"]:
            items.append(Finding(doc["path"], doc["doc_id"], detail=(
                f"sha256 of the file is {actual}, documents.csv records {doc['sha256']}: the raw "
                "file changed after ingestion; rebuild")))
    n_spans = 0
    for table, row, start, end, text in _span_rows(tables):
        n_spans += 1
        problem = _span_mismatch(tables.raw_texts.get(row["doc_id"]), start, end, text)
        if problem:
            items.append(Finding(f"{table}:{row['segment_id']}", row["doc_id"],
                                 row["segment_id"], start, end, problem))
    return CheckResult("span_integrity", not items,
                       f"{len(tables.documents)} file hashes and {n_spans} spans verified; "
                       f"{len(items)} problems", items)


def _coverage_problems(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """`coverage_problems`, without its per-character loop when the segmentation is sound.

    In start order every uncovered or doubly covered character lies in a gap between the spans
    covered so far and the next span, or in its overlap with them; if all of those are blank
    there is nothing to report. Otherwise the exact per-character report is made.
    """
    covered = 0                                  # text[:covered] is covered by some span
    for start, end in sorted(spans):
        if not 0 <= start <= end <= len(text):
            return coverage_problems(text, spans)
        if start > covered and text[covered:start].strip():
            return coverage_problems(text, spans)
        if start < covered and text[start:min(end, covered)].strip():
            return coverage_problems(text, spans)
        covered = max(covered, end)
    return coverage_problems(text, spans) if text[covered:].strip() else []


def lossless(tables: Tables) -> CheckResult:
    # Group once: scanning all segments for each document grew with documents x segments.
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for seg in tables.segments:
        by_doc[seg["doc_id"]].append(seg)
    items = []
    for doc in tables.documents:
        raw = tables.raw_texts.get(doc["doc_id"], "")
        spans = [(s["start"], s["end"]) for s in by_doc.get(doc["doc_id"], ())]
        items += [Finding(doc["path"], doc["doc_id"], detail=p)
                  for p in _coverage_problems(raw, spans)]
    return CheckResult("lossless", not items,
                       "every non-whitespace character is in exactly one segment" if not items
                       else f"{len(items)} characters uncovered or covered twice", items)


def quote_verbatim(tables: Tables) -> CheckResult:
    """Quotations and evidence excerpts, which the report shows, are verbatim at their spans."""
    items, n = [], 0
    # A generator: a list would hold a tuple per coding and facet row at once.
    excerpts = chain(
        (("quotation", s, s["start"], s["end"], s["text"])
         for s in tables.segments if s["kind"] == "quote"),
        (("excerpt", r, r["evidence_start"], r["evidence_end"], r["evidence_text"])
         for r in chain(tables.codings, tables.facets)))
    for what, row, start, end, text in excerpts:
        n += 1
        problem = _span_mismatch(tables.raw_texts.get(row["doc_id"]), start, end, text)
        if problem:
            items.append(Finding(f"{what}:{row['segment_id']}", row["doc_id"], row["segment_id"],
                                 start, end, problem))
    return CheckResult("quote_verbatim", not items,
                       f"{n} quotations and excerpts verbatim in their sources", items)


def boilerplate(tables: Tables) -> CheckResult:
    """Repeated text is flagged, and nothing flagged is coded or counted."""
    flagged = tables.boilerplate_ids()
    items = [Finding(f"{table}:{row['segment_id']}", row["doc_id"], row["segment_id"],
                     detail=f"{table} codes a boilerplate segment")
             for table, rows in (("codings", tables.codings), ("facets", tables.facets))
             for row in rows if row["segment_id"] in flagged]
    for name, rows in tables.breakdowns.items():
        for row in rows:
            for seg_id in row.get("segment_ids", "").split():
                if seg_id in flagged:
                    items.append(Finding(f"{name}:{seg_id}", segment_id=seg_id,
                                         detail=f"{name} counts a boilerplate segment"))
    repeated = [s for s in tables.segments if s.get("repeated_across_documents")]
    unflagged = [s for s in repeated if not s["boilerplate"]]
    items += [Finding(f"segments:{s['segment_id']}", s["doc_id"], s["segment_id"],
                      detail="text repeated across documents is not flagged boilerplate")
              for s in unflagged]
    n_boiler = sum(bool(s["boilerplate"]) for s in tables.segments)
    return CheckResult("boilerplate", not items,
                       f"{n_boiler} boilerplate segments ({len(repeated)} repeated across "
                       "documents) excluded from all codings and counts", items)
