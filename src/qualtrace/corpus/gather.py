"""Gather per-document segments into the corpus tables and flag cross-document boilerplate."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from ..common.io import InputError
from ..common.tables import write_table


def normalise(text: str) -> str:
    # Runs of whitespace become one space (str.split() and the regex \s agree on what is
    # whitespace: both use str.isspace); several times faster than re.sub on 50,000 segments.
    return " ".join(text.lstrip("\ufeff").split()).casefold()


def refuse_duplicates(documents: list[dict]) -> None:
    """The same text under two names would be counted twice; refuse it by name."""
    seen: dict[str, str] = {}
    for doc in documents:
        key = doc["content_key"]
        if key in seen:
            raise InputError(
                f"{doc['path']}: has the same text as {seen[key]}; the same document under two "
                "names would be counted twice. Remove one of them from the corpus")
        seen[key] = doc["path"]


def mark_repeated_text(segments: list[dict]) -> list[dict]:
    """Text that occurs in two or more documents (a report's preamble, title, page furniture)
    is boilerplate: kept as a segment, never coded or counted."""
    keys = [normalise(seg["text"]) for seg in segments]
    docs_by_text: dict[str, set[str]] = defaultdict(set)
    for key, seg in zip(keys, segments):
        docs_by_text[key].add(seg["doc_id"])
    for key, seg in zip(keys, segments):
        repeated = len(docs_by_text[key]) > 1
        seg["boilerplate"] = bool(seg["boilerplate"]) or repeated
        seg["repeated_across_documents"] = repeated
    return segments


def load_parsed(paths: list[str]) -> list[dict]:
    """Parsed documents from `qualtrace ingest` outputs: one object per file, or a list of them
    (a batch)."""
    parsed = []
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        parsed.extend(data if isinstance(data, list) else [data])
    return parsed


def gather(parsed_paths: list[str], documents_csv: str, segments_csv: str) -> None:
    parsed = load_parsed(parsed_paths)
    parsed.sort(key=lambda item: item["document"]["doc_id"])
    documents = [item["document"] for item in parsed]
    refuse_duplicates(documents)
    segments = mark_repeated_text([seg for item in parsed for seg in item["segments"]])
    # content_key was for refuse_duplicates; it is not a column (sorted by the schema's sort_by)
    write_table([{k: v for k, v in doc.items() if k != "content_key"} for doc in documents],
                documents_csv, "documents")
    write_table(segments, segments_csv, "segments")
