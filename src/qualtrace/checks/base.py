"""Shared types for the checks."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    item: str
    doc_id: str = ""
    segment_id: str = ""
    start: int | None = None  # offsets in the document, when the item is a place in it
    end: int | None = None
    detail: str = ""


@dataclass
class CheckResult:
    check_id: str
    passed: bool
    detail: str
    items: list[Finding] = field(default_factory=list)


@dataclass
class Tables:
    """Everything the checks read: table rows as read from CSV, raw texts by doc_id."""
    documents: list[dict]
    segments: list[dict]
    codings: list[dict]
    facets: list[dict]
    breakdowns: dict[str, list[dict]]          # table name -> rows
    raw_bytes: dict[str, bytes]                # doc_id -> bytes as on disk now
    raw_texts: dict[str, str]                  # doc_id -> decoded text
    codebook: object = None                    # qualtrace.coding.codebook.Codebook
    review_decisions: list[dict] = field(default_factory=list)  # review_decisions.csv rows

    def segments_by_id(self) -> dict[str, dict]:
        return {seg["segment_id"]: seg for seg in self.segments}

    def boilerplate_ids(self) -> set[str]:
        """Ids of segments flagged boilerplate (the last row wins, as in `segments_by_id`)."""
        return {seg_id for seg_id, seg in self.segments_by_id().items()
                if seg.get("boilerplate")}

    def themes_by_segment(self) -> dict[str, set[str]]:
        themes: dict[str, set[str]] = {}
        for row in self.codings:
            themes.setdefault(row["segment_id"], set()).add(row["theme"])
        return themes
