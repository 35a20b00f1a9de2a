"""Everything the report reads, loaded once: the processed tables, the manifest, the codebook.

The report computes nothing that a table does not already hold; this module only indexes the
tables so the sections can look rows up (theme -> summary row, (facet, theme, value) -> row...).
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis.gold_scores import SetScore, read_scores
from ..coding.codebook import Codebook, load_codebook
from ..common.io import InputError, read_raw
from ..common.tables import read_table, records
from . import contrast

# Tables the report needs (named inputs of the report_source rule, without `.csv`).
TABLES = ("documents", "segments", "codings", "facets", "theme_summary", "theme_cooccurrence",
          "coding_validation", "coding_disagreements", "coding_validation_by_set", "checks",
          "check_items", "key_point_support", "review_decisions")


@dataclass
class ReportData:
    codebook: Codebook
    manifest: dict
    tables: dict[str, list[dict]]                  # typed rows (common.tables.records)
    by_facet: dict[str, list[dict]]                # facet id -> theme_by_<facet> rows
    gold_units: list[str] = field(default_factory=list)  # segment ids of the scored gold units
    # Scores measured on other gold corpora (config validity.external_scores): the file's
    # path and rows ("" and none when the config names no file), and the config's note on them.
    external_path: str = ""
    external: list[SetScore] = field(default_factory=list)
    external_note: str = ""

    def __post_init__(self):
        t = self.tables
        self.documents = t["documents"]
        self.document = {d["doc_id"]: d for d in self.documents}
        self.segments = t["segments"]
        self.segment = {s["segment_id"]: s for s in self.segments}
        self.themes = list(self.codebook.themes)
        self.theme = {th.id: th for th in self.themes}
        self.facets = [f for f in self.codebook.facets if f.id in self.by_facet]
        self.summary = {r["theme"]: r for r in t["theme_summary"]}
        self.cell = {(facet, r["theme"], r["value"]): r
                     for facet, rows in self.by_facet.items() for r in rows}
        self.pair = {(r["theme_a"], r["theme_b"]): r for r in t["theme_cooccurrence"]}
        self.themes_of: dict[str, set[str]] = defaultdict(set)
        self.evidence: dict[tuple[str, str], tuple[int, int]] = {}
        for row in t["codings"]:
            self.themes_of[row["segment_id"]].add(row["theme"])
            self.evidence.setdefault((row["segment_id"], row["theme"]),
                                     (row["evidence_start"], row["evidence_end"]))
        kinds = self.codebook.code_kinds
        self._countable = [s for s in self.segments
                           if not s["boilerplate"] and s["kind"] in kinds]
        self.countable_ids = {s["segment_id"] for s in self._countable}
        self.countable_by_doc: dict[str, list[dict[str, str]]] = defaultdict(list)
        for s in self._countable:
            self.countable_by_doc[s["doc_id"]].append(s)
        # (facet, value) -> segment ids carrying it (any segment, as facets.csv lists them)
        self.facet_segments: dict[tuple[str, str], set[str]] = defaultdict(set)
        for row in t["facets"]:
            self.facet_segments[(row["facet"], row["value"])].add(row["segment_id"])
        self._cues: dict[str, list[str]] = {}

    # ------------------------------------------------------------------ lookups
    def countable(self) -> list[dict[str, str]]:
        """Content segments: not boilerplate, of a kind the codebook codes (document order)."""
        return self._countable

    def contrast_cues(self, seg: dict[str, str]) -> list[str]:
        """contrast.cues of the segment's text, found once per segment (a segment is looked
        at for every theme it carries)."""
        found = self._cues.get(seg["segment_id"])
        if found is None:
            found = self._cues[seg["segment_id"]] = contrast.cues(seg["text"])
        return found

    def theme_label(self, theme_id: str) -> str:
        found = self.theme.get(theme_id)
        return found.label if found else theme_id

    def value_label(self, facet_id: str, value_id: str) -> str:
        for facet in self.codebook.facets:
            if facet.id == facet_id:
                for value in facet.values:
                    if value.id == value_id:
                        return value.label
        return value_id

    def chapter(self, doc_id: str) -> str:
        """How a reader names a document: 'Chapter 6: Delivering for clients'."""
        doc = self.document.get(doc_id, {})
        number, title = doc.get("chapter_number"), doc.get("chapter_title", "")
        if number is not None and title:
            return f"Chapter {number}: {title}"
        return title or doc.get("title") or doc_id

    def short_chapter(self, doc_id: str) -> str:
        number = self.document.get(doc_id, {}).get("chapter_number")
        return f"Ch. {number}" if number is not None else doc_id


def load(tables: dict[str, str], by_facet: dict[str, str], manifest: str, codebook: str,
         gold: list[str] | None = None, external_scores: str = "",
         external_note: str = "") -> ReportData:
    """Read every input; `tables` maps the names in TABLES to paths."""
    missing = [name for name in TABLES if name not in tables]
    if missing:
        raise InputError(f"report inputs missing: {', '.join(missing)}")
    data = ReportData(
        codebook=load_codebook(codebook, terms=False),
        manifest=json.loads(Path(manifest).read_text(encoding="utf-8")),
        tables={name: records(read_table(tables[name], name)) for name in TABLES},
        by_facet={facet: records(read_table(path, f"theme_by_{facet}"))
                  for facet, path in by_facet.items()})
    if gold:
        data.gold_units = _gold_units(data, gold)
    if external_scores:
        data.external_path, data.external = external_scores, read_scores(external_scores)
        data.external_note = external_note
    return data


def _gold_units(data: ReportData, gold: list[str]) -> list[str]:
    """Segment ids of every gold unit scored (the same units for each label set)."""
    from ..analysis.validation import label_sets_from_codebook, load_gold

    raw = {Path(d["path"]).name: read_raw(d["path"]) for d in data.documents}
    units = load_gold(gold, raw, data.segments, data.documents,
                      label_sets_from_codebook(data.codebook))
    return sorted({u.segment_id for u in units})
