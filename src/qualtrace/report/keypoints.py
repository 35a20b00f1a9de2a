"""Key points and their evidence: each chapter's key points, their themes, and the body
passages that support them (from key_point_support.csv)."""
from __future__ import annotations

from collections import defaultdict

from .data import ReportData
from .markdown import md_literal, strip_bullet
from .numbers import Registry


def section(reg: Registry, data: ReportData) -> str:
    reg.section = "Key points and their evidence"
    rows = data.tables["key_point_support"]
    parts = ["## Key points and their evidence {#key-points}",
             "Each chapter's key points as printed, the themes coded on them, and the passages "
             "in the body of the same chapter that share a theme with them. A key point with "
             "no such passage is flagged, because a summary should rest on the text it "
             "summarises."]
    if not rows:
        parts.append("No key points were found in the corpus.")
        return "\n\n".join(parts)
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_doc[r["doc_id"]].append(r)
    for doc in data.documents:
        found = by_doc.get(doc["doc_id"])
        if not found:
            continue
        parts.append(f"### {md_literal(data.chapter(doc['doc_id']))} "
                     f"{{#key-points-{doc['doc_id']}}}")
        parts.append("\n\n".join(_key_point(reg, data, n, r)
                                 for n, r in enumerate(found, start=1)))
    return "\n\n".join(parts)


def _key_point(reg: Registry, data: ReportData, n: int, row: dict) -> str:
    seg = data.segment.get(row["key_point_id"], {})
    text = md_literal(strip_bullet(seg.get("text", row["key_point_id"])))
    themes = row["themes"].split()
    support = row["supporting_segment_ids"].split()
    shared = row["shared_themes"].split()
    link = reg.link(
        f"keypoint-{row['key_point_id']}-support", len(support),
        f"Key point {row['key_point_id']}: supporting body passages",
        f"key_point_support: key_point_id={row['key_point_id']} (supporting_segment_ids)",
        support)
    coded = ", ".join(_theme(data, t) for t in themes) or "none"
    if support:
        lines = sorted({data.segment[s]["line"] for s in support if s in data.segment},
                       key=lambda v: int(v) if v.isdigit() else 0)
        evidence = (f"Supported by {link} body passages (lines {', '.join(lines)}) sharing "
                    f"{', '.join(_theme(data, t) for t in shared) or 'a theme'}.")
    elif row["supported"] == "true":
        evidence = f"Marked as supported, with {link} passages listed."
    else:
        evidence = (f"**Not supported:** {link} body passages share a theme with it"
                    + ("." if themes else " (no theme was coded on it)."))
    indent = " " * (len(str(n)) + 2)
    return (f"{n}. {text} (line {seg.get('line', '?')}, `{row['key_point_id']}`)\n\n"
            f"{indent}*Themes:* {coded}. {evidence}")


def _theme(data: ReportData, t: str) -> str:
    return f"[{md_literal(data.theme_label(t))}](#theme-{t})"
