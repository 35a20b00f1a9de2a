"""Caps that keep the report a summary whose size does not grow with the corpus.

The report is read, not grepped. Past these caps a section shows a summary or the first rows and
says, in the report's text, what was left out and where the complete list is; nothing is lost:
every number shown keeps its full list of segment ids in `data/processed/report_numbers.csv`
(`qualtrace trace <item id>` prints them all), and the tables in `data/processed/` hold every row.
None of the caps bites on a corpus of a few documents (the seeds, the test fixtures).
"""
from __future__ import annotations

# Evidence appendix. Each number lists at most MAX_PASSAGES passages with their excerpts; when
# the report has so many numbers that all of them together would list more than
# PASSAGE_BUDGET excerpts, the per-number cap is lowered (never below MIN_PASSAGES) until they
# fit, so numbers with few passages still list them all. A capped list is a sample taken at
# even intervals through the full, sorted list (so from across the corpus, not only its first
# documents). Numbers listed by locator only (document and line, excerpts shown elsewhere) list
# at most MAX_PASSAGES locators.
MAX_PASSAGES = 60
MIN_PASSAGES = 5
PASSAGE_BUDGET = 1200

# Key points: listed one by one, per document, while at most KEY_POINT_DOCUMENTS documents have
# key points; beyond that the section shows totals, a table by document (at most
# KEY_POINT_TABLE_ROWS rows, documents with the most unsupported key points first) and the first
# UNSUPPORTED_LISTED unsupported key points. All are in data/processed/key_point_support.csv.
KEY_POINT_DOCUMENTS = 10
KEY_POINT_TABLE_ROWS = 20
UNSUPPORTED_LISTED = 30

# Overview: rows of the documents table (all rows are in data/processed/documents.csv) and of
# the interview groups table (all quotations, with their group, are in segments.csv).
DOCUMENT_ROWS = 25
GROUP_ROWS = 25

# Consistency checks: items listed under each check (all in data/processed/check_items.csv),
# and characters of a check's detail text shown (some details list every occurrence).
CHECK_ITEMS = 60
DETAIL_CHARS = 400

# Provenance appendix: input files listed with their sha256 (all are in documents.csv and
# reports/provenance.json).
INPUT_ROWS = 25


def passage_cap(sizes, budget: int = PASSAGE_BUDGET, most: int = MAX_PASSAGES,
                least: int = MIN_PASSAGES) -> int:
    """The largest cap k (least <= k <= most) with sum(min(n, k) for n in sizes) <= budget."""
    sizes = list(sizes)
    for k in range(most, least, -1):
        if sum(min(n, k) for n in sizes) <= budget:
            return k
    return least


def spread(ids, k: int) -> list:
    """`k` of `ids` at even intervals (the first included), in their order; all if <= k."""
    ids = list(ids)
    n = len(ids)
    if n <= k:
        return ids
    return [ids[(i * n) // k] for i in range(k)]
