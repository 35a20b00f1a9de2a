"""The report's numbers, each with the query and the segment ids behind it.

Every number the report shows is registered here before it is written, and the Markdown for it
is a link to its evidence anchor (in the evidence document); a number with no passages behind
it (a zero cell) is shown plain and has no evidence entry, but keeps its row in the CSV. A
number read from an input file rather than counted in the corpus (a score measured on another
gold corpus) names that file, line and column in `source` and links to an entry that says so.
The registry becomes `data/processed/report_numbers.csv` (one
row per number, in order of first appearance) and the evidence appendix; `qualtrace trace
<item_id>` resolves an id from that file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .markdown import md_literal, number



@dataclass
class Item:
    item_id: str
    section: str
    label: str
    value: str
    query: str
    segment_ids: tuple[str, ...]
    theme: str = ""                      # highlight this theme's evidence in the excerpts
    notes: list[str] = field(default_factory=list)  # Markdown lines shown under the passages
    compact: bool = False                # list passages by locator only (excerpts shown elsewhere)
    source: str = ""                     # FILE:LINE:COLUMN of a number read from an input file

    def row(self) -> dict[str, str]:
        return {"item_id": self.item_id, "section": self.section, "label": self.label,
                "value": self.value, "query": self.query,
                "segment_ids": " ".join(self.segment_ids), "source": self.source}


class Registry:
    """Numbers in order of first appearance; the same id may be shown again, unchanged."""

    def __init__(self):
        self.items: dict[str, Item] = {}
        self.section = ""

    def link(self, item_id: str, value: object, label: str, query: str,
             segment_ids: Iterable[str], theme: str = "", notes: Iterable[str] = (),
             compact: bool = False, source: str = "") -> str:
        """Register a number (or find it again) and return its Markdown link."""
        item = Item(item_id, self.section, label, str(value), query,
                    tuple(sorted(set(segment_ids))), theme, list(notes), compact, source)
        known = self.items.get(item_id)
        if known is None:
            self.items[item_id] = item
        elif (known.value, known.segment_ids) != (item.value, item.segment_ids):
            raise ValueError(f"report item {item_id!r} shown with two different values: "
                             f"{known.value} {known.segment_ids} vs {item.value} "
                             f"{item.segment_ids}")
        if not item.segment_ids and not item.source:  # nothing to land on: plain, in the CSV
            return md_literal(item.value)
        return number(item.value, item_id)

    def rows(self) -> list[dict[str, str]]:
        return [item.row() for item in self.items.values()]
