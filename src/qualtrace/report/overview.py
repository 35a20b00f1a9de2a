"""Overview: the corpus (documents, segments, quotations) and interviews by speaker group, with
the value of the codebook's voice facet each group is coded with."""
from __future__ import annotations

import re
from collections import Counter, defaultdict

from .. import layout
from . import items
from .data import ReportData
from .limits import DOCUMENT_ROWS, GROUP_ROWS
from .markdown import md_literal, table
from .numbers import Registry

KIND_NAMES = {"key_point": "key points", "paragraph": "paragraphs", "quote": "quotations",
              "list_item": "list items"}
QUOTES_UNDER_CORPUS = "Excerpts are under [quotations](#ev-corpus-quotations)."
_INTERVIEW_NUMBER = re.compile(r"\s*\binterview\s*\d+\s*$", re.IGNORECASE)


def corpus_numbers(reg: Registry, data: ReportData) -> dict[str, str]:
    """Links for the corpus totals (also used by the key findings)."""
    content = data.countable()
    heads = _document_heads(data)
    quotes = [s for s in content if s["kind"] == "quote"]
    interviews = {s["interview_id"] for s in quotes if s["interview_id"]}
    return {
        "documents": items.segments(
            reg, data, "corpus-documents", "Documents in the corpus",
            "documents: all rows (passages: each document's chapter heading or first segment)",
            heads.values(), value=len(data.documents)),
        "segments": items.segments(
            reg, data, "corpus-segments", "Content segments (not boilerplate)",
            "segments: boilerplate=false and kind in the codebook's code_kinds",
            [s["segment_id"] for s in content]),
        "coded": items.segments(
            reg, data, "corpus-coded-segments", "Segments coded with at least one theme",
            "codings: distinct segment_id",
            [s["segment_id"] for s in content if data.themes_of.get(s["segment_id"])],
            compact=True, notes=[items.EXCERPTS_UNDER_CORPUS]),
        "key_points": items.segments(
            reg, data, "corpus-key-points", "Key points", "segments: kind=key_point",
            [s["segment_id"] for s in content if s["kind"] == "key_point"]),
        "quotations": items.segments(
            reg, data, "corpus-quotations", "Quotations", "segments: kind=quote",
            [s["segment_id"] for s in quotes]),
        "interviews": items.segments(
            reg, data, "corpus-interviews", "Interviews quoted",
            "segments: distinct interview_id of quotations (passages: the quotations)",
            [s["segment_id"] for s in quotes if s["interview_id"]], value=len(interviews),
            compact=True, notes=[QUOTES_UNDER_CORPUS]),
    }


def section(reg: Registry, data: ReportData, renderer: str) -> str:
    reg.section = "Overview"
    n = corpus_numbers(reg, data)
    kinds = ", ".join(KIND_NAMES.get(k, k.replace("_", " ")) for k in sorted(
        data.codebook.code_kinds))
    parts = [
        "## Overview {#overview}",
        f"The corpus holds {n['documents']} documents with {n['segments']} content segments "
        f"({kinds}), including {n['key_points']} key points and {n['quotations']} quotations "
        f"from {n['interviews']} interviews; {n['coded']} segments were coded with at least one "
        "theme. Headings, the report's repeated preamble and page furniture are kept in the "
        "evidence base but never coded or counted.",
        "**Every number is a link.** It opens the list of source "
        "passages behind it in the [evidence appendix](#evidence) (document, line, segment id "
        "and an excerpt, with the words that triggered a theme highlighted). The same list is "
        f"returned by `qualtrace trace <item id>` from `{layout.table('report_numbers')}`, "
        "and each segment id resolves to exact character offsets of the source file "
        "(hashes in the [provenance appendix](#provenance)). "
        + _coded_by_rules(data),
        f"*{md_literal(renderer)}*",
        _documents_table(reg, data),
        _groups_table(reg, data),
    ]
    return "\n\n".join(parts)


def _documents_table(reg: Registry, data: ReportData) -> str:
    rows = []
    for doc in data.documents[:DOCUMENT_ROWS]:
        d = doc["doc_id"]
        mine = data.countable_by_doc.get(d, [])
        key = items.part(d)
        compact = {"compact": True, "notes": [items.EXCERPTS_UNDER_CORPUS]}
        chosen = {
            "segments": ("segments", "not boilerplate", [s["segment_id"] for s in mine]),
            "key-points": ("key points", "kind=key_point",
                           [s["segment_id"] for s in mine if s["kind"] == "key_point"]),
            "quotations": ("quotations", "kind=quote",
                           [s["segment_id"] for s in mine if s["kind"] == "quote"]),
            "coded": ("segments coded with a theme", "with a coding",
                      [s["segment_id"] for s in mine if data.themes_of.get(s["segment_id"])]),
        }
        cells = [items.segments(reg, data, f"doc-{key}-{name}", f"{data.chapter(d)}: {what}",
                                f"segments: doc_id={d}, {where}", found, **compact)
                 for name, (what, where, found) in chosen.items()]
        rows.append([md_literal(data.chapter(d)), md_literal(doc["path"]), *cells])
    caption = "Documents in the corpus"
    more = len(data.documents) - len(rows)
    if more > 0:
        caption += (f": the first {len(rows)} of {len(data.documents)}, in the order of "
                    f"documents.csv; the other {more} are in `{layout.table('documents')}`, "
                    "and their segments are counted in the totals above")
    return table(["Document", "File", "Segments", "Key points", "Quotations", "Coded"], rows,
                 "llrrrr", caption=caption, widths=[8, 8, 2, 2, 2, 2],
                 identifier="tbl-documents")


def _groups_table(reg: Registry, data: ReportData) -> str:
    quotes = [s for s in data.countable() if s["kind"] == "quote" and s["speaker_group"]]
    by_group: dict[str, list[dict]] = defaultdict(list)
    for s in quotes:
        by_group[s["speaker_group"]].append(s)
    if not by_group:
        return "No quotation in the corpus carries an attribution."
    voice = data.codebook.voice_facet()
    value_of = _value_of_group(voice)
    rows = []
    ordered = sorted(by_group, key=lambda g: (-len(by_group[g]), g))
    for group in ordered[:GROUP_ROWS]:
        segs = by_group[group]
        key = items.part(group)
        name = _group_name(segs)
        interviews = {s["interview_id"] for s in segs if s["interview_id"]}
        rows.append([
            md_literal(name),
            *([md_literal(value_of.get(group, "not mapped"))] if voice else []),
            items.segments(reg, data, f"group-{key}-interviews", f"{name}: interviews quoted",
                           f"segments: kind=quote, speaker_group={group} (distinct interview_id)",
                           [s["segment_id"] for s in segs if s["interview_id"]],
                           value=len(interviews), compact=True, notes=[QUOTES_UNDER_CORPUS]),
            items.segments(reg, data, f"group-{key}-quotations", f"{name}: quotations",
                           f"segments: kind=quote, speaker_group={group}",
                           [s["segment_id"] for s in segs], compact=True,
                           notes=[QUOTES_UNDER_CORPUS]),
        ])
    caption = "Interviews by " + (md_literal(voice.label.lower()) if voice else "speaker group")
    more = len(ordered) - len(rows)
    if more > 0:
        caption += (f": the {len(rows)} groups quoted most often, of {len(ordered)}; every "
                    f"quotation's group is in `{layout.table('segments')}` (columns "
                    "`speaker_group`, `speaker_group_raw`)")
    head = ["Interview group (as printed)", *([md_literal(voice.label)] if voice else []),
            "Interviews", "Quotations"]
    return table(head, rows, "l" * (len(head) - 2) + "rr", caption=caption,
                 widths=[8, *([6] if voice else []), 2, 2], identifier="tbl-interview-groups")


def _coded_by_rules(data: ReportData) -> str:
    labels = ", ".join(md_literal(f.label.lower()) for f in data.codebook.facets)
    return ("Themes" + (f" and facets ({labels})" if labels else "")
            + " were coded by the rules of the codebook, not by hand.")


def _group_name(segs) -> str:
    """The group as the report prints it: the commonest attribution without 'interview N'."""
    names = Counter(_INTERVIEW_NUMBER.sub("", s["speaker_group_raw"]) for s in segs)
    return sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] or segs[0]["speaker_group"]


def _value_of_group(voice) -> dict[str, str]:
    """Speaker group -> the label of the voice facet's value its quotations are coded with."""
    out = {}
    for value in voice.values if voice else []:
        for group in value.speaker_groups:
            out.setdefault(group, value.label)
    return out


def _document_heads(data: ReportData) -> dict[str, str]:
    heads: dict[str, str] = {}
    for kind in ("chapter_heading", "title", None):
        for s in data.segments:
            if s["doc_id"] not in heads and (kind is None or s["kind"] == kind):
                heads[s["doc_id"]] = s["segment_id"]
    return heads
