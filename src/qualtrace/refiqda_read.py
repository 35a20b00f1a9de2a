"""Read a REFI-QDA project (`.qdpx`) back: sources, codes and codings with their text; and turn
a coder's codings into gold units (SPEC "Gold annotations") the pipeline can be scored against.

The reader is lenient about what other tools write: namespaced or not, `sources/` in any case,
text inline (PlainTextContent) or in the archive, codings on a selection or on a whole source.
"""
from __future__ import annotations

import hashlib
import json
import re
import zipfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .codebook import DEFAULT_CODE_KINDS, load_codebook
from .codebook_exchange import guid
from .corpus import doc_id_for
from .io import atomic_write_text, read_csv, read_raw

MIN_ANCHOR = 40  # SPEC: anchors are 40+ characters
GOLD_KEY_OF_FACET = {"stakeholder": "stakeholders", "area": "areas"}
_LEAD = re.compile(r"[\s\ufeff\-\u2013\u2014\u2022*\u00b7]*")


@dataclass
class Source:
    guid: str
    name: str
    text: str | None  # None when the tool stored no plain text we can read


@dataclass
class Code:
    guid: str
    name: str
    description: str
    path: tuple[str, ...]      # names from the top of the tree down to this code
    parent: str | None = None  # parent code's GUID


@dataclass
class Coding:
    source_guid: str
    source_name: str
    code_guid: str
    code_name: str
    start: int
    end: int
    text: str | None
    selection_guid: str | None = None
    selection_name: str = ""
    description: str = ""


@dataclass
class Project:
    name: str
    sources: list[Source] = field(default_factory=list)
    codes: dict[str, Code] = field(default_factory=dict)
    codings: list[Coding] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)  # {guid, name, selections: [guid]}
    warnings: list[str] = field(default_factory=list)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element, name: str):
    return [c for c in element if _local(c.tag) == name]


def _child_text(element, name: str) -> str:
    found = _children(element, name)
    return (found[0].text or "") if found else ""


def read_qdpx(path) -> Project:
    """Sources (name, text), codes (with their tree path) and every coding with its text."""
    with zipfile.ZipFile(path) as archive:
        members = {n.lower(): n for n in archive.namelist()}
        if "project.qde" not in members:
            raise ValueError(f"{path}: no project.qde in the archive")
        root = ET.fromstring(archive.read(members["project.qde"]))
        project = Project(root.get("name", ""))
        for codebook in _children(root, "CodeBook"):
            for codes in _children(codebook, "Codes"):
                for code in _children(codes, "Code"):
                    _read_code(code, (), None, project.codes)
        for sources in _children(root, "Sources"):
            for source in _children(sources, "TextSource"):
                _read_source(source, archive, members, project, path)
    for cases in _children(root, "Cases"):
        for case in _children(cases, "Case"):
            project.cases.append({"guid": case.get("guid"), "name": case.get("name", ""),
                                  "selections": [r.get("targetGUID") for r in
                                                 _children(case, "SelectionRef")]})
    return project


def _read_code(element, parents: tuple, parent_guid, codes: dict) -> None:
    name = element.get("name", "")
    code = Code(element.get("guid"), name, _child_text(element, "Description"),
                parents + (name,), parent_guid)
    codes[code.guid.strip("{}").lower()] = code
    for child in _children(element, "Code"):
        _read_code(child, code.path, code.guid, codes)


def _read_source(source, archive, members, project: Project, path) -> None:
    name, source_guid = source.get("name", ""), source.get("guid")
    text = None
    inline = _children(source, "PlainTextContent")
    target = source.get("plainTextPath", "")
    if inline:
        text = inline[0].text or ""
    elif target.startswith("internal://"):
        member = members.get(f"sources/{target[len('internal://'):]}".lower())
        if member is None:
            project.warnings.append(f"{path}: source {name!r}: {target} is not in the archive")
        else:
            text = archive.read(member).decode("utf-8")
    else:
        project.warnings.append(f"{path}: source {name!r} has no internal plain text "
                                f"({target or source.get('richTextPath') or 'no path'}); skipped")
    project.sources.append(Source(source_guid, name, text))

    def coding_refs(element):
        return [ref.get("targetGUID") for c in _children(element, "Coding")
                for ref in _children(c, "CodeRef")]

    spans = [(sel, int(sel.get("startPosition")), int(sel.get("endPosition")))
             for sel in _children(source, "PlainTextSelection")]
    if text is not None:
        spans += [(source, 0, len(text))]  # codings on the whole source
    for element, start, end in spans:
        for target_guid in coding_refs(element):
            code = project.codes.get((target_guid or "").strip("{}").lower())
            if code is None:
                project.warnings.append(f"{path}: a coding in {name!r} refers to unknown code "
                                        f"{target_guid}")
                continue
            is_selection = element is not source
            project.codings.append(Coding(
                source_guid, name, code.guid, code.name, start, end,
                text[start:end] if text is not None and 0 <= start <= end <= len(text) else None,
                element.get("guid") if is_selection else None,
                element.get("name", "") if is_selection else "",
                _child_text(element, "Description") if is_selection else ""))


# ------------------------------------------------------------------------------ gold import
def _norm(name: str) -> str:
    return " ".join(name.replace("\u2019", "'").split()).casefold()


class _Labels:
    """Maps a code of the project to (gold key, label id): by our GUIDs, then by id or label,
    with a facet parent (or a `facet/value`, `facet: value` name) choosing the facet."""

    def __init__(self, codebook):
        self.by_guid, self.themes, self.facets = {}, {}, {}
        self.values: dict[str, dict[str, str]] = {}
        for t in codebook.themes:
            self.by_guid[guid(f"code:{t.id}")] = ("themes", t.id)
            self.themes.update({_norm(t.id): t.id, _norm(t.label): t.id})
        for f in codebook.facets:
            key = GOLD_KEY_OF_FACET.get(f.id)
            self.facets.update({_norm(f.id): f.id, _norm(f.label): f.id})
            self.values[f.id] = {}
            for v in f.values:
                self.values[f.id].update({_norm(v.id): v.id, _norm(v.label): v.id})
                if key:
                    self.by_guid[guid(f"code:{f.id}/{v.id}")] = (key, v.id)

    def resolve(self, code: Code, codes: dict) -> tuple[str, str] | None:
        """A code's label; a code the codebook does not know, nested under a theme, counts as
        that theme (a coder's refinement of it)."""
        found = self._resolve(code, codes)
        parent = codes.get((code.parent or "").strip("{}").lower())
        while found is None and parent is not None:
            above = self._resolve(parent, codes)
            found = above if above and above[0] == "themes" else None
            parent = codes.get((parent.parent or "").strip("{}").lower())
        return found

    def _resolve(self, code: Code, codes: dict) -> tuple[str, str] | None:
        if code.guid.strip("{}").lower() in self.by_guid:
            return self.by_guid[code.guid.strip("{}").lower()]
        parent = codes.get((code.parent or "").strip("{}").lower())
        facet = self.facets.get(_norm(parent.name)) if parent else None
        name, pieces = _norm(code.name), re.split(r"\s*[/:]\s*", _norm(code.name), maxsplit=1)
        if facet is None and len(pieces) == 2 and pieces[0] in self.facets:
            facet, name = self.facets[pieces[0]], pieces[1]
        if facet is not None:
            value = self.values[facet].get(name)
            key = GOLD_KEY_OF_FACET.get(facet)
            return (key, value) if value and key else None
        if name in self.themes:
            return ("themes", self.themes[name])
        hits = [(GOLD_KEY_OF_FACET[f], vals[name]) for f, vals in self.values.items()
                if name in vals and f in GOLD_KEY_OF_FACET]
        return hits[0] if len(hits) == 1 else None


def anchor_for(raw: str, start: int, end: int) -> str | None:
    """A 40+ character substring of raw[start:end] that `raw.find` locates in this unit, unique
    in the file where possible: the shortest such piece starting at the unit's first word
    (after any list marker) and ending at a word end; else one starting at a later word."""
    lead = _LEAD.match(raw, start, end).end()
    stop_max = start + len(raw[start:end].rstrip())
    fallback = None
    for begin in range(lead, stop_max - MIN_ANCHOR + 1):
        if begin > lead and raw[begin - 1].isalnum() and raw[begin].isalnum():
            continue  # start at a word start
        if raw.find(raw[begin:stop_max]) != begin:
            continue  # even the longest piece from here occurs earlier in the file
        unique = raw.find(raw[begin:stop_max], begin + 1) < 0
        for stop in range(begin + MIN_ANCHOR, stop_max + 1):
            if raw[stop - 1].isspace() or (stop < stop_max and raw[stop - 1].isalnum()
                                           and raw[stop].isalnum()):
                continue  # end at the end of a word
            piece = raw[begin:stop]
            if raw.find(piece) != begin:
                continue
            if raw.find(piece, begin + 1) < 0:
                return piece
            if not unique:  # the shortest piece found first; no longer one is unique
                fallback = fallback or piece
                break
    return fallback


def qdpx_to_gold(path, raw_dir, out_jsonl, *, codebook, segments_csv,
                 all_units: bool = False) -> dict:
    """Write the codings of a `.qdpx` as SPEC gold lines, one per unit (segment), and return a
    summary {units, codings, skipped: [messages]}.

    codebook: a loaded codebook (or its path); segments_csv: segments.csv of the same raw files.
    Sources are matched to files in raw_dir by name, else by content. A coding counts for every
    segment it covers; a segment it covers only partly counts when the coding lies inside it
    or covers at least half of it. all_units: also write units that got no code (the coder
    reviewed the whole document, so "no label" is an answer).
    """
    if isinstance(codebook, (str, Path)):
        codebook = load_codebook(codebook, terms=False)
    project = read_qdpx(path)
    skipped = list(project.warnings)
    raws = {p.name: read_raw(p) for p in sorted(Path(raw_dir).iterdir()) if p.is_file()}
    by_hash = {hashlib.sha256(t.encode("utf-8")).hexdigest(): n for n, t in raws.items()}
    by_norm = {_normalise_text(t): n for n, t in raws.items()}
    segs_of = defaultdict(list)
    for seg in read_csv(segments_csv):
        segs_of[seg["doc_id"]].append(seg)
    labels = _Labels(codebook)
    units: dict[tuple[str, str], dict] = {}
    file_of_source, offset_maps = {}, {}
    for src in project.sources:
        file = src.name if src.name in raws else None
        if file is None and src.text is not None:
            file = (by_hash.get(hashlib.sha256(src.text.encode("utf-8")).hexdigest())
                    or by_norm.get(_normalise_text(src.text)))
        if file is None:
            skipped.append(f"source {src.name!r} matches no file in {raw_dir}")
            continue
        offset_maps[src.guid] = _offset_map(src.text, raws[file])
        if offset_maps[src.guid] is None:
            skipped.append(f"source {src.name!r}: its text differs from {file} (edited in the "
                           "tool?), so its positions cannot be mapped; its codings are skipped")
            continue
        file_of_source[src.guid] = file
    n_codings = 0
    for coding in project.codings:
        file = file_of_source.get(coding.source_guid)
        if file is None:
            continue
        mapped = labels.resolve(project.codes[coding.code_guid.strip("{}").lower()],
                                project.codes)
        if mapped is None:
            skipped.append(f"code {coding.code_name!r} maps to no theme, stakeholder or area "
                           "of the codebook; its codings are ignored")
            continue
        omap = offset_maps[coding.source_guid]
        start, end = omap(coding.start), omap(coding.end)
        n_codings += 1
        covered = _segments_covered(segs_of[doc_id_for(file)], start, end)
        if not covered:
            skipped.append(f"{file}: coding of {coding.code_name!r} at [{start}:{end}] covers "
                           "only boilerplate (never coded) or no segment; ignored")
        for seg in covered:
            unit = units.setdefault((file, seg["segment_id"]), {"seg": seg, "labels": set()})
            unit["labels"].add(mapped)
    if all_units:
        kinds = getattr(codebook, "code_kinds", DEFAULT_CODE_KINDS)
        for file in sorted(set(file_of_source.values())):
            for seg in segs_of[doc_id_for(file)]:
                if seg.get("boilerplate") != "true" and seg["kind"] in kinds:
                    units.setdefault((file, seg["segment_id"]), {"seg": seg, "labels": set()})
    lines = _gold_lines(units, raws, codebook, skipped)
    atomic_write_text(out_jsonl, "".join(json.dumps(line, ensure_ascii=False) + "\n"
                                         for line in lines))
    return {"units": len(lines), "codings": n_codings, "skipped": list(dict.fromkeys(skipped))}


def _gold_lines(units, raws, codebook, skipped) -> list[dict]:
    order = {("themes", t.id): i for i, t in enumerate(codebook.themes)}
    for f in codebook.facets:
        order.update({(GOLD_KEY_OF_FACET.get(f.id), v.id): i for i, v in enumerate(f.values)})
    lines = []
    for (file, seg_id), unit in sorted(units.items(),
                                       key=lambda kv: (kv[0][0], int(kv[1]["seg"]["start"]))):
        seg = unit["seg"]
        anchor = anchor_for(raws[file], int(seg["start"]), int(seg["end"]))
        if anchor is None:
            why = (f"is shorter than the {MIN_ANCHOR} characters an anchor needs"
                   if len(seg["text"].strip()) < MIN_ANCHOR else
                   "has no anchor that finds it (its text occurs earlier in the file)")
            skipped.append(f"{file}: unit {seg_id} ({seg['text'][:40]!r}) {why}; not written")
            continue
        line = {"doc": file, "anchor": anchor, "themes": [], "stakeholders": [], "areas": []}
        for key, value in sorted(unit["labels"], key=lambda kv: order[kv]):
            line[key].append(value)
        lines.append(line)
    return lines


def _segments_covered(segments, start: int, end: int) -> list[dict]:
    """Non-boilerplate segments a selection codes: those it lies in or covers half of."""
    found = []
    for seg in (s for s in segments if s.get("boilerplate") != "true"):
        s, e = int(seg["start"]), int(seg["end"])
        overlap = min(e, end) - max(s, start)
        if overlap > 0 and ((s <= start and end <= e) or 2 * overlap >= e - s):
            found.append(seg)
    return found


def _normalise_text(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _offset_map(text: str | None, raw: str):
    """Function from a position in the tool's text to a position in the raw file: identity when
    the texts are equal; through the BOM/line-end normalisation when only that differs."""
    if text is None:
        return None
    if text == raw:
        return lambda pos: pos
    if _normalise_text(text) != _normalise_text(raw):
        return None

    def positions(t):
        out, i = [], 1 if t.startswith("\ufeff") else 0
        while i < len(t):
            out.append(i)
            i += 2 if t.startswith("\r\n", i) else 1
        return out + [len(t)]
    mine, theirs = positions(raw), positions(text)
    index = {p: k for k, p in enumerate(theirs)}
    return lambda pos: mine[index.get(pos, min(range(len(theirs)),
                                               key=lambda k: abs(theirs[k] - pos)))]
