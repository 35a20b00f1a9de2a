"""Checks on what the text says: attributions, cross-references, key points, codebook use."""
from __future__ import annotations

import re
from collections import defaultdict

from ..corpus.attribution import CLOSING_QUOTES, SOURCE
from .base import CheckResult, Finding, Tables

# "see chapter 3", "chapters 4 and 5", "Chapter 2" ...; page references cannot be resolved in a
# plain-text corpus and are listed as such.
CHAPTER_REF = re.compile(
    r"\bchapters?\s+(\d{1,3}(?:\s*(?:,|and|&|or|to|-|–)\s*\d{1,3})*)\b", re.IGNORECASE)
PAGE_REF = re.compile(r"\b(?:see|on|at|and|or|also)\s+(?:pp?\.?\s?|pages?\s+)(\d{1,4})\b",
                      re.IGNORECASE)
NUMBER = re.compile(r"\d{1,3}")
# Necessary conditions, cheap on the lower-cased text: the searches above start with \b, so
# they are tried at every position of every segment; run them only where a match can be. Exact:
# every character re.IGNORECASE matches to c, h, a, p, t, e, r or g lower-cases to that letter
# ("s" is left out: "ſ" matches it), and lower() leaves digits, spaces and "." alone.
CHAPTER_HINT = "chapter"
PAGE_HINT = re.compile(r"p(?:p?\.?\s?\d|age)")
BODY_KINDS = {"paragraph", "quote", "list_item"}
REFERENCE_KINDS = BODY_KINDS | {"key_point"}


def _group_spelling(raw: str) -> str:
    source = SOURCE.match(raw)
    return (source.group("group") if source and source.group("group") else raw).strip()


def attribution_labels(tables: Tables) -> CheckResult:
    """Variant spellings of one speaker group, unknown groups, and interview id consistency."""
    spellings: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    groups_of_id: dict[str, set[str]] = defaultdict(set)
    items: list[Finding] = []
    for seg in tables.segments:
        if not seg["speaker_group_raw"]:
            continue
        spellings[seg["speaker_group"]][_group_spelling(seg["speaker_group_raw"])].append(seg)
        if seg["interview_id"]:
            groups_of_id[seg["interview_id"]].add(seg["speaker_group"])
        if seg.get("speaker_group_known") is False:
            items.append(Finding(f"unknown group: {seg['speaker_group_raw']}", seg["doc_id"],
                                 seg["segment_id"], seg["start"], seg["end"],
                                 f"no configured speaker group matches; filed as new group "
                                 f"'{seg['speaker_group']}' (add it to ingest.speaker_groups)"))
    n_variants = 0
    for group, variants in sorted(spellings.items()):
        if len(variants) < 2:
            continue
        n_variants += 1
        for spelling, segs in sorted(variants.items()):
            where = ", ".join(f"{s['segment_id']} (line {s['line']})" for s in segs)
            items.append(Finding(f"{group}: \"{spelling}\"", segs[0]["doc_id"],
                                 segs[0]["segment_id"], segs[0]["start"], segs[0]["end"],
                                 f"{len(variants)} spellings of one group; this one at {where}"))
    for interview, groups in sorted(groups_of_id.items()):
        if len(groups) > 1:
            items.append(Finding(interview, detail=f"one interview id, groups {sorted(groups)}"))
    n_interviews = len(groups_of_id)
    return CheckResult(
        "attribution_labels", not items,
        f"{n_interviews} interviews; {n_variants} speaker groups printed with more than one "
        "spelling (each mapped to one group and one id per interview)", items)


def _chapter_numbers(match: re.Match) -> list[str]:
    numbers = NUMBER.findall(match.group(1))
    if re.search(r"\d\s*(?:to|-|–)\s*\d", match.group(1)) and len(numbers) == 2:
        low, high = int(numbers[0]), int(numbers[1])
        if 0 < high - low < 50:
            return [str(n) for n in range(low, high + 1)]
    return [str(int(n)) for n in numbers]


def cross_references(tables: Tables) -> CheckResult:
    present = {str(doc["chapter_number"]) for doc in tables.documents
               if doc["chapter_number"] is not None}
    items, resolved = [], 0
    for seg in tables.segments:
        if seg["boilerplate"] or seg["kind"] not in REFERENCE_KINDS:
            continue
        base = seg["start"]
        lowered = seg["text"].lower()
        chapters = CHAPTER_REF.finditer(seg["text"]) if CHAPTER_HINT in lowered else ()
        pages = PAGE_REF.finditer(seg["text"]) if PAGE_HINT.search(lowered) else ()
        for match in chapters:
            for number in _chapter_numbers(match):
                if number in present:
                    resolved += 1
                    continue
                items.append(Finding(
                    f"chapter {number}", seg["doc_id"], seg["segment_id"],
                    base + match.start(), base + match.end(),
                    f"\"{match.group(0)}\" refers to chapter {number}, which is not in the corpus"))
        for match in pages:
            items.append(Finding(
                f"page {match.group(1)}", seg["doc_id"], seg["segment_id"],
                base + match.start(), base + match.end(),
                f"\"{match.group(0)}\" refers to a page; pages cannot be resolved in plain text"))
    missing = sorted({f.item for f in items}, key=lambda s: (s.split()[0], int(s.split()[1])))
    return CheckResult(
        "cross_references", not items,
        f"{resolved} references resolved within the corpus; unresolved: "
        f"{', '.join(missing) or 'none'}", items)


def key_point_support(tables: Tables) -> tuple[CheckResult, list[dict]]:
    """Each key point's themes must each be coded on a body segment of its chapter."""
    themes = tables.themes_by_segment()
    body_by_doc_theme: dict[tuple[str, str], list[str]] = defaultdict(list)
    for seg in tables.segments:
        if seg["kind"] in BODY_KINDS and not seg["boilerplate"]:
            for theme in sorted(themes.get(seg["segment_id"], ())):
                body_by_doc_theme[seg["doc_id"], theme].append(seg["segment_id"])
    rows, items = [], []
    for seg in tables.segments:
        if seg["kind"] != "key_point" or seg["boilerplate"]:
            continue
        own = sorted(themes.get(seg["segment_id"], ()))
        shared = [t for t in own if body_by_doc_theme.get((seg["doc_id"], t))]
        support = sorted({i for t in shared for i in body_by_doc_theme[seg["doc_id"], t]})
        supported = bool(own) and len(shared) == len(own)
        rows.append({"key_point_id": seg["segment_id"], "doc_id": seg["doc_id"],
                     "themes": " ".join(own), "supported": supported,
                     "supporting_segment_ids": " ".join(support),
                     "shared_themes": " ".join(shared)})
        if not supported:
            lacking = [t for t in own if t not in shared]
            items.append(Finding(
                seg["segment_id"], seg["doc_id"], seg["segment_id"], seg["start"], seg["end"],
                f"themes {own or 'none'}; no body segment of the chapter backs "
                f"{lacking or 'it (the key point has no coded theme)'}"))
    return CheckResult("key_point_support", not items,
                       f"{len(rows) - len(items)} of {len(rows)} key points backed by body "
                       "segments sharing each of their themes", items), rows


def codebook_health(tables: Tables) -> CheckResult:
    codebook = tables.codebook
    fired_rules = {row["rule"] for row in tables.codings + tables.facets}
    fired_labels = {("theme", r["theme"]) for r in tables.codings} | {
        (r["facet"], r["value"]) for r in tables.facets}
    items = []
    labels = [("theme", t) for t in codebook.themes] + [
        (f.id, v) for f in codebook.facets for v in f.values]
    # A facet's fallback rules (e.g. "research" when no group's view is reported) count too.
    detected = {(f.id, r.label) for f in codebook.facets for r in getattr(f, "fallback", [])}
    for family, label in labels:
        if not label.definition.strip():
            items.append(Finding(f"{family}:{label.id}", detail="has no definition"))
        if not (label.rules or label.speaker_groups or (family, label.id) in detected):
            items.append(Finding(f"{family}:{label.id}", detail="has no detection rule"))
        if (family, label.id) not in fired_labels:
            items.append(Finding(f"{family}:{label.id}", detail="never applied in this corpus"))
    unused = [r for r in codebook.rule_ids() if r not in fired_rules]
    items += [Finding(f"rule:{r}", detail="never fired in this corpus") for r in unused]
    return CheckResult("codebook_health", not items,
                       f"{len(labels)} labels, {len(codebook.rule_ids())} rules, "
                       f"{len(unused)} rules never fired", items)


def quotation_shape(tables: Tables) -> CheckResult:
    """Quotations whose closing mark or attribution is missing are kept, but listed."""
    items = []
    for seg in tables.segments:
        if seg["kind"] != "quote" or seg["boilerplate"]:
            continue
        body = seg["text"][:seg["attribution_start"] - seg["start"]] if seg[
            "attribution_start"] else seg["text"]
        problems = []
        if not body.rstrip(" .").endswith(tuple(CLOSING_QUOTES)):
            problems.append("has no closing quotation mark")
        if not seg["speaker_group_raw"]:
            problems.append("has no attribution, so no speaker group or interview")
        if problems:
            items.append(Finding(seg["segment_id"], seg["doc_id"], seg["segment_id"],
                                 seg["start"], seg["end"], "; ".join(problems)))
    n_quotes = sum(s["kind"] == "quote" for s in tables.segments)
    return CheckResult("quotation_shape", not items,
                       f"{n_quotes} quotations, {len(items)} unterminated or unattributed",
                       items)


def document_structure(tables: Tables) -> CheckResult:
    """Documents parsed without the structure a report chapter usually has."""
    kinds: dict[str, set[str]] = defaultdict(set)
    for seg in tables.segments:
        kinds[seg["doc_id"]].add(seg["kind"])
    items = []
    for doc in tables.documents:
        missing = [name for kind, name in (("chapter_heading", "chapter heading"),
                                           ("heading", "section headings"),
                                           ("key_point", "key points"))
                   if kind not in kinds[doc["doc_id"]]]
        if missing:
            items.append(Finding(doc["path"], doc["doc_id"],
                                 detail=f"no {', no '.join(missing)} recognised; every block is "
                                        "still a segment and content is coded"))
    return CheckResult("document_structure", not items,
                       f"{len(tables.documents) - len(items)} of {len(tables.documents)} "
                       "documents have a chapter heading, headings and key points", items)
