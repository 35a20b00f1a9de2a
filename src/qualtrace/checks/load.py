"""Read the tables the checks need from disk."""
from __future__ import annotations

from pathlib import Path

from ..common.io import InputError, decode_raw, read_csv, read_raw_bytes
from .base import Tables


def load_tables(documents: str, segments: str, codings: str, facets: str,
                breakdowns: list[str], codebook=None,
                review_decisions: str | None = None) -> Tables:
    docs = read_csv(documents)
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
        documents=docs, segments=read_csv(segments), codings=read_csv(codings),
        facets=read_csv(facets),
        breakdowns={Path(p).stem: read_csv(p) for p in sorted(breakdowns)},
        raw_bytes=raw_bytes, raw_texts=raw_texts, codebook=codebook,
        review_decisions=read_csv(review_decisions) if review_decisions else [])
