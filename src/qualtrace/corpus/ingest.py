"""Parse one report chapter into typed segments with exact spans.

Recognition is by shape and position, never by a list of known sentences: the first block is the
title, a numbered short line is the chapter heading, what lies between them is preamble, short
unpunctuated lines are headings, bullets under a key-point heading are key points, blocks opening
with a quotation mark are quotations. Vocabulary that varies between publishers (furniture lines,
key-point headings, speaker groups) comes from config.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from .attribution import SpeakerGroup, is_quotation, parse_attribution
from .blocks import Block, split_blocks


LIST_MARKER = re.compile(r"^(?:[-–—•*·▪◦‣●○]|\d{1,2}[.)]|[a-z][.)])\s+")
MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")
CHAPTER_HEADING = re.compile(
    r"^(?:#{1,6}\s+)?(?:chapter\s+)?(?P<number>\d{1,3})(?:\.(?!\d))?[:.]?\s+(?P<title>\S.*)$",
    re.IGNORECASE)
TERMINAL_PUNCTUATION = tuple(".!?;:,")


@dataclass
class IngestRules:
    key_point_headings: list[re.Pattern]
    furniture: list[re.Pattern]
    speaker_groups: list[SpeakerGroup]
    heading_max_words: int = 14
    heading_max_chars: int = 120
    chapter_heading_within: int = 8

    @classmethod
    def from_config(cls, ingest: Mapping) -> "IngestRules":
        def compile_all(patterns):
            return [re.compile(p, re.IGNORECASE) for p in patterns]
        return cls(
            key_point_headings=compile_all(ingest.get("key_point_headings", [])),
            furniture=compile_all(ingest.get("furniture", [])),
            speaker_groups=[SpeakerGroup(g["id"], re.compile(g["pattern"], re.IGNORECASE))
                            for g in ingest.get("speaker_groups", [])],
            heading_max_words=ingest.get("heading_max_words", 14),
            heading_max_chars=ingest.get("heading_max_chars", 120),
            chapter_heading_within=ingest.get("chapter_heading_within", 8),
        )


@dataclass
class ParsedDocument:
    doc_id: str
    title: str = ""
    chapter_number: str = ""
    chapter_title: str = ""
    segments: list[dict] = field(default_factory=list)


def _clean(text: str) -> str:
    return text.lstrip("\ufeff").strip()


def _fullmatch_any(patterns: list[re.Pattern], text: str) -> bool:
    return any(p.fullmatch(text) for p in patterns)


def is_list_item(text: str) -> bool:
    return bool(LIST_MARKER.match(text))


def is_short_line(text: str, rules: IngestRules) -> bool:
    """Short, unpunctuated, capitalised: the shape of a heading (or a numbered list item)."""
    if not text or "\n" in text or len(text) > rules.heading_max_chars:
        return False
    if len(text.split()) > rules.heading_max_words or text.endswith(TERMINAL_PUNCTUATION):
        return False
    return text[0].isupper() or text[0].isdigit()


def looks_like_heading(text: str, rules: IngestRules) -> bool:
    if MARKDOWN_HEADING.match(text):
        return True
    return is_short_line(text, rules) and not is_list_item(text)


def chapter_heading(text: str, rules: IngestRules) -> re.Match | None:
    if not (MARKDOWN_HEADING.match(text) or is_short_line(text, rules)):
        return None
    return CHAPTER_HEADING.match(text)


def _kinds(blocks: list[Block], rules: IngestRules) -> tuple[list[str], int | None]:
    """Assign a kind to every block; return the kinds and the chapter heading's index."""
    texts = [_clean(b.text) for b in blocks]
    # Only near the top: a short numbered list item further down is not a chapter heading.
    window = texts[:rules.chapter_heading_within]
    chapter_at = next((i for i, t in enumerate(window) if chapter_heading(t, rules)), None)
    kinds: list[str] = []
    in_key_points = False
    for index, text in enumerate(texts):
        if not text or _fullmatch_any(rules.furniture, text):  # "" is a lone BOM
            kind = "furniture"
        elif index == 0 and index != chapter_at and looks_like_heading(text, rules):
            kind = "title"
        elif chapter_at is not None and index < chapter_at:
            kind = "preamble"
        elif index == chapter_at:
            kind = "chapter_heading"
        elif is_list_item(text):
            kind = "key_point" if in_key_points else "list_item"
        elif is_quotation(text):
            kind = "quote"
        elif looks_like_heading(text, rules):
            kind = "heading"
        else:
            kind = "paragraph"
        if kind == "heading":
            in_key_points = _fullmatch_any(rules.key_point_headings,
                                           MARKDOWN_HEADING.sub("", text))
        elif kind != "key_point":
            in_key_points = False
        kinds.append(kind)
    return kinds, chapter_at


def parse_document(text: str, doc_id: str, rules: IngestRules) -> ParsedDocument:
    blocks = split_blocks(text, lambda t: is_list_item(t.strip()))
    kinds, chapter_at = _kinds(blocks, rules)
    parsed = ParsedDocument(doc_id)
    section = ""
    for number, (block, kind) in enumerate(zip(blocks, kinds), start=1):
        clean = _clean(block.text)
        if kind == "title":
            parsed.title = clean
        elif kind == "chapter_heading":
            match = chapter_heading(clean, rules)
            parsed.chapter_number = match.group("number")
            parsed.chapter_title = match.group("title").strip()
            section = parsed.chapter_title
        elif kind == "heading":
            section = MARKDOWN_HEADING.sub("", clean)
        parsed.segments.append(_segment(doc_id, number, block, kind, section, rules))
    return parsed


def _segment(doc_id: str, number: int, block: Block, kind: str, section: str,
             rules: IngestRules) -> dict:
    row = {
        "segment_id": f"{doc_id}-{number:04d}", "doc_id": doc_id, "kind": kind,
        "section": section if kind not in ("title", "preamble") else "",
        "start": block.start, "end": block.end, "line": block.line, "text": block.text,
        "boilerplate": kind in ("preamble", "furniture"),
        "speaker_group_raw": "", "speaker_group": "", "interview_id": "",
        "attribution_start": "", "speaker_group_known": "",
    }
    if kind == "quote":
        attribution = parse_attribution(block.text, rules.speaker_groups)
        if attribution:
            row.update(speaker_group_raw=attribution.raw, speaker_group=attribution.group,
                       interview_id=attribution.interview_id,
                       attribution_start=block.start + attribution.start,
                       speaker_group_known=attribution.known)
    return row


def ingest_file(path: str, doc_id: str, rules: IngestRules) -> dict:
    """Read, decode and parse one raw file: its documents.csv row and its segments."""
    from .discovery import same_text_key
    from ..common.io import decode_raw, read_raw_bytes, sha256_bytes

    data = read_raw_bytes(path)
    text = decode_raw(data, path)
    parsed = parse_document(text, doc_id, rules)
    document = {
        "doc_id": doc_id, "path": path, "sha256": sha256_bytes(data), "n_chars": len(text),
        "title": parsed.title, "chapter_number": parsed.chapter_number,
        "chapter_title": parsed.chapter_title, "source_name": path.rsplit("/", 1)[-1],
        "content_key": sha256_bytes(same_text_key(text.encode("utf-8"))),
    }
    return {"document": document, "segments": parsed.segments}
