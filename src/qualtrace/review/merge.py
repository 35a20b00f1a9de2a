"""Reviewed coding = automatic coding minus rejected codings plus added ones (SPEC).

A decision is about one coding: (segment, facet, label), where facet is `theme` or a codebook
facet. Per reviewer the last row for a coding wins (earlier ones are `superseded`). A decision
whose segment is gone (or is boilerplate, never coded) is `unknown`; one whose segment text
changed is `stale`; neither is applied. Accepting a coding the rules no longer make is `unknown`
(add it instead); rejecting a coding nobody makes is applied and changes nothing (it is how a
reviewer undoes their own add). Reviewers who disagree about a coding (one rejects, one
accepts or adds) are in conflict and the configured policy decides:
- `reject_wins`: the rejection applies; the accepts and adds are `conflict`.
- `lead_reviewer`: the lead's decision applies and those who disagree with it are `conflict`;
  without a decision of the lead, every side is `conflict` and the coding stays as the rules made
  it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ..coding.engine import segment_sort_key
from .decisions import THEME, Decision, text_sha256

# The tables' columns are in their schemas (codings, facets, review_decisions); rules_coded
# there says whether the rules made the coding a decision is about (so the report can score
# the rules against the reviewers: accepted vs rejected automatic codings).
OUTCOMES = ("applied", "stale", "unknown", "conflict", "superseded")
STATUSES = ("auto", "accepted", "added")
POLICIES = ("reject_wins", "lead_reviewer")
# Memos of several reviewers on one coding, in one cell.
NOTE_SEPARATOR = " | "


@dataclass
class Policy:
    conflict: str = "reject_wins"
    lead: str = ""

    @classmethod
    def from_config(cls, review: dict | None) -> "Policy":
        review = review or {}
        policy = cls(review.get("conflict", "reject_wins"), review.get("lead", ""))
        if policy.conflict not in POLICIES:
            raise ValueError(f"review.conflict must be one of {POLICIES}")
        if policy.conflict == "lead_reviewer" and not policy.lead:
            raise ValueError("review.conflict lead_reviewer needs review.lead")
        return policy


@dataclass
class _Outcome:
    decision: Decision
    outcome: str = "applied"
    detail: str = ""


@dataclass
class Merged:
    codings: list[dict]
    facets: list[dict]
    outcomes: list[dict]
    counts: dict = field(default_factory=dict)


def _resolve(valid: list[_Outcome], policy: Policy) -> list[_Outcome]:
    """Settle one coding's valid decisions (one per reviewer); return those that apply."""
    yes = [o for o in valid if o.decision.decision != "reject"]
    no = [o for o in valid if o.decision.decision == "reject"]
    if not (yes and no):
        return valid
    names = lambda side: ", ".join(sorted(o.decision.reviewer for o in side))  # noqa: E731
    if policy.conflict == "reject_wins":
        winners, losers = no, yes
        why = f"rejected by {names(no)} (review.conflict: reject_wins)"
    else:
        lead = [o for o in valid if o.decision.reviewer == policy.lead]
        if not lead:
            for o in valid:
                o.outcome, o.detail = "conflict", (
                    f"{names(yes)} keep it, {names(no)} reject it, and the lead reviewer "
                    f"{policy.lead} has not decided (review.conflict: lead_reviewer)")
            return []
        winners = yes if lead[0] in yes else no
        losers = no if winners is yes else yes
        why = f"the lead reviewer {policy.lead} decided otherwise (review.conflict: lead_reviewer)"
    for o in losers:
        o.outcome, o.detail = "conflict", why
    return winners


def _coding_key(row: dict, label_column: str) -> tuple:
    return (row["segment_id"], row["facet"] if label_column == "value" else THEME,
            row[label_column])


def merge(segments: list[dict], codings_auto: list[dict], facets_auto: list[dict],
          decisions: list[Decision], policy: Policy | None = None) -> Merged:
    policy = policy or Policy()
    by_id = {s["segment_id"]: s for s in segments}
    hashes: dict[str, str] = {}
    auto = {_coding_key(r, "theme"): r for r in codings_auto}
    auto.update({_coding_key(r, "value"): r for r in facets_auto})

    # 1. the last row per (segment, facet, label, reviewer) wins
    ordered = sorted(decisions, key=lambda d: (d.file, d.line))
    outcomes = [_Outcome(d) for d in ordered]
    latest: dict[tuple, _Outcome] = {}
    for o in outcomes:
        d = o.decision
        key = (d.segment_id, d.facet, d.label, d.reviewer)
        if key in latest:
            earlier = latest[key]
            earlier.outcome = "superseded"
            earlier.detail = f"{d.file}:{d.line} decides this coding again"
        latest[key] = o

    # 2. the segment must exist, be codable, and still have the text the reviewer saw
    per_coding: dict[tuple, list[_Outcome]] = defaultdict(list)
    for key, o in latest.items():
        d = o.decision
        seg = by_id.get(d.segment_id)
        if seg is None:
            o.outcome, o.detail = "unknown", f"segments.csv has no segment {d.segment_id}"
            continue
        if seg.get("boilerplate"):
            o.outcome, o.detail = "unknown", "the segment is boilerplate, which is never coded"
            continue
        if d.segment_id not in hashes:
            hashes[d.segment_id] = text_sha256(seg["text"])
        if hashes[d.segment_id] != d.text_sha256:
            o.outcome, o.detail = "stale", ("the segment's text changed since the decision "
                                            "(text_sha256 differs); review it again")
            continue
        per_coding[key[:3]].append(o)

    # 3. per coding: settle disagreements, then apply
    removed: set[tuple] = set()
    reviewed: dict[tuple, tuple[str, list[_Outcome]]] = {}  # coding -> (status, applied)
    for coding, valid in per_coding.items():
        applied = _resolve(valid, policy)
        if not applied:
            continue
        exists = coding in auto
        if applied[0].decision.decision == "reject":
            removed.add(coding)
            if not exists and len(applied) == len(valid):  # e.g. a reviewer's add, undone
                for o in applied:
                    o.detail = "the coding is absent: the rules do not make it, no one adds it"
            continue
        adds = [o for o in applied if o.decision.decision == "add"]
        if not exists and not adds:
            for o in applied:
                o.outcome, o.detail = "unknown", ("the rules no longer make this coding; "
                                                  "nothing to accept (add it instead)")
            continue
        reviewed[coding] = ("accepted" if exists else "added", applied)

    codings = _reviewed_rows(codings_auto, "theme", removed, reviewed, by_id)
    facets = _reviewed_rows(facets_auto, "value", removed, reviewed, by_id)
    rows = [{"file": o.decision.file, "line": o.decision.line, **o.decision.row(),
             "outcome": o.outcome, "detail": o.detail,
             "rules_coded": (o.decision.segment_id, o.decision.facet, o.decision.label) in auto}
            for o in outcomes]
    counts = {name: sum(o.outcome == name for o in outcomes) for name in OUTCOMES}
    return Merged(codings, facets, rows, counts)


def _reviewed_rows(auto_rows, label_column, removed, reviewed, by_id) -> list[dict]:
    facet_table = label_column == "value"
    out = []
    for row in auto_rows:
        key = _coding_key(row, label_column)
        if key in removed:
            continue
        status, applied = reviewed.get(key, ("auto", []))
        out.append({**row, **_review_cells(status, applied)})
    n_kept = len(out)
    for (seg_id, facet, label), (status, applied) in reviewed.items():
        if status != "added" or (facet != THEME) != facet_table:
            continue
        seg = by_id[seg_id]
        names = _reviewers(applied, adds_only=True)
        row = {"segment_id": seg_id, "doc_id": seg["doc_id"],
               "evidence_start": seg["start"], "evidence_end": seg["end"],
               "evidence_text": seg["text"], "rule": f"review:{'+'.join(names)}"}
        row.update({"facet": facet, "value": label} if facet_table else {"theme": label})
        out.append({**row, **_review_cells(status, applied)})
    if len(out) == n_kept:
        return out  # nothing added: the rules' order stands
    label_key = ((lambda r: (r["facet"], r["value"])) if facet_table
                 else (lambda r: (r["theme"],)))
    natural: dict[str, list] = {}

    def key(row):
        seg_id = row["segment_id"]
        if seg_id not in natural:
            natural[seg_id] = segment_sort_key(seg_id)
        return (row["doc_id"], natural[seg_id], *label_key(row))
    # Stable: the rules' rows keep their order; added rows join their segment's.
    out.sort(key=key)
    return out


def _reviewers(applied: list[_Outcome], adds_only: bool = False) -> list[str]:
    return sorted({o.decision.reviewer for o in applied
                   if not adds_only or o.decision.decision == "add"})


_UNREVIEWED = {"status": "auto", "reviewer": "", "note": ""}


def _review_cells(status: str, applied: list[_Outcome]) -> dict:
    if not applied:
        return _UNREVIEWED
    notes = [f"{o.decision.reviewer}: {o.decision.note}" for o in
             sorted(applied, key=lambda o: o.decision.reviewer) if o.decision.note.strip()]
    return {"status": status, "reviewer": " ".join(_reviewers(applied)),
            "note": NOTE_SEPARATOR.join(notes)}
