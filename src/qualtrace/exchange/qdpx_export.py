"""Export the coded corpus as a REFI-QDA project (`.qdpx`, QDA-XML 1.0).

What a receiving tool (NVivo, ATLAS.ti, MAXQDA, QualCoder, qc) gets:
- Sources: each raw file as `sources/<guid>.txt`, its decoded text written back as UTF-8 (the
  raw bytes, BOM included), so code-point positions equal our offsets. Variables on each
  source: document title, chapter number and title, the file's SHA-256.
- CodeBook: the tree of `qualtrace.exchange.codebook_formats.code_tree` (themes, facet parents, values).
- Codings: one PlainTextSelection per (segment, theme) and per (segment, facet value) at the
  segment's span, holding one Coding; its description gives the evidence span and rule. The
  selection name is `line:<N> <segment_id>`: N is the 0-based line of the segment start, which
  is how qc places an imported selection (other tools just show the name).
- Researcher review: each reviewer is a `User`; a coding a reviewer accepted or added is
  created by that user (`creatingUser`) and its selection description says so; a memo is a
  `Note` under `Notes`, referred to from its selection (`NoteRef`).
- Cases, for matrix queries: one per interview (its quotations; variables speaker group and
  the facet values of its quotations) and one per facet value (every coded segment with it).

Deterministic: GUIDs are uuid5 of stable keys, elements in fixed order, no dates unless
SOURCE_DATE_EPOCH is set, ZIP members in fixed order with fixed time, mode and deflate level.

Scale: `project.qde` is written as a stream of chunks, never as a DOM, each chunk handed to
the ZIP writer (a thread: zlib works without the GIL) as it is made, so time and memory grow
linearly with the corpus. The bytes are those `xml.etree.ElementTree.indent` + `tostring` would
give for the same tree (two-space indent, `<tag />` for empty elements, ElementTree's escaping).

Validation: libxml2's XSD validator (lxml), streamed, on the `project.qde` read back from the
temporary archive before it replaces the output (`write_project`, `validate_xml`).
"""
from __future__ import annotations

import ast
import bisect
import functools
import hashlib
import io
import os
import queue
import re
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from pathlib import Path

from lxml import etree

from .. import SCHEMA_DIR as PACKAGE_SCHEMAS
from .codebook_formats import GUID_NAMESPACE, ORIGIN, PROJECT_NS, code_index, codes_element
from .codebook_formats import xml_text
from ..common.io import UMASK, InputError, sha256_bytes
from .xmlguard import UnsafeXmlError, guarded

NS = PROJECT_NS
USER_KEY = "user:qualtrace"
SCHEMA_DIR = PACKAGE_SCHEMAS / "refi-qda"
_LINE_END = re.compile(r"\r\n|\r|\n")
_CHUNK = 1 << 20  # characters of XML per chunk handed to the ZIP writer
_GUID_PREFIX = hashlib.sha1(GUID_NAMESPACE.bytes)


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH as an int; None when unset or 0 (the convention for "no date")."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) or None if value else None


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def _guid(key: str, _copy=_GUID_PREFIX.copy, _variant=_VARIANT) -> str:
    """`codebook_exchange.guid` (uuid5 in GUID_NAMESPACE), without building UUID objects:
    SHA-1 of namespace + key, version nibble 5, RFC 4122 variant bits."""
    digest = _copy()
    digest.update(key.encode("utf-8"))
    h = digest.hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_variant[h[16]]}{h[17:20]}-{h[20:32]}"


# ------------------------------------------------------------------------------ XML text
# ElementTree's escaping (xml.etree.ElementTree._escape_cdata / _escape_attrib), kept here so
# the bytes do not depend on a private function of the standard library.
def _esc(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _attr(text: str) -> str:
    text = _esc(text)
    if "\"" in text:
        text = text.replace("\"", "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#09;")
    return text


_INDENTS = tuple("\n" + "  " * level for level in range(12))
# Characters xml_text or the escaping would change; text without any is written as it is.
_SPECIAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r&<>\ud800-\udfff\ufffe\uffff]")
_SPECIAL_ATTR = re.compile("[\x00-\x1f&<>\"\ud800-\udfff\ufffe\uffff]")


def _indent(level: int) -> str:
    return _INDENTS[level] if level < len(_INDENTS) else "\n" + "  " * level


def _text(value) -> str:
    """_esc(xml_text(value))."""
    if type(value) is str and _SPECIAL.search(value) is None:
        return value
    return _esc(xml_text(value))


def _attr_text(value) -> str:
    """_attr(xml_text(value))."""
    if type(value) is str and _SPECIAL_ATTR.search(value) is None:
        return value
    return _attr(xml_text(value))


def _leaf(level: int, tag: str, attrs: str, text: str | None) -> str:
    """An element without children at `level`, preceded by its indentation; `text` is the
    raw text (xml_text is applied)."""
    text = _text(text) if text is not None else None
    if text:
        return f"{_indent(level)}<{tag}{attrs}>{text}</{tag}>"
    return f"{_indent(level)}<{tag}{attrs} />"


def _attrs(pairs) -> str:
    return "".join(f' {k}="{_attr(v)}"' for k, v in pairs)


def _tree(elem, level: int, out: list) -> None:
    """An ElementTree element in NS as ET.indent(level=...) + tostring write it (no tail)."""
    prefix = f"{{{NS}}}"
    if not elem.tag.startswith(prefix):
        raise ValueError(f"unexpected element {elem.tag} in the project tree")
    tag = elem.tag[len(prefix):]
    out.append(f"<{tag}{_attrs(elem.items())}")
    children = list(elem)
    text = elem.text
    if children and (not text or not text.strip()):
        text = _indent(level + 1)
    if not text and not children:
        out.append(" />")
        return
    out.append(">")
    if text:
        out.append(_esc(text))
    for i, child in enumerate(children):
        _tree(child, level + 1, out)
        tail = child.tail
        if not tail or not tail.strip():
            tail = _indent(level + 1 if i < len(children) - 1 else level)
        out.append(_esc(tail))
    out.append(f"</{tag}>")


# ------------------------------------------------------------------------------ the project
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
            s, e = row["evidence_start"], row["evidence_end"]
            # A facet value taken from context (qualtrace.coding.context) points at the passage it was
            # taken from, elsewhere in the document; a theme's evidence is in its segment.
            inside = table == "facets" or seg["start"] <= s <= e <= seg["end"]
            if raw[s:e] != row["evidence_text"] or not inside:
                raise InputError(f"{names[table]}: evidence [{s}:{e}) of {row['segment_id']} does "
                                 "not match the raw file; rebuild the tables")
    for seg in segments:
        raw = raw_texts[seg["doc_id"]]
        if raw[seg["start"]:seg["end"]] != seg["text"]:
            raise InputError(f"{names['segments']}: {seg['segment_id']} text does not match the "
                             "raw file at its span; rebuild the tables")


class ProjectXml:
    """A checked, planned project: `chunks()` yields `project.qde`, `sources()` the source
    members, both in archive order. Planning is linear in the number of codings."""

    def __init__(self, codebook, documents, segments, codings, facets, raw_texts, *,
                 name: str = "qualtrace", description: str | None = None,
                 epoch: int | None = None, table_names: dict | None = None):
        names = {k: f"{k}.csv" for k in ("documents", "segments", "codings", "facets")}
        names.update(table_names or {})
        if not documents:
            raise InputError(f"{names['documents']}: no documents to export")
        _check_inputs(documents, segments, codings, facets, raw_texts, codebook, names)
        self.codebook, self.documents, self.raw_texts = codebook, documents, raw_texts
        self.name, self.description, self.epoch = name, description, epoch
        self.user = _guid(USER_KEY)
        codes = code_index(codebook)
        order = {s["segment_id"]: i for i, s in enumerate(segments)}
        segs_by_id = {s["segment_id"]: s for s in segments}
        theme_rank = {t.id: i for i, t in enumerate(codebook.themes)}
        value_rank = {(f.id, v.id): (i, j) for i, f in enumerate(codebook.facets)
                      for j, v in enumerate(f.values)}
        facet_label = {f.id: f.label for f in codebook.facets}
        value_label = {(f.id, v.id): v.label for f in codebook.facets for v in f.values}

        # Every coding as (segment, sort key, code key, selection key, row), in segment order.
        applied = [(r["segment_id"], (0, theme_rank[r["theme"]]), f"theme:{r['theme']}",
                    f"{r['segment_id']}:{r['theme']}", r) for r in codings]
        applied += [(r["segment_id"], (1,) + value_rank[(r["facet"], r["value"])],
                     f"value:{r['facet']}/{r['value']}",
                     f"{r['segment_id']}:{r['facet']}/{r['value']}", r) for r in facets]
        applied.sort(key=lambda a: (order[a[0]], a[1]))
        selections_of_segment: dict[str, list[str]] = defaultdict(list)
        values_of_segment: dict[str, list[tuple[str, str]]] = defaultdict(list)
        by_doc: dict[str, list] = defaultdict(list)
        for seg_id, _, code_key, sel_key, row in applied:
            sel_guid = _guid(f"selection:{sel_key}")
            selections_of_segment[seg_id].append(sel_guid)
            if "facet" in row:
                values_of_segment[seg_id].append((row["facet"], row["value"]))
            seg = segs_by_id[seg_id]
            by_doc[seg["doc_id"]].append((seg, code_key, sel_key, sel_guid, row))
        self.n_selections = len(applied)
        self._by_doc, self._codes, self._facet_label = by_doc, codes, facet_label
        # Researcher review: each reviewer is a User; a reviewed coding is created by its
        # (first) reviewer, and its memo is a Note the selection refers to.
        self.reviewers = sorted({name for *_, row in applied
                                 for name in (row.get("reviewer") or "").split()})
        self._notes = {sel_key: (_guid(f"note:{sel_key}"), f"Memo on {seg_id} ({code_key})",
                                 _reviewer_guid(row["reviewer"].split()[0]) if row.get(
                                     "reviewer") else self.user, row["note"])
                       for seg_id, _, code_key, sel_key, row in applied if row.get("note")}

        # Variables are declared once, in first-use order: cases first, then sources.
        self.variables: dict[str, str] = {}  # name -> type
        self._cases = self._plan_cases(segments, selections_of_segment, values_of_segment,
                                       codebook, facet_label, value_label)
        # A case's text, as QualCoder (and NVivo) read it: a code with the case's GUID coding
        # the case's segments. SelectionRef alone links no text there. One coding per segment
        # of the case, on the segment's first selection.
        self._case_codings: dict[str, list[str]] = defaultdict(list)
        for case_guid, _, _, _, refs in self._cases:
            for targets in refs:
                if targets:
                    self._case_codings[targets[0]].append(case_guid)
        chapter_ints = all(re.fullmatch(r"-?\d+", str(d.get("chapter_number") or "0"))
                           for d in documents)
        self._source_values = [
            self._values([("Document title", doc.get("title"), "Text"),
                          ("Chapter number", doc.get("chapter_number"),
                           "Integer" if chapter_ints else "Text"),
                          ("Chapter title", doc.get("chapter_title"), "Text"),
                          ("qualtrace doc_id", doc["doc_id"], "Text"),
                          ("File SHA-256", doc.get("sha256"), "Text")])
            for doc in documents]

    def _values(self, triples) -> list[tuple[str, str, str]]:
        """(name, value, kind) of the values that are written, declaring their variables."""
        kept = []
        for name, value, kind in triples:
            if value is None or value == "":
                continue
            self.variables.setdefault(name, kind)
            kept.append((name, str(value), kind))
        return kept

    def _plan_cases(self, segments, selections_of_segment, values_of_segment, codebook,
                    facet_label, value_label) -> list:
        """Cases as (guid, name, description, variable values, selection GUID lists)."""
        cases = []
        interviews: dict[str, list[dict]] = defaultdict(list)
        for seg in segments:
            if seg.get("interview_id"):
                interviews[seg["interview_id"]].append(seg)
        for interview_id in sorted(interviews):
            segs = interviews[interview_id]
            printed = sorted({s.get("speaker_group_raw", "") for s in segs} - {""})
            description = ("Quoted as: " + "; ".join(printed) if printed else
                           f"Interview {interview_id}")
            triples = [("Speaker group", segs[0].get("speaker_group"), "Text")]
            for facet in codebook.facets:
                found = {v for s in segs for f, v in values_of_segment.get(s["segment_id"], ())
                         if f == facet.id}
                labels = [value_label[(facet.id, v.id)] for v in facet.values if v.id in found]
                triples.append((facet_label[facet.id], "; ".join(labels), "Text"))
            refs = [selections_of_segment.get(s["segment_id"], ()) for s in segs]
            cases.append((_guid(f"case:interview:{interview_id}"), f"Interview {interview_id}",
                          description, self._values(triples), refs))
        # Segments of each facet value, in segment order (one pass, not one per value).
        segments_with: dict[tuple[str, str], list[str]] = defaultdict(list)
        for seg_id, found in values_of_segment.items():
            for key in dict.fromkeys(found):
                segments_with[key].append(seg_id)
        for facet in codebook.facets:
            for value in facet.values:
                refs = [selections_of_segment[s] for s in segments_with.get((facet.id, value.id),
                                                                            ())]
                cases.append((_guid(f"case:{facet.id}/{value.id}"),
                              f"{facet.label}: {value.label}", value.definition,
                              self._values([(facet.label, value.label, "Text")]), refs))
        return cases

    # -------------------------------------------------------------------------- writing
    def _variable_values(self, level: int, values) -> str:
        ind = _indent(level)
        return "".join(
            f"{ind}<VariableValue>"
            f"{_indent(level + 1)}<VariableRef targetGUID=\"{_variable_guid(name)}\" />"
            f"{_leaf(level + 1, kind + 'Value', '', value)}{ind}</VariableValue>"
            for name, value, kind in values)

    def _codes_with_cases(self):
        """The codebook's codes, then a non-codable "Cases" code holding one code per case
        with the case's GUID (how QualCoder and NVivo carry a case's text)."""
        codes = codes_element(self.codebook, NS)
        if self._cases:
            parent = ET.SubElement(codes, f"{{{NS}}}Code", {
                "guid": _guid("code:cases"), "name": "Cases", "isCodable": "false"})
            ET.SubElement(parent, f"{{{NS}}}Description").text = (
                "One code per case, sharing the case's GUID: its codings are the case's text.")
            for case_guid, name, _, _, _ in self._cases:
                ET.SubElement(parent, f"{{{NS}}}Code", {
                    "guid": case_guid, "name": xml_text(name), "isCodable": "true"})
        return codes

    def _parts(self):
        """`project.qde` as text pieces, in order."""
        user = self.user
        root = [("name", xml_text(self.name)), ("origin", ORIGIN), ("creatingUserGUID", user)]
        if self.epoch is not None:
            root.append(("creationDateTime", _iso(self.epoch)))
        yield (f"<?xml version='1.0' encoding='utf-8'?>\n<Project xmlns=\"{_attr(NS)}\""
               f"{_attrs(root)}>{_indent(1)}<Users>{_indent(2)}<User guid=\"{user}\" "
               f"name=\"qualtrace\" id=\"qualtrace\" />"
               + "".join(f"{_indent(2)}<User guid=\"{_reviewer_guid(name)}\" "
                         f"name=\"{_attr_text(name)}\" id=\"review:{_attr_text(name)}\" />"
                         for name in self.reviewers)
               + f"{_indent(1)}</Users>"
               f"{_indent(1)}<CodeBook>{_indent(2)}")
        codebook: list[str] = []
        _tree(self._codes_with_cases(), 2, codebook)
        yield "".join(codebook) + f"{_indent(1)}</CodeBook>"
        if self.variables:
            yield f"{_indent(1)}<Variables>" + "".join(
                f"{_indent(2)}<Variable guid=\"{_variable_guid(name)}\" "
                f"name=\"{_attr_text(name)}\" typeOfVariable=\"{_attr(kind)}\" />"
                for name, kind in self.variables.items()) + f"{_indent(1)}</Variables>"
        if self._cases:
            yield f"{_indent(1)}<Cases>"
            for case_guid, name, description, values, refs in self._cases:
                yield (f"{_indent(2)}<Case guid=\"{case_guid}\" name=\"{_attr_text(name)}\">"
                       f"{_leaf(3, 'Description', '', description)}"
                       f"{self._variable_values(3, values)}")
                ref = f"{_indent(3)}<SelectionRef targetGUID=\""
                for targets in refs:
                    if targets:
                        yield ref + ("\" />" + ref).join(targets) + "\" />"
                yield f"{_indent(2)}</Case>"
            yield f"{_indent(1)}</Cases>"
        yield f"{_indent(1)}<Sources>"
        codes, facet_label = self._codes, self._facet_label
        i3, i4, i5 = _indent(3), _indent(4), _indent(5)
        for doc, values in zip(self.documents, self._source_values):
            doc_id, raw = doc["doc_id"], self.raw_texts[doc["doc_id"]]
            source_guid = _guid(f"source:{doc_id}")
            file_name = doc.get("source_name") or Path(doc["path"]).name
            yield (f"{_indent(2)}<TextSource guid=\"{source_guid}\" "
                   f"name=\"{_attr_text(file_name)}\" "
                   f"plainTextPath=\"internal://{source_guid}.txt\" creatingUser=\"{user}\">"
                   f"{_leaf(3, 'Description', '', _source_description(doc, file_name))}")
            line_ends = [m.end() for m in _LINE_END.finditer(raw)]
            out = []
            for seg, code_key, sel_key, sel_guid, row in self._by_doc.get(doc_id, ()):
                start, seg_id = seg["start"], seg["segment_id"]
                line = bisect.bisect_right(line_ends, start)
                code = codes[code_key]
                what = code.name if "theme" in row else f"{facet_label[row['facet']]}: {code.name}"
                by = _reviewer_guid(row["reviewer"].split()[0]) if row.get("reviewer") else user
                note = self._notes.get(sel_key)
                out.append(
                    f"{i3}<PlainTextSelection guid=\"{sel_guid}\" "
                    f"name=\"line:{line} {_attr(seg_id)}\" "
                    f"startPosition=\"{start}\" endPosition=\"{seg['end']}\" "
                    f"creatingUser=\"{user}\">"
                    f"{i4}<Description>{_text(_selection_description(seg, row, what))}"
                    f"</Description>"
                    f"{i4}<Coding guid=\"{_guid(f'coding:{sel_key}')}\" creatingUser=\"{by}\">"
                    f"{i5}<CodeRef targetGUID=\"{code.guid}\" />{i4}</Coding>"
                    + "".join(
                        f"{i4}<Coding guid=\"{_guid(f'coding:case:{case}:{sel_key}')}\" "
                        f"creatingUser=\"{user}\">{i5}<CodeRef targetGUID=\"{case}\" />"
                        f"{i4}</Coding>" for case in self._case_codings.get(sel_guid, ()))
                    + (f"{i4}<NoteRef targetGUID=\"{note[0]}\" />" if note else "")
                    + f"{i3}</PlainTextSelection>")
                if len(out) >= 256:
                    yield "".join(out)
                    out.clear()
            yield "".join(out) + self._variable_values(3, values) + f"{_indent(2)}</TextSource>"
        yield f"{_indent(1)}</Sources>"
        if self._notes:
            yield f"{_indent(1)}<Notes>" + "".join(
                f"{_indent(2)}<Note guid=\"{note_guid}\" name=\"{_attr_text(name)}\" "
                f"creatingUser=\"{by}\">{_leaf(3, 'PlainTextContent', '', text)}"
                f"{_indent(2)}</Note>"
                for note_guid, name, by, text in self._notes.values()) + f"{_indent(1)}</Notes>"
        if self.description:
            yield _leaf(1, "Description", "", self.description)
        yield "\n</Project>\n"

    def chunks(self, size: int = _CHUNK):
        """`project.qde` as UTF-8 byte chunks of about `size` characters."""
        pending: list[str] = []
        length = 0
        for part in self._parts():
            pending.append(part)
            length += len(part)
            if length >= size:
                yield "".join(pending).encode("utf-8", "xmlcharrefreplace")
                pending.clear()
                length = 0
        if pending:
            yield "".join(pending).encode("utf-8", "xmlcharrefreplace")

    def sources(self):
        """(member name, bytes) of each source, in document order (a doc_id listed twice
        gives one member, as the dict of members always did)."""
        for doc_id in dict.fromkeys(doc["doc_id"] for doc in self.documents):
            yield (f"sources/{_guid(f'source:{doc_id}')}.txt",
                   self.raw_texts[doc_id].encode("utf-8"))

    @property
    def n_sources(self) -> int:
        return len({doc["doc_id"] for doc in self.documents})

    def members(self):
        """(name, chunks) in archive order: `project.qde` as a generator of byte chunks, each
        source as bytes."""
        yield "project.qde", self.chunks()
        yield from self.sources()


@functools.lru_cache(maxsize=None)
def _variable_guid(name: str) -> str:
    return _guid(f"variable:{name}")


def build_project(codebook, documents, segments, codings, facets, raw_texts, *,
                  name: str = "qualtrace", description: str | None = None,
                  epoch: int | None = None, table_names: dict | None = None) -> dict[str, bytes]:
    """The `.qdpx` members in archive order: `project.qde`, then `sources/<guid>.txt`.

    documents/segments/codings/facets are rows as read from the CSV tables; raw_texts maps
    doc_id -> decoded raw text (the string our offsets index). For large corpora use
    `ProjectXml` and `write_project`, which never hold the whole XML in memory.
    """
    project = ProjectXml(codebook, documents, segments, codings, facets, raw_texts, name=name,
                         description=description, epoch=epoch, table_names=table_names)
    return {"project.qde": b"".join(project.chunks()), **dict(project.sources())}


def _source_description(doc: dict, file_name: str) -> str:
    parts = [doc.get("title") or file_name]
    if doc.get("chapter_number") or doc.get("chapter_title"):
        parts.append(f"chapter {doc.get('chapter_number', '')}: {doc.get('chapter_title', '')}")
    return (". ".join(p.strip() for p in parts) + f". File {file_name}, SHA-256 "
            f"{doc.get('sha256', '')}. Positions are code points, end exclusive.")


def _selection_description(seg: dict, row: dict, what: str) -> str:
    reviewed = {"accepted": "accepted by", "added": "added by"}.get(row.get("status", ""))
    return (f"{what}. Segment {seg['segment_id']} ({seg.get('kind', '')}) "
            f"[{seg['start']}:{seg['end']}]. Evidence [{row['evidence_start']}:"
            f"{row['evidence_end']}] by rule {row['rule']}: \u201c{row['evidence_text']}\u201d"
            + (f". Review: {reviewed} {row['reviewer']}" if reviewed else ""))


def _reviewer_guid(name: str) -> str:
    return _guid(f"user:review:{name}")


# ------------------------------------------------------------------------------ the archive
def _stamp(epoch: int | None) -> tuple:
    stamp = (1980, 1, 1, 0, 0, 0)
    if epoch is not None:
        stamp = tuple(max(time.gmtime(epoch)[:6], stamp))
    return stamp


def _zip_info(name: str, stamp: tuple) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    try:
        info.compress_level = 9  # Python >= 3.13
    except AttributeError:
        info._compresslevel = 9
    return info


def _write_zip(fileobj, members, stamp) -> None:
    """(name, bytes or an iterator of byte chunks) pairs into a ZIP on a seekable file: the
    bytes `ZipFile.writestr(info, data, compress_type=ZIP_DEFLATED, compresslevel=9)` gives
    for the joined chunks. Chunks are compressed in a thread while the next ones are made."""
    with zipfile.ZipFile(fileobj, "w") as archive:
        for name, chunks in members:
            if isinstance(chunks, (bytes, bytearray, memoryview, str)):
                archive.writestr(_zip_info(name, stamp), chunks)
                continue
            with archive.open(_zip_info(name, stamp), "w") as dest:
                _pump(chunks, dest.write)


def _pump(chunks, write) -> None:
    """write(chunk) for every chunk, in a thread, while the next chunks are made here."""
    pending: queue.Queue = queue.Queue(maxsize=4)
    failure: list[BaseException] = []

    def writer():
        while (chunk := pending.get()) is not None:
            if not failure:
                try:
                    write(chunk)
                except BaseException as err:  # reported in the caller's thread
                    failure.append(err)

    thread = threading.Thread(target=writer, name="qdpx-zip", daemon=True)
    thread.start()
    try:
        for chunk in chunks:
            if failure:
                break
            pending.put(chunk)
    finally:
        pending.put(None)
        thread.join()
    if failure:
        raise failure[0]


def zip_bytes(members: dict[str, bytes], epoch: int | None = None) -> bytes:
    """A byte-stable ZIP: members in the given order, fixed time (1980-01-01, or
    SOURCE_DATE_EPOCH in UTC), mode 0644, unix creator, deflate level 9."""
    buffer = io.BytesIO()
    _write_zip(buffer, members.items(), _stamp(epoch))
    return buffer.getvalue()


class _AtomicFile:
    """A temporary file beside `path` that replaces it on commit() (as io.atomic_write_bytes:
    mode 0666 minus umask, fsync, rename) and is removed otherwise."""

    def __init__(self, path):
        self.target = Path(path)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp",
                                        dir=self.target.parent)
        os.chmod(self.tmp, 0o666 & ~UMASK)
        self.handle = os.fdopen(fd, "w+b")

    def __enter__(self):
        return self

    def commit(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.replace(self.tmp, self.target)

    def __exit__(self, *exc):
        if not self.handle.closed:
            self.handle.close()
        Path(self.tmp).unlink(missing_ok=True)


def write_project(path, project: ProjectXml, *, validate: bool = True,
                  schema_dir: Path | None = None) -> None:
    """Write the `.qdpx` atomically. With `validate`, its `project.qde` is read back from the
    temporary file and checked against Project.xsd before the file replaces `path`: if it is
    not valid, XsdValidationError is raised, the temporary file removed, nothing written."""
    with _AtomicFile(path) as out:
        _write_zip(out.handle, project.members(), _stamp(project.epoch))
        if validate:
            out.handle.flush()
            with zipfile.ZipFile(out.tmp) as archive, archive.open("project.qde") as member:
                validate_xml(member, "Project.xsd", schema_dir)
        out.commit()


def write_qdpx(path, members: dict[str, bytes], epoch: int | None = None) -> None:
    with _AtomicFile(path) as out:
        _write_zip(out.handle, members.items(), _stamp(epoch))
        out.commit()


# ------------------------------------------------------------------------------ validation
class XsdValidationError(InputError, ValueError):
    """The XML is not valid against its REFI-QDA schema (or not well-formed)."""


_READ = 1 << 16  # bytes per feed to the validating parser


def validate_xml(source, schema: str, schema_dir: Path | None = None) -> None:
    """Validate `source` (bytes, or a binary file object read from where it stands) against
    `Project.xsd` or `Codebook.xsd` with libxml2's XSD validator, streamed: any size, no
    element limit, memory independent of the document. Raises XsdValidationError naming the
    schema, the line and libxml2's reason. Nothing is fetched (no network, no DTD, no
    external entity); a DOCTYPE is refused before libxml2 reads a byte (qualtrace.exchange.xmlguard)."""
    xsd = etree.XMLSchema(etree.parse(str((schema_dir or SCHEMA_DIR) / schema),
                                      etree.XMLParser(no_network=True)))
    handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) \
        else source
    start = handle.tell() if handle.seekable() else None
    try:
        failure = _first_error(handle, xsd)
    except UnsafeXmlError as err:
        raise XsdValidationError(str(err)) from None
    if failure is None:
        return
    piece, line, reason = failure
    if line is None and start is not None:
        # libxml2 gives no line for schema errors found while streaming: read again up to
        # the piece where the error showed, then a line at a time.
        handle.seek(start)
        again = _first_error(handle, xsd, by_line_from=piece)
        line = again[1] if again else None
    where = f" at line {line}" if line else ""
    raise XsdValidationError(f"is not valid against {schema}{where}: {reason}")


def _first_error(handle, xsd, by_line_from: int | None = None):
    """None if the document is valid, else (index of the piece read when the error showed,
    its line if known, libxml2's reason). Pieces from `by_line_from` on are fed a line at a
    time, and the line is then the one whose feeding showed the error."""
    # resolve_entities is left at lxml's default ("internal": external entities are never
    # loaded): with resolve_entities=False and a schema, lxml 6.1 accepts documents that are
    # not well-formed, truncated ones included.
    parser = etree.XMLPullParser(events=("end",), schema=xsd, no_network=True, load_dtd=False)
    index, line = -1, 1
    pieces = guarded(iter(lambda: handle.read(_READ), b""))
    try:
        for piece in pieces:
            index += 1
            if by_line_from is None or index < by_line_from:
                parts = (piece,)
            else:
                parts = piece.splitlines(keepends=True)
            for part in parts:
                parser.feed(part)
                errors = parser.feed_error_log.filter_from_errors()
                if errors:  # schema errors are otherwise only raised by close()
                    return index, (line if by_line_from is not None else None), \
                        _plain(errors[0].message)
                if by_line_from is not None:
                    line += part.count(b"\n") + part.count(b"\r") - part.count(b"\r\n")
                for _, element in parser.read_events():  # keep no tree behind
                    element.clear(keep_tail=True)
                    parent = element.getparent()  # None for the root (a comment may precede it)
                    while parent is not None and element.getprevious() is not None:
                        del parent[0]
        parser.close()
    except etree.XMLSyntaxError as err:
        errors = parser.feed_error_log.filter_from_errors()
        if errors and errors[0].domain_name == "SCHEMASV":  # found by close(), or before
            return max(index, 0), (line if by_line_from is not None else None), \
                _plain(errors[0].message)
        return max(index, 0), err.lineno or None, f"not well-formed XML: {_plain(err.msg)}"
    return None


_WRAPPED = re.compile(r"line \d+: (b('|\").*\2)", re.S)


def _plain(message: str) -> str:
    """libxml2's message. With a schema attached, lxml 6.1 passes parser errors on as
    "line N: b'<message>'"; that wrapping is taken off (the line is reported apart)."""
    wrapped = _WRAPPED.fullmatch(message)
    if wrapped is None:
        return message
    return ast.literal_eval(wrapped.group(1)).decode("utf-8", "replace")
