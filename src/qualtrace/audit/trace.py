"""`qualtrace trace`: walk from an id or a number back to the exact passages, re-verified.

Accepted ids: a segment id (`<doc>-0017`), a coding (`<doc>-0017:resourcing`), a breakdown cell
(`theme=<theme> <facet>=<value>`, or `theme=<theme>` for the theme total), or the id of a
number in the report (`data/processed/report_numbers.csv`). Every passage is checked against the
raw file as it is now: the file's sha256 must equal documents.csv and the text must still stand at
its span. Anything that does not verify makes the command exit non-zero.

The human output shows source text as data: control characters (ESC, BEL, C1, bidi overrides)
are printed escaped (qualtrace.common.terminal), so a source file cannot drive the reader's terminal.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import layout
from ..common.io import InputError, read_raw_bytes
from ..common.tables import read_table, records
from ..corpus.spans import line_column
from ..common.terminal import printable


class TraceError(InputError):
    """The id names nothing the pipeline produced."""


@dataclass
class Passage:
    segment_id: str
    doc_id: str
    path: str
    line: int | None    # None when the raw file is missing: there is no text to count in
    column: int | None
    start: int
    end: int
    kind: str
    text: str
    evidence: str
    hash_ok: bool
    span_ok: bool
    problem: str
    # The codings behind the query on this segment: facet, label, rule, status (auto |
    # accepted | added), reviewer and memo (researcher review).
    codings: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.hash_ok and self.span_ok


class Workspace:
    """The processed tables of one run directory, loaded on demand."""

    def __init__(self, root: str | Path = "."):
        self.root = Path(root)
        self._cache: dict[str, list[dict]] = {}

    def table(self, name: str) -> list[dict]:
        if name not in self._cache:
            path = self.root / layout.table(name)
            if not path.is_file():
                raise TraceError(f"{path} does not exist; run the workflow first")
            self._cache[name] = records(read_table(path, name))
        return self._cache[name]

    def facets(self) -> list[str]:
        return sorted(p.stem[len(layout.BY_FACET_PREFIX):]
                      for p in self.root.glob(layout.by_facet("*")))


def _resolve(ws: Workspace, words: list[str]) -> tuple[str, list[str], dict[str, tuple]]:
    """Return (description, segment ids, {segment id: evidence span}) for the query."""
    if len(words) == 1 and ":" in words[0].partition("=")[0]:  # <segment>:<facet>=<value>
        seg_id, _, coding = words[0].partition("=")[0].rpartition(":")
        if seg_id in {s["segment_id"] for s in ws.table("segments")}:
            return _coding(ws, seg_id, words[0][len(seg_id) + 1:])
    pairs: dict[str, str] = {}
    for key, value in (w.split("=", 1) for w in words if "=" in w):
        if key in pairs:
            raise TraceError(f"{key} is given twice ({key}={pairs[key]}, {key}={value}); a "
                             "breakdown cell has one value per key")
        pairs[key] = value
    bare = [w for w in words if "=" not in w]
    if pairs:
        return _cell(ws, pairs, bare)
    if len(bare) != 1:
        facet = (ws.facets() or ["<facet>"])[0]
        raise TraceError("give one id, or key=value pairs such as theme=<theme> "
                         f"{facet}=<value>")
    ident = bare[0]
    segments = {s["segment_id"] for s in ws.table("segments")}
    if ident in segments:
        return f"segment {ident}", [ident], {}
    seg_id, _, theme = ident.rpartition(":")
    if seg_id in segments:
        return _coding(ws, seg_id, theme)
    numbers = ws.root / layout.table("report_numbers")
    if numbers.is_file():
        for row in records(read_table(numbers, "report_numbers")):
            if row["item_id"] == ident:
                description = f"{ident}: {row['label']} = {row['value']} ({row['query']})"
                if row.get("source"):
                    description += "; " + _source(ws, row)
                return description, row["segment_ids"].split(), {}
    raise TraceError(f"'{ident}' is not a segment id, a coding (<segment>:<theme> or "
                     "<segment>:<facet>=<value>), a "
                     "breakdown cell (theme=... facet=...) or a report number id")


def _source(ws: Workspace, row: dict) -> str:
    """Where a number read from an input file came from, checked against the file as it is
    now: its line must still hold the value the report shows (TraceError if not)."""
    from ..analysis.gold_scores import SCORE_FIELDS, read_scores, shown

    path, line, column = row["source"].rsplit(":", 2)
    where = f"read from {path}, line {line}, column {column}"
    found = [s for s in read_scores(ws.root / path) if str(s.line) == line]
    if not found or column not in SCORE_FIELDS:
        raise TraceError(f"{row['item_id']}: {where}, but that line no longer holds a score; "
                         "rebuild the report")
    raw = getattr(found[0], column)
    if shown(found[0], column) != row["value"]:
        raise TraceError(f"{row['item_id']}: {where}, which now holds {raw} (the report shows "
                         f"{row['value']}); rebuild the report")
    return f"{where}: verified (unrounded {raw})"


def _coding(ws: Workspace, seg_id: str, theme: str):
    if "=" in theme:  # <segment>:<facet>=<value>: a facet coding, traced to its evidence, which
        # for a value inherited from context is the passage it was inherited from
        facet, _, value = theme.partition("=")
        for row in ws.table("facets"):
            if row["segment_id"] == seg_id and (row["facet"], row["value"]) == (facet, value):
                span = (row["evidence_start"], row["evidence_end"], row["evidence_text"])
                return (f"coding {seg_id} {facet}={value} (rule {row['rule']})", [seg_id],
                        {seg_id: span})
        raise TraceError(f"segment {seg_id} is not coded with {facet} '{value}'")
    for row in ws.table("codings"):
        if row["segment_id"] == seg_id and row["theme"] == theme:
            span = (row["evidence_start"], row["evidence_end"], row["evidence_text"])
            return f"coding {seg_id} {theme} (rule {row['rule']})", [seg_id], {seg_id: span}
    raise TraceError(f"segment {seg_id} is not coded with theme '{theme}'")


def _cell(ws: Workspace, pairs: dict[str, str], bare: list[str]):
    if bare or "theme" not in pairs or len(pairs) > 2:
        raise TraceError("a breakdown cell is theme=<id> and optionally one <facet>=<value>")
    theme = pairs.pop("theme")
    if not pairs:
        rows = [r for r in ws.table("theme_summary") if r["theme"] == theme]
        description = f"theme={theme}"
    else:
        (facet, value), = pairs.items()
        if facet not in ws.facets():
            raise TraceError(f"no breakdown by '{facet}'; known: {', '.join(ws.facets())}")
        rows = [r for r in ws.table(f"theme_by_{facet}")
                if r["theme"] == theme and r["value"] == value]
        description = f"theme={theme} {facet}={value}"
    if not rows:
        raise TraceError(f"no breakdown cell {description}")
    row = rows[0]
    return f"{description}: {row['n_segments']} segments", row["segment_ids"].split(), {}


def _wanted(words: list[str]) -> set[tuple[str, str]] | None:
    """The (facet, label) codings a query is about; None: every coding of its segments."""
    head, equals, value = words[0].partition("=") if len(words) == 1 else ("", "", "")
    if equals and ":" in head:  # <segment>:<facet>=<value>
        return {(head.rpartition(":")[2], value)}
    pairs = dict(w.split("=", 1) for w in words if "=" in w)
    if pairs:
        return set(pairs.items())
    seg_id, colon, theme = words[0].rpartition(":") if len(words) == 1 else ("", "", "")
    return {("theme", theme)} if colon and seg_id else None


def _codings_of(ws: Workspace, seg_ids: list[str], wanted) -> dict[str, list[dict]]:
    """Per segment, its codings (of the reviewed tables) with how each came to be."""
    wanted_ids = set(seg_ids)
    out: dict[str, list[dict]] = {}

    def rows_of(name):  # a run directory without the coding tables still traces segments
        try:
            return ws.table(name)
        except TraceError:
            return []
    rows = [("theme", r["theme"], r) for r in rows_of("codings")
            if r["segment_id"] in wanted_ids]
    rows += [(r["facet"], r["value"], r) for r in rows_of("facets")
             if r["segment_id"] in wanted_ids]
    for facet, label, row in rows:
        if wanted is not None and (facet, label) not in wanted:
            continue
        out.setdefault(row["segment_id"], []).append({
            "facet": facet, "label": label, "rule": row["rule"],
            "evidence_start": row["evidence_start"] or 0,
            "evidence_end": row["evidence_end"] or 0,
            "evidence_text": row.get("evidence_text") or "",
            "status": row.get("status") or "auto", "reviewer": row.get("reviewer") or "",
            "note": row.get("note") or ""})
    return out


def trace(words: list[str], root: str | Path = ".") -> tuple[str, list[Passage]]:
    ws = Workspace(root)
    description, seg_ids, evidence = _resolve(ws, words)
    coded = _codings_of(ws, seg_ids, _wanted(words))
    segments = {s["segment_id"]: s for s in ws.table("segments")}
    documents = {d["doc_id"]: d for d in ws.table("documents")}
    texts: dict[str, tuple[str | None, bool, str]] = {}
    passages = []
    for seg_id in seg_ids:
        seg = segments.get(seg_id)
        if seg is None:
            raise TraceError(f"{description} lists segment {seg_id}, which segments.csv lacks")
        doc = documents[seg["doc_id"]]
        if doc["doc_id"] not in texts:
            texts[doc["doc_id"]] = _read(doc["path"], doc["sha256"], ws.root)
        unreadable, hash_ok, raw = texts[doc["doc_id"]]
        start, end, text = evidence.get(seg_id, (seg["start"], seg["end"], ""))
        if unreadable:
            line = column = None
            hash_ok = span_ok = False
            problem = unreadable
        else:
            span_ok = raw[seg["start"]:seg["end"]] == seg["text"] and (
                not text or raw[start:end] == text)
            line, column = line_column(raw, start)
            problem = "; ".join(p for p, bad in (
                (f"{doc['path']} changed since ingestion (sha256 differs)", not hash_ok),
                (f"the text at {start}:{end} is no longer the recorded text", not span_ok))
                if bad)
        for coding in coded.get(seg_id, []):  # evidence outside the segment: inherited
            s, e = coding.pop("evidence_start"), coding.pop("evidence_end")
            text = coding.pop("evidence_text")
            if e > s and not (seg["start"] <= s and e <= seg["end"]):
                coding.update(elsewhere=True, evidence_start=s, evidence_end=e,
                              evidence_text=text)
        passages.append(Passage(seg_id, doc["doc_id"], doc["path"], line, column, start, end,
                                seg["kind"], seg["text"], text, hash_ok, span_ok, problem,
                                coded.get(seg_id, [])))
    return description, passages


def _read(path: str, sha256: str, root: Path) -> tuple[str | None, bool, str]:
    """(None, sha256 matches, text) for a file that can be read, else (why not, False, "").
    Read through the raw-file guard: never through a link or outside the project."""
    if not os.path.lexists(Path(root) / path):
        return f"{path} is missing (deleted or moved since ingestion)", False, ""
    try:
        data = read_raw_bytes(path, root)
    except InputError as err:
        return str(err), False, ""
    return (None, hashlib.sha256(data).hexdigest() == sha256,
            data.decode("utf-8", errors="replace"))


def as_json(description: str, passages: list[Passage]) -> dict:
    return {"query": description, "verified": all(p.ok for p in passages),
            "passages": [asdict(p) for p in passages]}


def as_text(description: str, passages: list[Passage], width: int = 240) -> str:
    """For a terminal: every line printable (control characters escaped)."""
    lines = [description, f"{len(passages)} passages"]
    for p in passages:
        status = "verified" if p.ok else f"NOT VERIFIED: {p.problem}"
        excerpt = (p.evidence or p.text).replace("\n", " ")
        if len(excerpt) > width:
            excerpt = excerpt[:width - 1] + "\u2026"
        where = f"{p.path}:{p.line}:{p.column}" if p.line is not None else p.path
        lines += [f"- {where} [{p.start}:{p.end}] {p.segment_id} ({p.kind}) {status}",
                  f"    {excerpt}"]
        lines += [f"    {_provenance(c, p.path)}" for c in p.codings]
    return "\n".join(printable(line) for line in lines)


def _provenance(coding: dict, path: str = "") -> str:
    """One line: which coding, and whether a rule made it unchecked, a reviewer accepted it or
    a reviewer added it, with the memo (as_text makes it printable). Evidence outside the
    passage's segment (a value inherited from its context) is quoted with where it lies."""
    how = {"auto": "automatic, not reviewed", "accepted": f"accepted by {coding['reviewer']}",
           "added": f"added by {coding['reviewer']}"}.get(coding["status"], coding["status"])
    line = f"{coding['facet']}={coding['label']}: {how} (rule {coding['rule']})"
    if coding.get("elsewhere"):
        start, end = coding["evidence_start"], coding["evidence_end"]
        line += (f"; evidence from elsewhere in {path} [{start}:{end}]: "
                 f"\u201c{coding.get('evidence_text', '')}\u201d")
    if coding["note"]:
        line += f"; memo: {coding['note']}"
    return line
