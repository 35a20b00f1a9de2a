"""Read a REFI-QDA project (`.qdpx`) back: sources, codes and codings with their text; and turn
a coder's codings into gold units (SPEC "Gold annotations") the pipeline can be scored against.

The reader is lenient about what other tools write: namespaced or not, `sources/` in any case,
text inline (PlainTextContent) or in the archive, codings on a selection or on a whole source.
It is strict about what could hurt: an archive over the size limits (a zip bomb), a DOCTYPE,
an encrypted or damaged member, a code or selection without what identifies it are refused
with one line naming the file and the member (QdpxError); a selection outside its source's
text is skipped with a warning naming it.
"""
from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import re
import zipfile
import zlib
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..coding.codebook import DEFAULT_CODE_KINDS, load_codebook
from .codebook_formats import guid
from ..common.io import InputError, atomic_write_text, read_raw
from ..common.tables import read_table, records
from .xmlguard import UnsafeXmlError, check as check_prolog

MIN_ANCHOR = 40  # SPEC: anchors are 40+ characters
_LEAD = re.compile(r"[\s\ufeff\-\u2013\u2014\u2022*\u00b7]*")

# Archive limits (a zip bomb is refused from the ZIP directory, before anything is inflated).
# On the seeds our project.qde is 6.5 times the text and deflates 6-fold (text 3-fold), so an
# export of 1,000 documents (22 MB of text) is about 150 MB in 1,001 members.
MAX_MEMBERS = 100_000
MAX_MEMBER_BYTES = 256 << 20
MAX_TOTAL_BYTES = 1 << 30
MAX_RATIO = 100           # inflated / compressed, for members over RATIO_FROM bytes
RATIO_FROM = 1 << 20
_METHODS = {0: "stored", 8: "deflate", 9: "Deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard",
            95: "XZ", 97: "WavPack", 98: "PPMd", 99: "AES encryption"}


class QdpxError(InputError):
    """A project that cannot be read; the message is `FILE: MEMBER: what is wrong`."""


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


@contextlib.contextmanager
def open_archive(path):
    """The `.qdpx` as a ZipFile, once its directory is within the limits (member count, each
    member's and the total inflated size, the inflation ratio)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as err:
        raise QdpxError(f"{path}: not a ZIP archive, which a .qdpx is ({err})") from None
    except OSError as err:
        raise QdpxError(f"{path}: cannot be read: {err.strerror or err}") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise QdpxError(f"{path}: has {len(infos)} members; the limit is {MAX_MEMBERS}")
        total = 0
        for info in infos:
            size = info.file_size
            if size > MAX_MEMBER_BYTES:
                raise QdpxError(f"{path}: {info.filename}: inflates to {size} bytes; the limit "
                                f"is {MAX_MEMBER_BYTES} per member")
            packed = max(info.compress_size, 1)
            if size > RATIO_FROM and size > MAX_RATIO * packed:
                raise QdpxError(f"{path}: {info.filename}: inflates {size // packed}-fold "
                                f"({info.compress_size} to {size} bytes); over {MAX_RATIO}-fold "
                                "is refused as a zip bomb")
            total += size
        if total > MAX_TOTAL_BYTES:
            raise QdpxError(f"{path}: inflates to {total} bytes in all; the limit is "
                            f"{MAX_TOTAL_BYTES}")
        yield archive


@contextlib.contextmanager
def open_member(archive, name: str, path):
    """A member's stream; encrypted, unsupported or damaged members raise QdpxError."""
    info = archive.getinfo(name)
    where = f"{path}: {name}"
    if info.flag_bits & 0x1:
        raise QdpxError(f"{where}: is encrypted; export the project again without a password")
    try:
        handle = archive.open(info)
    except NotImplementedError:
        method = _METHODS.get(info.compress_type, f"method {info.compress_type}")
        raise QdpxError(f"{where}: is compressed with {method}, which cannot be read here; "
                        "export the project again with deflate (the usual ZIP)") from None
    except (zipfile.BadZipFile, RuntimeError) as err:  # a bad header, another encryption
        raise QdpxError(f"{where}: damaged member: {err}") from None
    with handle:
        try:
            yield handle
        except (zipfile.BadZipFile, zlib.error, EOFError) as err:  # found while inflating
            raise QdpxError(f"{where}: damaged member: {err}") from None


def read_member(archive, name: str, path) -> bytes:
    with open_member(archive, name, path) as handle:
        data = handle.read(MAX_MEMBER_BYTES + 1)  # the directory was checked; zipfile stops there
    if len(data) > MAX_MEMBER_BYTES:
        raise QdpxError(f"{path}: {name}: inflates past the limit of {MAX_MEMBER_BYTES} bytes")
    return data


def project_member(archive, path) -> str:
    """The name of the archive's project.qde (in any case, as some tools write it)."""
    for name in archive.namelist():
        if name.lower() == "project.qde":
            return name
    raise QdpxError(f"{path}: project.qde: not in the archive (a .qdpx has one)")


def read_qdpx(path) -> Project:
    """Sources (name, text), codes (with their tree path) and every coding with its text."""
    with open_archive(path) as archive:
        members = {n.lower(): n for n in archive.namelist()}
        name = project_member(archive, path)
        where = f"{path}: {name}"
        data = read_member(archive, name, path)
        try:
            root = ET.fromstring(check_prolog(data))
        except UnsafeXmlError as err:
            raise QdpxError(f"{where}: {err}") from None
        except ET.ParseError as err:
            raise QdpxError(f"{where}: not well-formed XML: {err}") from None
        project = Project(root.get("name", ""))
        for codebook in _children(root, "CodeBook"):
            for codes in _children(codebook, "Codes"):
                for code in _children(codes, "Code"):
                    _read_code(code, (), None, project.codes, where)
        for sources in _children(root, "Sources"):
            for source in _children(sources, "TextSource"):
                _read_source(source, archive, members, project, path, where)
    for cases in _children(root, "Cases"):
        for case in _children(cases, "Case"):
            project.cases.append({"guid": case.get("guid"), "name": case.get("name", ""),
                                  "selections": [r.get("targetGUID") for r in
                                                 _children(case, "SelectionRef")]})
    # A code sharing a case's GUID carries the case's text (QualCoder, NVivo): not a coding.
    case_keys = {_key(case["guid"]) for case in project.cases}
    project.codings = [c for c in project.codings if _key(c.code_guid) not in case_keys]
    return project


def _key(guid_: str | None) -> str:
    return (guid_ or "").strip("{}").lower()


def _read_code(element, parents: tuple, parent_guid, codes: dict, where: str) -> None:
    """The code and the codes nested in it (iteratively: a tree nested thousands deep must not
    exhaust Python's stack)."""
    pending = [(element, parents, parent_guid)]
    while pending:
        element, parents, parent_guid = pending.pop()
        name = element.get("name", "")
        if not (element.get("guid") or "").strip():
            inside = f" (inside {' / '.join(parents)!r})" if parents else ""
            raise QdpxError(f"{where}: Code {name!r}{inside} has no guid")
        code = Code(element.get("guid"), name, _child_text(element, "Description"),
                    parents + (name,), parent_guid)
        codes[_key(code.guid)] = code
        pending.extend((child, code.path, code.guid)
                       for child in reversed(_children(element, "Code")))


def _position(selection, attribute: str, source_name: str, where: str) -> int:
    value = selection.get(attribute)
    what = (f"PlainTextSelection {selection.get('name', '')!r} ({selection.get('guid')}) in "
            f"source {source_name!r}")
    if value is None:
        raise QdpxError(f"{where}: {what} has no {attribute}")
    try:
        return int(value)
    except ValueError:
        raise QdpxError(f"{where}: {what} has {attribute}={value!r}, not an integer") from None


def _read_source(source, archive, members, project: Project, path, where: str) -> None:
    name, source_guid = source.get("name", ""), source.get("guid")
    if not (source_guid or "").strip():
        raise QdpxError(f"{where}: TextSource {name!r} has no guid")
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
            data = read_member(archive, member, path)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as err:
                raise QdpxError(f"{path}: {member}: not valid UTF-8 at byte offset {err.start} "
                                f"({err.reason}); REFI-QDA sources are UTF-8") from None
    else:
        project.warnings.append(f"{path}: source {name!r} has no internal plain text "
                                f"({target or source.get('richTextPath') or 'no path'}); skipped")
    project.sources.append(Source(source_guid, name, text))

    def coding_refs(element):
        return [ref.get("targetGUID") for c in _children(element, "Coding")
                for ref in _children(c, "CodeRef")]

    spans = []
    for sel in _children(source, "PlainTextSelection"):
        start = _position(sel, "startPosition", name, where)
        end = _position(sel, "endPosition", name, where)
        if text is not None and not 0 <= start <= end <= len(text):
            project.warnings.append(
                f"{path}: selection {sel.get('name', '')!r} ({sel.get('guid')}) in source "
                f"{name!r} at [{start}:{end}] lies outside its text (its text has {len(text)} "
                "characters, and a selection must have 0 <= start <= end <= that); skipped")
            continue
        spans.append((sel, start, end))
    if text is not None:
        spans += [(source, 0, len(text))]  # codings on the whole source
    for element, start, end in spans:
        for target_guid in coding_refs(element):
            code = project.codes.get(_key(target_guid))
            if code is None:
                project.warnings.append(f"{path}: a coding in {name!r} refers to unknown code "
                                        f"{target_guid}")
                continue
            is_selection = element is not source
            project.codings.append(Coding(
                source_guid, name, code.guid, code.name, start, end,
                text[start:end] if text is not None else None,
                element.get("guid") if is_selection else None,
                element.get("name", "") if is_selection else "",
                _child_text(element, "Description") if is_selection else ""))


# ------------------------------------------------------------------------------ gold import
def _norm(name: str) -> str:
    return " ".join(name.replace("\u2019", "'").split()).casefold()


class Labels:
    """Maps a code of the project to (gold key, label id): by our GUIDs, then by id or label,
    with a facet parent (or a `facet/value`, `facet: value` name) choosing the facet."""

    def __init__(self, codebook):
        self.by_guid, self.themes, self.facets = {}, {}, {}
        self.values: dict[str, dict[str, str]] = {}
        # facet id -> its gold key (the facet's plural), and back ("themes" -> None)
        self.key_of = {f.id: f.plural for f in codebook.facets}
        self.facet_of_key = {"themes": None, **{f.plural: f.id for f in codebook.facets}}
        for t in codebook.themes:
            self.by_guid[guid(f"code:{t.id}")] = ("themes", t.id)
            self.themes.update({_norm(t.id): t.id, _norm(t.label): t.id})
        for f in codebook.facets:
            key = self.key_of[f.id]
            self.facets.update({_norm(f.id): f.id, _norm(f.label): f.id})
            self.values[f.id] = {}
            for v in f.values:
                self.values[f.id].update({_norm(v.id): v.id, _norm(v.label): v.id})
                self.by_guid[guid(f"code:{f.id}/{v.id}")] = (key, v.id)

    def resolve(self, code: Code, codes: dict) -> tuple[str, str] | None:
        """A code's label; a code the codebook does not know, nested under a theme, counts as
        that theme (a coder's refinement of it)."""
        found = self._resolve(code, codes)
        parent = codes.get(_key(code.parent))
        while found is None and parent is not None:
            above = self._resolve(parent, codes)
            found = above if above and above[0] == "themes" else None
            parent = codes.get(_key(parent.parent))
        return found

    def _resolve(self, code: Code, codes: dict) -> tuple[str, str] | None:
        if _key(code.guid) in self.by_guid:
            return self.by_guid[_key(code.guid)]
        parent = codes.get(_key(code.parent))
        facet = self.facets.get(_norm(parent.name)) if parent else None
        name, pieces = _norm(code.name), re.split(r"\s*[/:]\s*", _norm(code.name), maxsplit=1)
        if facet is None and len(pieces) == 2 and pieces[0] in self.facets:
            facet, name = self.facets[pieces[0]], pieces[1]
        if facet is not None:
            value = self.values[facet].get(name)
            return (self.key_of[facet], value) if value else None
        if name in self.themes:
            return ("themes", self.themes[name])
        hits = [(self.key_of[f], vals[name]) for f, vals in self.values.items() if name in vals]
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


@dataclass
class PlacedCoding:
    """A coding of a `.qdpx`, placed in the corpus: its raw file, the codebook label its code
    maps to, its span in raw-file positions, and the segments it codes."""
    code_name: str
    description: str
    file: str
    label: tuple[str, str]
    start: int
    end: int
    segments: list


def place_codings(project: Project, raws: dict[str, str], segs_of: dict, doc_of: dict,
                  labels: Labels, skipped: list[str]) -> tuple[list[PlacedCoding], set[str]]:
    """Every coding of `project` placed in the corpus, the one way both `import-gold` and
    `import-review` read a project. raws: file name -> raw text; segs_of: doc id -> its
    segments sorted by start; doc_of: file name -> doc id. A source is matched to a file by
    name, else by content (exactly, or up to BOM and line ends); a source that matches none,
    or whose text differs, and a code that maps to no label, are reported in `skipped`.
    Returns the placed codings and the files some source was matched to."""
    by_hash = {hashlib.sha256(t.encode("utf-8")).hexdigest(): n for n, t in raws.items()}
    by_norm = {normalise_text(t): n for n, t in raws.items()}
    placed, sources, files = [], {}, set()
    for src in project.sources:
        file = src.name if src.name in raws else None
        if file is None and src.text is not None:
            file = (by_hash.get(hashlib.sha256(src.text.encode("utf-8")).hexdigest())
                    or by_norm.get(normalise_text(src.text)))
        if file is None:
            skipped.append(f"source {src.name!r} matches no document of the corpus (config "
                           "corpus.patterns)")
            continue
        omap = offset_map(src.text, raws[file])
        if omap is None:
            skipped.append(f"source {src.name!r}: its text differs from {file} (edited in the "
                           "tool?), so its positions cannot be mapped; its codings are skipped")
            continue
        sources[src.guid] = (file, omap)
        files.add(file)
    for coding in project.codings:
        if coding.source_guid not in sources:
            continue
        mapped = labels.resolve(project.codes[_key(coding.code_guid)], project.codes)
        if mapped is None:
            skipped.append(f"code {coding.code_name!r} maps to no theme or facet value of the "
                           "codebook; its codings are ignored")
            continue
        file, omap = sources[coding.source_guid]
        start, end = omap(coding.start), omap(coding.end)
        placed.append(PlacedCoding(coding.code_name, coding.description, file, mapped, start,
                                   end, segments_covered(segs_of[doc_of[file]], start, end)))
    return placed, files


def qdpx_to_gold(path, documents, out_jsonl, *, codebook, segments_csv,
                 all_units: bool = False) -> dict:
    """Write the codings of a `.qdpx` as SPEC gold lines, one per unit (segment), and return a
    summary {units, codings, skipped: [messages]}.

    documents: the corpus, doc_id -> raw file path, as the workflow finds it
    (`qualtrace.corpus.discovery.discover` over config corpus.patterns), so the import reads exactly the
    files the build read. codebook: a loaded codebook (or its path); segments_csv: segments.csv
    of the same raw files. Sources are matched to documents by file name, else by content. A
    coding counts for every segment it covers; a segment it covers only partly counts when the
    coding lies inside it or covers at least half of it. all_units: also write units that got
    no code (the coder reviewed the whole document, so "no label" is an answer).
    """
    if isinstance(codebook, (str, Path)):
        codebook = load_codebook(codebook, terms=False)
    project = read_qdpx(path)
    skipped = list(project.warnings)
    doc_of = {Path(p).name: doc_id for doc_id, p in sorted(documents.items())}
    raws = {Path(p).name: read_raw(p) for _, p in sorted(documents.items())}
    segs_of = segments_by_document(records(read_table(segments_csv, "segments")))
    labels = Labels(codebook)
    units: dict[tuple[str, str], dict] = {}
    placed, files = place_codings(project, raws, segs_of, doc_of, labels, skipped)
    for coding in placed:
        if not coding.segments:
            skipped.append(f"{coding.file}: coding of {coding.code_name!r} at "
                           f"[{coding.start}:{coding.end}] covers only boilerplate (never "
                           "coded) or no segment; ignored")
        for seg in coding.segments:
            unit = units.setdefault((coding.file, seg["segment_id"]),
                                    {"seg": seg, "labels": set()})
            unit["labels"].add(coding.label)
    if all_units:
        kinds = getattr(codebook, "code_kinds", DEFAULT_CODE_KINDS)
        for file in sorted(files):
            for seg in segs_of[doc_of[file]]:
                if not seg["boilerplate"] and seg["kind"] in kinds:
                    units.setdefault((file, seg["segment_id"]), {"seg": seg, "labels": set()})
    lines = _gold_lines(units, raws, codebook, skipped)
    atomic_write_text(out_jsonl, "".join(json.dumps(line, ensure_ascii=False) + "\n"
                                         for line in lines))
    return {"units": len(lines), "codings": len(placed), "skipped": list(dict.fromkeys(skipped))}


def _gold_lines(units, raws, codebook, skipped) -> list[dict]:
    order = {("themes", t.id): i for i, t in enumerate(codebook.themes)}
    for f in codebook.facets:
        order.update({(f.plural, v.id): i for i, v in enumerate(f.values)})
    lines = []
    for (file, seg_id), unit in sorted(units.items(),
                                       key=lambda kv: (kv[0][0], kv[1]["seg"]["start"])):
        seg = unit["seg"]
        anchor = anchor_for(raws[file], seg["start"], seg["end"])
        if anchor is None:
            why = (f"is shorter than the {MIN_ANCHOR} characters an anchor needs"
                   if len(seg["text"].strip()) < MIN_ANCHOR else
                   "has no anchor that finds it (its text occurs earlier in the file)")
            skipped.append(f"{file}: unit {seg_id} ({seg['text'][:40]!r}) {why}; not written")
            continue
        line = {"doc": file, "anchor": anchor, "themes": [],
                **{f.plural: [] for f in codebook.facets}}
        for key, value in sorted(unit["labels"], key=lambda kv: order[kv]):
            line[key].append(value)
        lines.append(line)
    return lines


def segments_by_document(segments: list[dict]) -> dict[str, list[dict]]:
    """The segments table's rows as doc_id -> that document's segments, sorted by start."""
    segs_of = defaultdict(list)
    for seg in segments:
        segs_of[seg["doc_id"]].append(seg)
    for segs in segs_of.values():
        segs.sort(key=lambda s: s["start"])
    return segs_of


def segments_covered(segments, start: int, end: int) -> list[dict]:
    """Non-boilerplate segments a selection codes: those it lies in or covers half of.
    `segments` are one document's, sorted by start (they do not overlap)."""
    found = []
    first = max(bisect.bisect_right(segments, start, key=lambda s: s["start"]) - 1, 0)
    for seg in segments[first:]:
        s, e = seg["start"], seg["end"]
        if s >= end:
            break
        overlap = min(e, end) - max(s, start)
        if not seg["boilerplate"] and overlap > 0 and (
                (s <= start and end <= e) or 2 * overlap >= e - s):
            found.append(seg)
    return found


def normalise_text(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


_CHARACTER = re.compile(r"\r\n|[\s\S]")  # a line end counts as one character, like \n


def offset_map(text: str | None, raw: str):
    """Function from a position in the tool's text to a position in the raw file: identity when
    the texts are equal; through the BOM/line-end normalisation when only that differs. A
    position inside a CRLF goes to the nearest position of the other text (the earlier on a
    tie). Linear: one pass over each text, then a binary search per position."""
    if text is None:
        return None
    if text == raw:
        return lambda pos: pos
    if normalise_text(text) != normalise_text(raw):
        return None

    def positions(t):
        begin = 1 if t.startswith("\ufeff") else 0
        return [m.start() for m in _CHARACTER.finditer(t, begin)] + [len(t)]
    mine, theirs = positions(raw), positions(text)

    def to_raw(pos: int) -> int:
        k = bisect.bisect_left(theirs, pos)
        if k == len(theirs):
            return mine[-1]
        if theirs[k] != pos and k > 0 and pos - theirs[k - 1] <= theirs[k] - pos:
            k -= 1
        return mine[k]
    return to_raw
