"""What the review app shows: the built tables and the decision files, as a queue of segments.

Read-only over data/processed/ (loaded once) and re-reading data/review/*.csv on each request,
so a decision saved a moment ago (in this tab, another tab or another process) shows at once.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from .. import layout
from ..coding.engine import segment_sort_key
from ..common.io import InputError, paused_gc
from ..common.tables import read_table, records
from .decisions import (THEME, Decision, DecisionError, label_vocabulary, read_decisions,
                        review_files, text_sha256)

CODABLE_FALLBACK = ("key_point", "paragraph", "quote", "list_item")
PAGE_SIZE = 20


@dataclass
class Coding:
    facet: str
    label: str
    rule: str = ""
    evidence: tuple[int, int] | None = None  # relative to the segment's text
    auto: bool = True


@dataclass
class Item:
    segment: dict
    codings: list[Coding]
    sha: str
    decisions: dict[tuple, list[Decision]] = field(default_factory=dict)  # (facet, label) ->

    @property
    def segment_id(self) -> str:
        return self.segment["segment_id"]


class Corpus:
    """The tables of one run directory."""

    def __init__(self, root: str | Path = "."):
        self.root = Path(root)
        needed = ["segments", "codings_auto", "facets_auto"]
        missing = [n for n in needed if not (self.root / layout.table(n)).is_file()]
        if missing:
            raise InputError(f"{self.root / layout.PROCESSED}: no {', '.join(n + '.csv' for n in missing)}; run "
                             "`snakemake --cores 4` first so there is a coding to review")
        config = yaml.safe_load((self.root / layout.CONFIG).read_text("utf-8"))
        codebook = yaml.safe_load((self.root / config["codebook"]).read_text("utf-8"))
        self.vocabulary = label_vocabulary(codebook)
        self.theme_names = {t["id"]: t.get("label", t["id"]) for t in codebook.get("themes", [])
                            if isinstance(t, dict)}
        kinds = codebook.get("settings", {}).get("code_kinds") or CODABLE_FALLBACK
        segments = [s for s in records(read_table(self.root / layout.table("segments")))
                    if s["kind"] in kinds and not s["boilerplate"]]
        segments.sort(key=lambda s: (s["doc_id"], segment_sort_key(s["segment_id"])))
        codings: dict[str, list[Coding]] = defaultdict(list)
        for name, facet_of, label_of in (("codings_auto", lambda r: THEME, lambda r: r["theme"]),
                                         ("facets_auto", lambda r: r["facet"],
                                          lambda r: r["value"])):
            for row in records(read_table(self.root / layout.table(name))):
                codings[row["segment_id"]].append(Coding(
                    facet_of(row), label_of(row), row["rule"],
                    (row["evidence_start"], row["evidence_end"])))
        self.items: dict[str, Item] = {}
        for seg in segments:
            base = seg["start"]
            own = codings.get(seg["segment_id"], [])
            for c in own:
                c.evidence = (c.evidence[0] - base, c.evidence[1] - base)
            own.sort(key=lambda c: (c.facet != THEME, c.facet, c.label))
            self.items[seg["segment_id"]] = Item(seg, own, text_sha256(seg["text"]))
        self.documents = sorted({s["doc_id"] for s in segments})
        self.auto_keys = {(i.segment_id, c.facet, c.label) for i in self.items.values()
                          for c in i.codings}
        self.total = len(self.auto_keys)
        self._read: dict[str, tuple[tuple, list[Decision], list[str]]] = {}

    def decisions(self) -> tuple[list[Decision], list[str]]:
        """Every decision of every file (in file, line order) and the problems of bad files;
        a file is parsed again only when its size or modification time changed."""
        out, problems = [], []
        for path in review_files(self.root):
            full = self.root / path
            try:
                info = full.stat()
            except OSError:
                continue
            stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
            known = self._read.get(path)
            if known is None or known[0] != stamp:
                try:
                    found = [replace(d, file=path)
                             for d in read_decisions([str(full)], self.vocabulary)]
                    known = (stamp, found, [])
                except DecisionError as err:
                    known = (stamp, [], str(err).splitlines())
                self._read[path] = known
            out += known[1]
            problems += known[2]
        return out, problems


def current(corpus: Corpus) -> tuple[dict[str, dict[tuple, dict[str, Decision]]], list[str]]:
    """segment -> (facet, label) -> reviewer -> that reviewer's latest decision (only decisions
    made on the segment's current text; stale ones are the check's to list). Recomputed only
    when a decision file changed."""
    decisions, problems = corpus.decisions()
    stamp = tuple(known[0] for known in corpus._read.values())
    cached = getattr(corpus, "_current", None)
    if cached is None or cached[0] != stamp:
        with paused_gc():
            cached = corpus._current = (stamp, _latest(corpus, decisions), problems)
    return cached[1], cached[2]


def _latest(corpus: Corpus, decisions: list[Decision]):
    latest: dict[str, dict[tuple, dict[str, Decision]]] = defaultdict(lambda: defaultdict(dict))
    for d in decisions:
        item = corpus.items.get(d.segment_id)
        if item is not None and item.sha == d.text_sha256:
            latest[d.segment_id][d.facet, d.label][d.reviewer] = d
    return latest


def coding_rows(item: Item, decided: dict[tuple, dict[str, Decision]], reviewer: str):
    """The rows to show for one segment: its automatic codings, then codings reviewers added."""
    rows = []
    seen = set()
    for c in item.codings:
        seen.add((c.facet, c.label))
        rows.append(_row(c, decided.get((c.facet, c.label), {}), reviewer))
    for key, by in sorted(decided.items()):
        if key not in seen and any(d.decision == "add" for d in by.values()):
            rows.append(_row(Coding(key[0], key[1], "", None, auto=False), by, reviewer))
    return rows


def _row(coding: Coding, by: dict[str, Decision], reviewer: str) -> dict:
    mine = by.get(reviewer)
    others = [d for name, d in sorted(by.items()) if name != reviewer]
    return {"coding": coding, "mine": mine, "others": others}


def is_reviewed(item: Item, decided: dict[tuple, dict[str, Decision]]) -> bool:
    return bool(item.codings) and all(decided.get((c.facet, c.label)) for c in item.codings)


def highlight(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    """Split text into (piece, title) with title set on evidence pieces (overlaps merged)."""
    cuts = sorted({0, len(text), *(max(0, min(len(text), p)) for s, e, _ in spans
                                   for p in (s, e))})
    pieces = []
    for a, b in zip(cuts, cuts[1:]):
        labels = sorted({lab for s, e, lab in spans if s <= a and b <= e and s < e})
        pieces.append((text[a:b], ", ".join(labels)))
    merged: list[tuple[str, str]] = []
    for piece, title in pieces:
        if merged and merged[-1][1] == title:
            merged[-1] = (merged[-1][0] + piece, title)
        else:
            merged.append((piece, title))
    return merged
