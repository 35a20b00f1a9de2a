"""Key points and their evidence: each chapter's key points, their themes, and the body
passages that support them (from key_point_support.csv).

While few documents have key points (limits.KEY_POINT_DOCUMENTS), every key point is listed
under its chapter. Beyond that the section is a summary of bounded size: totals, a table by
document and the first unsupported key points, with the full listing in key_point_support.csv.
"""
from __future__ import annotations

from collections import defaultdict

from .. import layout
from . import items
from .data import ReportData
from .limits import KEY_POINT_DOCUMENTS, KEY_POINT_TABLE_ROWS, UNSUPPORTED_LISTED, spread
from .markdown import excerpt, md_literal, strip_bullet, table
from .numbers import Registry

KEY_POINT_CHARS = 200  # key points are short; a longer one is cut in the summary's list
SHOWN_PASSAGES = 2     # supporting passages shown under a key point (the number lists all)
SHOWN_CHARS = 160


def section(reg: Registry, data: ReportData) -> str:
    reg.section = "Key points and their evidence"
    rows = data.tables["key_point_support"]
    parts = ["## Key points and their evidence {#key-points}",
             "Each chapter's key points as printed, the themes coded on them, and the passages "
             "in the body of the same chapter that share a theme with them. What is checked is "
             "only that: a shared theme code, not that a passage states what the key point "
             "says; the passages are shown so that a reader can judge. A key point with no "
             "such passage is flagged, because a summary should rest on the text it "
             "summarises."]
    if not rows:
        parts.append("No key points were found in the corpus.")
        return "\n\n".join(parts)
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_doc[r["doc_id"]].append(r)
    if len(by_doc) > KEY_POINT_DOCUMENTS:
        parts += _summary(reg, data, rows, by_doc)
        return "\n\n".join(parts)
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
    shown = ""
    if support:
        lines = [str(n) for n in sorted({data.segment[s]["line"] for s in support
                                         if s in data.segment})]
        evidence = (f"Shares a theme code ({', '.join(_theme(data, t) for t in shared) or 'a theme'}) "
                    f"with {link} body passages (lines {', '.join(lines)}), for example:")
        indent = " " * (len(str(n)) + 2)
        shown = "".join(
            f"\n\n{indent}- {excerpt(strip_bullet(data.segment[s]['text']), SHOWN_CHARS)} "
            f"(line {data.segment[s]['line']}, `{s}`)"
            for s in spread(support, SHOWN_PASSAGES) if s in data.segment)
    elif row["supported"]:
        evidence = f"Marked as supported, with {link} passages listed."
    else:
        evidence = (f"**Not supported:** {link} body passages share a theme with it"
                    + ("." if themes else " (no theme was coded on it)."))
    indent = " " * (len(str(n)) + 2)
    return (f"{n}. {text} (line {seg.get('line', '?')}, `{row['key_point_id']}`)\n\n"
            f"{indent}*Themes:* {coded}. {evidence}{shown}")


def _theme(data: ReportData, t: str) -> str:
    return f"[{md_literal(data.theme_label(t))}](#theme-{t})"


# ---------------------------------------------------------------------- summary (many documents)
def _summary(reg: Registry, data: ReportData, rows: list[dict],
             by_doc: dict[str, list[dict]]) -> list[str]:
    """Totals, a table by document and the first unsupported key points."""
    order = {d["doc_id"]: i for i, d in enumerate(data.documents)}
    docs = sorted(by_doc, key=lambda d: (order.get(d, len(order)), d))
    rows = [r for d in docs for r in by_doc[d]]  # document order, then as in the table
    unsupported = [r for r in rows if not r["supported"]]
    uncoded = [r for r in unsupported if not r["themes"].split()]

    def count(item_id, label, query, found, value=None, **extra):
        return items.segments(reg, data, item_id, label, query,
                              [r["key_point_id"] for r in found], value=value, **extra)

    n_all = count("keypoints-all", "Key points checked against the body text",
                  "key_point_support: all rows", rows, compact=True,
                  notes=["Excerpts are under [key points supported](#ev-keypoints-supported) "
                         "and [not supported](#ev-keypoints-unsupported)."])
    n_docs = count("keypoints-documents", "Documents with key points",
                   "key_point_support: distinct doc_id (passages: the key points)", rows,
                   value=len(docs), compact=True,
                   notes=["Excerpts are under [key points supported](#ev-keypoints-supported) "
                          "and [not supported](#ev-keypoints-unsupported)."])
    n_yes = count("keypoints-supported", "Key points supported by body passages",
                  "key_point_support: supported=true",
                  [r for r in rows if r["supported"]])
    n_no = count("keypoints-unsupported", "Key points not supported by body passages",
                 "key_point_support: supported=false", unsupported)
    n_uncoded = count("keypoints-uncoded", "Key points with no theme coded",
                      "key_point_support: supported=false, themes empty", uncoded,
                      compact=True, notes=["Excerpts are under [key points not supported]"
                                           "(#ev-keypoints-unsupported)."])
    parts = [
        f"The corpus has key points in {n_docs} documents, too many to list one by one here "
        f"(they are listed per document up to {KEY_POINT_DOCUMENTS} documents). Of "
        f"{n_all} key points, {n_yes} are supported: each theme coded on them is also coded "
        f"on a body passage of the same chapter. {n_no} are not supported, {n_uncoded} of "
        "them because no theme was coded on the key point. Every key point, with its themes, "
        "whether it is supported and the ids of its supporting passages, is in "
        f"`{layout.table('key_point_support')}`; the check *key_point_support* in "
        "[Consistency checks](#checks) lists them too.",
        _by_document(reg, data, docs, by_doc),
        _unsupported(data, unsupported),
    ]
    return parts


def _by_document(reg: Registry, data: ReportData, docs: list[str],
                 by_doc: dict[str, list[dict]]) -> str:
    def lacking(d):
        return sum(not r["supported"] for r in by_doc[d])

    ranked = sorted(docs, key=lambda d: -lacking(d))  # stable: document order within ties
    shown = ranked[:KEY_POINT_TABLE_ROWS]
    body = []
    for d in shown:
        key = items.part(d)
        found = by_doc[d]
        cells = []
        for name, what, where, chosen in (
                ("all", "key points", "all rows", found),
                ("supported", "key points supported", "supported=true",
                 [r for r in found if r["supported"]]),
                ("unsupported", "key points not supported", "supported=false",
                 [r for r in found if not r["supported"]])):
            cells.append(items.segments(
                reg, data, f"keypoints-doc-{key}-{name}", f"{data.chapter(d)}: {what}",
                f"key_point_support: doc_id={d}, {where}", [r["key_point_id"] for r in chosen],
                compact=name == "all",
                notes=[f"Excerpts are under the other numbers of {md_literal(data.chapter(d))} "
                       "in this table."] if name == "all" else []))
        body.append([f"{md_literal(data.chapter(d))} (`{d}`)", *cells])
    caption = "Key points by document, most unsupported first"
    if len(docs) > len(shown):
        caption += (f": {len(shown)} of {len(docs)} documents; the rest are in "
                    f"`{layout.table('key_point_support')}` (one row per key point)")
    return table(["Document", "Key points", "Supported", "Not supported"], body, "lrrr",
                 caption=caption, widths=[10, 2, 2, 2], identifier="tbl-key-points")


def _unsupported(data: ReportData, unsupported: list[dict]) -> str:
    if not unsupported:
        return "Every key point is supported."
    listed = unsupported[:UNSUPPORTED_LISTED]
    body = []
    for r in listed:
        seg = data.segment.get(r["key_point_id"], {})
        themes = r["themes"].split()
        shared = set(r["shared_themes"].split())
        lacking = [t for t in themes if t not in shared]
        body.append([
            f"{md_literal(data.short_chapter(r['doc_id']))}, line {seg.get('line', '?')}, "
            f"`{r['key_point_id']}`",
            excerpt(strip_bullet(seg.get("text", "")), KEY_POINT_CHARS),
            ", ".join(_theme(data, t) for t in themes) or "none",
            ", ".join(_theme(data, t) for t in lacking) or "no theme coded"])
    intro = ("**Key points not supported**, in document order"
             + (f" (the first {len(listed)} of {len(unsupported)}; all are in "
                f"`{layout.table('key_point_support')}` with `supported` false)"
                if len(unsupported) > len(listed) else "") + ".")
    return intro + "\n\n" + table(
        ["Where", "Key point", "Themes coded", "Not found in the body"], body, "llll",
        widths=[4, 10, 4, 4])
