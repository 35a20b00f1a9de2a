"""Read the tables the checks need from disk."""
from __future__ import annotations

from pathlib import Path

from ..common.io import InputError, decode_raw, read_raw_bytes
from ..common.tables import read_table, records, table_name
from .base import Tables


def load_tables(documents: str, segments: str, codings: str, facets: str,
                breakdowns: list[str], codebook=None,
                review_decisions: str | None = None) -> Tables:
    docs = records(read_table(documents, "documents"))
    raw_bytes, raw_texts = {}, {}
    for doc in docs:
        path = Path(doc["path"])
        if not path.is_file() and not path.is_symlink():
            continue  # missing: span_integrity reports it
        try:
            raw_bytes[doc["doc_id"]] = data = read_raw_bytes(path)
            raw_texts[doc["doc_id"]] = decode_raw(data, path)
        except InputError:
            continue  # a link, or no longer UTF-8: unread, so span_integrity reports it
    return Tables(
        documents=docs, segments=records(read_table(segments, "segments")),
        codings=records(read_table(codings, "codings")),
        facets=records(read_table(facets, "facets")),
        breakdowns={table_name(p): records(read_table(p)) for p in sorted(breakdowns)},
        raw_bytes=raw_bytes, raw_texts=raw_texts, codebook=codebook,
        review_decisions=(records(read_table(review_decisions, "review_decisions"))
                          if review_decisions else []))
