"""Researcher review: how much of the automatic coding a person checked (per theme and
overall), how well the rules agree with the reviewers, the reviewers' memos beside the passages
they annotate, and the content segments no theme was coded on.

Reads codings.csv (its `status`, `reviewer`, `note` columns) and review_decisions.csv; every
number is registered with the segments behind it, so `qualtrace trace <item id>` lists them.
"""
from __future__ import annotations

from collections import defaultdict

from .. import layout
from .data import ReportData
from .markdown import md_literal, table
from .numbers import Registry

MEMO_ROWS = 40       # memos listed (all are in codings.csv, facets.csv, review_decisions.csv)
EXCERPT_CHARS = 160


class _Review:
    """(segment, theme) sets of the reviewed coding, per theme."""

    def __init__(self, data: ReportData):
        self.accepted, self.added, self.kept = (defaultdict(set) for _ in range(3))
        for row in data.tables["codings"]:
            status = row.get("status") or "auto"
            key = (row["segment_id"], row["theme"])
            if status == "added":
                self.added[row["theme"]].add(key)
            else:
                self.kept[row["theme"]].add(key)  # the rules' codings still standing
                if status == "accepted":
                    self.accepted[row["theme"]].add(key)
        self.rejected = defaultdict(set)
        for row in data.tables.get("review_decisions", []):
            if (row["outcome"] == "applied" and row["decision"] == "reject"
                    and row["facet"] == "theme" and row.get("rules_coded")):
                self.rejected[row["label"]].add((row["segment_id"], row["label"]))

    def auto(self, theme: str) -> set:
        return self.kept[theme] | self.rejected[theme]

    def reviewed(self, theme: str) -> set:
        return self.accepted[theme] | self.rejected[theme]


def _unapplied(data: ReportData) -> str:
    """A sentence on the decisions the `review` check lists (stale, unknown, conflict)."""
    counts = defaultdict(int)
    for row in data.tables.get("review_decisions", []):
        if row["outcome"] in ("stale", "unknown", "conflict"):
            counts[row["outcome"]] += 1
    if not counts:
        return ""
    listed = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
    return (f" Not applied: {listed} decisions (the `review` check lists each with its file "
            "and line).")


def _segs(keys) -> list[str]:
    return sorted({seg for seg, _ in keys})


def _pooled(review: _Review, name: str, themes) -> set:
    return {key for t in themes for key in getattr(review, name)[t]}


def section(reg: Registry, data: ReportData) -> str:
    reg.section = "Researcher review"
    review = _Review(data)
    themes = [t.id for t in data.themes]
    parts = ["## Researcher review {#review}"]
    auto = {k for t in themes for k in review.auto(t)}
    reviewed = {k for t in themes for k in review.reviewed(t)}
    accepted, rejected = _pooled(review, "accepted", themes), _pooled(review, "rejected", themes)
    added = _pooled(review, "added", themes)
    n_auto = reg.link("review-auto", len(auto), "Automatic theme codings",
                      "codings: status in (auto, accepted) + review_decisions: applied rejects "
                      "of the rules' codings (counted as segment x theme)", _segs(auto),
                      compact=True, notes=[_COUNTED])
    n_reviewed = reg.link("review-reviewed", len(reviewed), "Automatic theme codings reviewed",
                          "codings: status=accepted + review_decisions: applied rejects of the "
                          "rules' codings (segment x theme)", _segs(reviewed), compact=True,
                          notes=[_COUNTED])
    share = f"{100 * len(reviewed) / len(auto):.0f}%" if auto else "none"
    totals = {"auto": n_auto, "reviewed": n_reviewed, "share": share,
              "rejected": _count(reg, "review-rejected", rejected, "rejected"),
              "added": _count(reg, "review-added", added, "added"),
              "precision": _precision(reg, "review-precision", accepted, reviewed,
                                      " (all themes)")}
    parts.append(
        f"Reviewers checked {n_reviewed} of the {n_auto} theme codings the rules made "
        f"({share}), accepting {_count(reg, 'review-accepted', accepted, 'accepted')} and "
        f"rejecting {totals['rejected']}, and added {totals['added']} codings the rules had "
        "missed. Every "
        "number in this report counts the reviewed coding: the rules' codings minus the "
        f"rejected ones plus the added ones. Decisions are in `{layout.REVIEW_GLOB}` (made with "
        "`qualtrace review` or `qualtrace import-review`); what became of each is in "
        f"`{layout.table('review_decisions')}`." + _unapplied(data))
    parts.append(_agreement(reg, data, review, themes, totals))
    parts.append(_memos(data))
    return "\n\n".join(p for p in parts if p)


_COUNTED = ("Counted as (segment, theme) codings; a segment coded with two themes counts "
            "twice, and its passage is listed once.")


def _count(reg: Registry, item_id: str, keys, what: str, theme: str = "") -> str:
    return reg.link(item_id, len(keys), f"Theme codings {what} by reviewers"
                    + (f" ({theme})" if theme else ""),
                    f"codings/review_decisions: theme codings {what}"
                    + (f", theme={theme}" if theme else ""), _segs(keys), theme=theme,
                    compact=True, notes=[_COUNTED])


def _precision(reg: Registry, item_id: str, accepted, reviewed, label: str, theme: str = "") -> str:
    if not reviewed:
        return "\u2013"
    value = f"{len(accepted) / len(reviewed):.2f}"
    return reg.link(item_id, value, f"Precision of the rules against reviewers{label}",
                    "accepted / (accepted + rejected) automatic theme codings"
                    + (f", theme={theme}" if theme else ""), _segs(reviewed), theme=theme,
                    compact=True, notes=[f"{len(accepted)} of {len(reviewed)} reviewed "
                                         "automatic codings were accepted."])


def _agreement(reg, data, review: _Review, themes, totals: dict) -> str:
    rows = []
    for t in themes:
        auto, done = review.auto(t), review.reviewed(t)
        if not (auto or review.added[t]):
            continue
        rows.append([
            md_literal(data.theme_label(t)),
            reg.link(f"review-theme-{t}-auto", len(auto), f"{data.theme_label(t)}: automatic "
                     "codings", f"codings + rejects: theme={t}, made by the rules",
                     _segs(auto), theme=t, compact=True),
            reg.link(f"review-theme-{t}-reviewed", len(done), f"{data.theme_label(t)}: "
                     "automatic codings reviewed", f"codings status=accepted + applied "
                     f"rejects: theme={t}", _segs(done), theme=t, compact=True),
            f"{100 * len(done) / len(auto):.0f}%" if auto else "\u2013",
            _count(reg, f"review-theme-{t}-rejected", review.rejected[t], "rejected", t),
            _precision(reg, f"review-theme-{t}-precision", review.accepted[t], done,
                       f" ({data.theme_label(t)})", t),
            _count(reg, f"review-theme-{t}-added", review.added[t], "added", t),
        ])
    rows.append(["*All themes*", totals["auto"], totals["reviewed"], totals["share"],
                 totals["rejected"], totals["precision"], totals["added"]])
    intro = ("How far the rules agree with the reviewers, beside the [gold scores](#validity): "
             "precision is the share of reviewed automatic codings that reviewers accepted; "
             "codings reviewers added are the rules' misses (a reviewer adds a coding only "
             "where they looked, so this is a floor, not a recall).")
    return intro + "\n\n" + table(
        ["Theme", "Automatic", "Reviewed", "Share", "Rejected", "Precision", "Added (missed)"],
        rows, "lrrrrrr", caption="Review of the automatic theme coding",
        widths=[8, 3, 3, 2, 3, 3, 3], identifier="tbl-review")


def _memos(data: ReportData) -> str:
    memos = []
    for name, label_of in (("codings", lambda r: data.theme_label(r["theme"])),
                           ("facets", lambda r: f"{r['facet']}: "
                                                f"{data.value_label(r['facet'], r['value'])}")):
        for row in data.tables[name]:
            if row.get("note"):
                memos.append((row["segment_id"], label_of(row),
                               f"{row.get('status', '')} by {row.get('reviewer', '')}",
                               row["note"]))
    for row in data.tables.get("review_decisions", []):
        if row["outcome"] == "applied" and row["decision"] == "reject" and row["note"]:
            label = (data.theme_label(row["label"]) if row["facet"] == "theme"
                     else f"{row['facet']}: {data.value_label(row['facet'], row['label'])}")
            memos.append((row["segment_id"], label, f"rejected by {row['reviewer']}",
                          f"{row['reviewer']}: {row['note']}"))
    head = "### Reviewers' memos {#review-memos}"
    if not memos:
        return f"{head}\n\nNo reviewer wrote a memo."
    order = {s["segment_id"]: i for i, s in enumerate(data.segments)}
    memos.sort(key=lambda m: (order.get(m[0], -1), m[1]))
    body = []
    for seg_id, label, status, note in memos[:MEMO_ROWS]:
        seg = data.segment.get(seg_id, {})
        where = (f"{md_literal(data.short_chapter(seg.get('doc_id', '')))}, line "
                 f"{seg.get('line', '?')}, `{seg_id}`")
        body.append([where, md_literal(_clip(seg.get("text", ""))), md_literal(label),
                     md_literal(status), md_literal(note)])
    more = (f"\n\nThe first {MEMO_ROWS} of {len(memos)} memos; all are in the `note` columns "
            "of `codings.csv`, `facets.csv` and `review_decisions.csv`."
            if len(memos) > MEMO_ROWS else "")
    return (f"{head}\n\n" + table(["Where", "Passage", "Coding", "Decision", "Memo"], body,
                                  "lllll", widths=[4, 8, 3, 2, 6]) + more)


def _clip(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " \u2026"
