"""Export the coded corpus as a REFI-QDA project (`.qdpx`, QDA-XML 1.0).

What a receiving tool (NVivo, ATLAS.ti, MAXQDA, QualCoder, qc) gets:
- Sources: each raw file as `sources/<guid>.txt`, its decoded text written back as UTF-8 (the
  raw bytes, BOM included), so code-point positions equal our offsets. Variables on each
  source: document title, chapter number and title, the file's SHA-256.
- CodeBook: the tree of `qualtrace.codebook_exchange.code_tree` (themes, facet parents, values).
- Codings: one PlainTextSelection per (segment, theme) and per (segment, facet value) at the
  segment's span, holding one Coding; its description gives the evidence span and rule. The
  selection name is `line:<N> <segment_id>`: N is the 0-based line of the segment start, which
  is how qc places an imported selection (other tools just show the name).
- Cases, for matrix queries: one per interview (its quotations; variables speaker group and
  the facet values of its quotations) and one per facet value (every coded segment with it).

Deterministic: GUIDs are uuid5 of stable keys, elements in fixed order, no dates unless
SOURCE_DATE_EPOCH is set, ZIP members in fixed order with fixed time, mode and deflate level.
"""
from __future__ import annotations

import bisect
import io
import os
import re
import time
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from pathlib import Path

from .codebook_exchange import ORIGIN, PROJECT_NS, code_index, codes_element, guid, serialize
from .codebook_exchange import xml_text
from .io import InputError, atomic_write_bytes, sha256_bytes

NS = PROJECT_NS
USER_KEY = "user:qualtrace"
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "refi-qda"
_LINE_END = re.compile(r"\r\n|\r|\n")


def _el(parent, tag: str, attrs: dict | None = None, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{tag}", attrs or {})
    if text is not None:
        element.text = xml_text(text)
    return element


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH as an int; None when unset or 0 (the convention for "no date")."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) or None if value else None


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class _Variables:
    """Variables declared once, in first-use order, and their values."""

    def __init__(self):
        self.declared: dict[str, str] = {}  # name -> type

    def value(self, parent, name: str, value, kind: str = "Text") -> None:
        if value is None or value == "":
            return
        self.declared.setdefault(name, kind)
        node = _el(parent, "VariableValue")
        _el(node, "VariableRef", {"targetGUID": guid(f"variable:{name}")})
        _el(node, f"{kind}Value", text=str(value))

    def element(self) -> ET.Element | None:
        if not self.declared:
            return None
        root = ET.Element(f"{{{NS}}}Variables")
        for name, kind in self.declared.items():
            _el(root, "Variable", {"guid": guid(f"variable:{name}"), "name": xml_text(name),
                                   "typeOfVariable": kind})
        return root


def _check_inputs(documents, segments, codings, facets, raw_texts, codebook, names) -> None:
    """Refuse tables that no longer match the raw files or the codebook, naming the file."""
    themes = {t.id for t in codebook.themes}
    values = {(f.id, v.id) for f in codebook.facets for v in f.values}
    for doc in documents:
        raw = raw_texts[doc["doc_id"]]
        if sha256_bytes(raw.encode("utf-8")) != doc["sha256"]:
            raise InputError(f"{names['documents']}: {doc['path']} has changed since it was "
                             "ingested (sha256 differs); rebuild the tables")
    by_id = {s["segment_id"]: s for s in segments}
    for table, rows, label in (("codings", codings, "theme"), ("facets", facets, "value")):
        for row in rows:
            seg = by_id.get(row["segment_id"])
            if seg is None:
                raise InputError(f"{names[table]}: segment {row['segment_id']} is not in "
                                 f"{names['segments']}")
            if label == "theme" and row["theme"] not in themes:
                raise InputError(f"{names[table]}: theme {row['theme']!r} is not in the codebook")
            if label == "value" and (row["facet"], row["value"]) not in values:
                raise InputError(f"{names[table]}: facet value {row['facet']}/{row['value']} "
                                 "is not in the codebook")
            raw = raw_texts[seg["doc_id"]]
            s, e = int(row["evidence_start"]), int(row["evidence_end"])
            inside = int(seg["start"]) <= s <= e <= int(seg["end"])
            if raw[s:e] != row["evidence_text"] or not inside:
                raise InputError(f"{names[table]}: evidence [{s}:{e}) of {row['segment_id']} does "
                                 "not match the raw file; rebuild the tables")
    for seg in segments:
        raw = raw_texts[seg["doc_id"]]
        if raw[int(seg["start"]):int(seg["end"])] != seg["text"]:
            raise InputError(f"{names['segments']}: {seg['segment_id']} text does not match the "
                             "raw file at its span; rebuild the tables")


def build_project(codebook, documents, segments, codings, facets, raw_texts, *,
                  name: str = "qualtrace", description: str | None = None,
                  epoch: int | None = None, table_names: dict | None = None) -> dict[str, bytes]:
    """The `.qdpx` members in archive order: `project.qde`, then `sources/<guid>.txt`.

    documents/segments/codings/facets are rows as read from the CSV tables; raw_texts maps
    doc_id -> decoded raw text (the string our offsets index).
    """
    names = {k: f"{k}.csv" for k in ("documents", "segments", "codings", "facets")}
    names.update(table_names or {})
    if not documents:
        raise InputError(f"{names['documents']}: no documents to export")
    _check_inputs(documents, segments, codings, facets, raw_texts, codebook, names)
    codes = code_index(codebook)
    user = guid(USER_KEY)
    order = {s["segment_id"]: i for i, s in enumerate(segments)}
    segs_by_id = {s["segment_id"]: s for s in segments}
    theme_rank = {t.id: i for i, t in enumerate(codebook.themes)}
    value_rank = {(f.id, v.id): (i, j) for i, f in enumerate(codebook.facets)
                  for j, v in enumerate(f.values)}
    facet_label = {f.id: f.label for f in codebook.facets}
    value_label = {(f.id, v.id): v.label for f in codebook.facets for v in f.values}

    # Every coding as (segment, sort key, code key, selection key, row).
    applied = [(r["segment_id"], (0, theme_rank[r["theme"]]), f"theme:{r['theme']}",
                f"{r['segment_id']}:{r['theme']}", r) for r in codings]
    applied += [(r["segment_id"], (1,) + value_rank[(r["facet"], r["value"])],
                 f"value:{r['facet']}/{r['value']}",
                 f"{r['segment_id']}:{r['facet']}/{r['value']}", r) for r in facets]
    applied.sort(key=lambda a: (order[a[0]], a[1]))
    selections_of_segment: dict[str, list[str]] = defaultdict(list)
    values_of_segment: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for seg_id, _, _, sel_key, row in applied:
        selections_of_segment[seg_id].append(guid(f"selection:{sel_key}"))
        if "facet" in row:
            values_of_segment[seg_id].append((row["facet"], row["value"]))

    root = ET.Element(f"{{{NS}}}Project", {"name": xml_text(name), "origin": ORIGIN,
                                            "creatingUserGUID": user})
    if epoch is not None:
        root.set("creationDateTime", _iso(epoch))
    _el(_el(root, "Users"), "User", {"guid": user, "name": "qualtrace", "id": "qualtrace"})
    _el(root, "CodeBook").append(codes_element(codebook, NS))
    variables = _Variables()
    cases = _cases(segments, segs_by_id, selections_of_segment, values_of_segment, codebook,
                   variables, facet_label, value_label)
    sources = _el(root, "Sources")
    members: dict[str, bytes] = {}
    chapter_ints = all(re.fullmatch(r"-?\d+", str(d.get("chapter_number") or "0"))
                       for d in documents)
    by_doc = defaultdict(list)
    for item in applied:
        by_doc[segs_by_id[item[0]]["doc_id"]].append(item)
    for doc in documents:
        doc_id, raw = doc["doc_id"], raw_texts[doc["doc_id"]]
        source_guid = guid(f"source:{doc_id}")
        members[f"sources/{source_guid}.txt"] = raw.encode("utf-8")
        file_name = doc.get("source_name") or Path(doc["path"]).name
        source = _el(sources, "TextSource", {"guid": source_guid, "name": xml_text(file_name),
                                             "plainTextPath": f"internal://{source_guid}.txt",
                                             "creatingUser": user})
        _el(source, "Description", text=_source_description(doc, file_name))
        line_ends = [m.end() for m in _LINE_END.finditer(raw)]
        for seg_id, _, code_key, sel_key, row in by_doc[doc_id]:
            seg = segs_by_id[seg_id]
            start = int(seg["start"])
            line = bisect.bisect_right(line_ends, start)
            selection = _el(source, "PlainTextSelection", {
                "guid": guid(f"selection:{sel_key}"), "name": f"line:{line} {seg_id}",
                "startPosition": str(start), "endPosition": str(int(seg["end"])),
                "creatingUser": user})
            what = codes[code_key].name if "theme" in row else (
                f"{facet_label[row['facet']]}: {codes[code_key].name}")
            _el(selection, "Description", text=_selection_description(seg, row, what))
            coding = _el(selection, "Coding", {"guid": guid(f"coding:{sel_key}"),
                                               "creatingUser": user})
            _el(coding, "CodeRef", {"targetGUID": codes[code_key].guid})
        variables.value(source, "Document title", doc.get("title"))
        variables.value(source, "Chapter number", doc.get("chapter_number"),
                        "Integer" if chapter_ints else "Text")
        variables.value(source, "Chapter title", doc.get("chapter_title"))
        variables.value(source, "qualtrace doc_id", doc_id)
        variables.value(source, "File SHA-256", doc.get("sha256"))
    # Fixed order: Users, CodeBook, Variables, Cases, Sources, ..., Description.
    position = 2
    for optional in (variables.element(), cases):
        if optional is not None:
            root.insert(position, optional)
            position += 1
    if description:
        _el(root, "Description", text=description)
    return {"project.qde": serialize(root, NS), **members}


def _source_description(doc: dict, file_name: str) -> str:
    parts = [doc.get("title") or file_name]
    if doc.get("chapter_number") or doc.get("chapter_title"):
        parts.append(f"chapter {doc.get('chapter_number', '')}: {doc.get('chapter_title', '')}")
    return (". ".join(p.strip() for p in parts) + f". File {file_name}, SHA-256 "
            f"{doc.get('sha256', '')}. Positions are code points, end exclusive.")


def _selection_description(seg: dict, row: dict, what: str) -> str:
    return (f"{what}. Segment {seg['segment_id']} ({seg.get('kind', '')}) "
            f"[{seg['start']}:{seg['end']}]. Evidence [{row['evidence_start']}:"
            f"{row['evidence_end']}] by rule {row['rule']}: \u201c{row['evidence_text']}\u201d")


def _cases(segments, segs_by_id, selections_of_segment, values_of_segment, codebook,
           variables: _Variables, facet_label, value_label) -> ET.Element | None:
    root = ET.Element(f"{{{NS}}}Cases")
    interviews: dict[str, list[dict]] = defaultdict(list)
    for seg in segments:
        if seg.get("interview_id"):
            interviews[seg["interview_id"]].append(seg)
    for interview_id in sorted(interviews):
        segs = interviews[interview_id]
        case = _el(root, "Case", {"guid": guid(f"case:interview:{interview_id}"),
                                  "name": xml_text(f"Interview {interview_id}")})
        printed = sorted({s.get("speaker_group_raw", "") for s in segs} - {""})
        _el(case, "Description", text="Quoted as: " + "; ".join(printed) if printed else
            f"Interview {interview_id}")
        variables.value(case, "Speaker group", segs[0].get("speaker_group"))
        for facet in codebook.facets:
            found = {v for s in segs for f, v in values_of_segment[s["segment_id"]]
                     if f == facet.id}
            labels = [value_label[(facet.id, v.id)] for v in facet.values if v.id in found]
            variables.value(case, facet_label[facet.id], "; ".join(labels))
        for s in segs:
            for target in selections_of_segment[s["segment_id"]]:
                _el(case, "SelectionRef", {"targetGUID": target})
    for facet in codebook.facets:
        for value in facet.values:
            case = _el(root, "Case", {"guid": guid(f"case:{facet.id}/{value.id}"),
                                      "name": xml_text(f"{facet.label}: {value.label}")})
            _el(case, "Description", text=value.definition)
            variables.value(case, facet.label, value.label)
            for seg_id, targets in selections_of_segment.items():
                if (facet.id, value.id) in values_of_segment[seg_id]:
                    for target in targets:
                        _el(case, "SelectionRef", {"targetGUID": target})
    return root if len(root) else None


def zip_bytes(members: dict[str, bytes], epoch: int | None = None) -> bytes:
    """A byte-stable ZIP: members in the given order, fixed time (1980-01-01, or
    SOURCE_DATE_EPOCH in UTC), mode 0644, unix creator, deflate level 9."""
    stamp = (1980, 1, 1, 0, 0, 0)
    if epoch is not None:
        stamp = tuple(max(time.gmtime(epoch)[:6], stamp))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


def write_qdpx(path, members: dict[str, bytes], epoch: int | None = None) -> None:
    atomic_write_bytes(path, zip_bytes(members, epoch))


def validate_xml(data: bytes, schema: str, schema_dir: Path | None = None) -> None:
    """Validate against `Project.xsd` or `Codebook.xsd` (xmlschema); raises on the first error."""
    import xmlschema

    xsd = xmlschema.XMLSchema(str((schema_dir or SCHEMA_DIR) / schema))
    xsd.validate(io.BytesIO(data))
