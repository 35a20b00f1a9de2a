"""Apply a compiled codebook to segments: themes and facet values, each with its evidence span.

The engine knows no domain words; everything it matches comes from the codebook. Each output
row names the rule that fired and the exact characters it fired on, so a reviewer can check it.

Evidence choice: when several rules support the same label in a unit, the evidence is the match
that starts *first* in the unit (ties go to the rule listed first in the codebook), so the span a
reader is sent to is the earliest place the point is made.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .codebook import Codebook, Label, Rule

CODING_FIELDS = ["segment_id", "doc_id", "theme", "evidence_start", "evidence_end",
                 "evidence_text", "rule"]
FACET_FIELDS = ["segment_id", "doc_id", "facet", "value", "evidence_start", "evidence_end",
                "evidence_text", "rule"]

_WORD = re.compile(r"\w+")
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and a capital or an
# opening quote; "e.g. women" therefore does not end one.
_SENTENCE_BREAK = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
_LEADING_MARKER = re.compile(r"^[\s\-\u2013\u2014\u2022*\u00b7]*")

Span = tuple[int, int]


@dataclass(frozen=True)
class Evidence:
    start: int   # relative to the unit text
    end: int
    rule: str
    rank: int    # codebook order of the rule

    def key(self):
        return (self.start, self.rank)


# ---------------------------------------------------------------- rule evaluation
def _overlaps(span: Span, vetoes: list[Span]) -> bool:
    return any(vs < span[1] and span[0] < ve for vs, ve in vetoes)


def _group_hits(terms: frozenset, hits: dict, vetoes: list[Span]) -> list[Span]:
    # Units have few distinct hits and vocab groups many terms: walk the smaller side.
    keys = [t for t in hits if t in terms] if len(hits) < len(terms) else \
        [t for t in terms if t in hits]
    spans = [s for t in keys for s in hits[t]]
    if vetoes:
        spans = [s for s in spans if not _overlaps(s, vetoes)]
    return sorted(spans)


def _distinct(text: str, spans) -> int:
    return len({text[s:e].lower() for s, e in spans})


def _near(rule: Rule, a: list[Span], b: list[Span], unit: "_Unit") -> list[Span]:
    """Pairs (a, b) at most rule.within words apart; spans run from the first to the second."""
    text, within, a_first = unit.text, rule.within, rule.order == "a_first"
    count = _WORD.findall
    pairs = []
    for s1, e1 in a:
        for s2, e2 in b:
            if s1 < e2 and s2 < e1:
                continue  # the same words cannot be both ends of a proximity
            if s2 < s1:
                if a_first or len(count(text, e2, s1)) > within:
                    continue
                gap, span = (e2, s1), (s2, e1)
            else:
                if len(count(text, e1, s2)) > within:
                    break  # b is sorted: every later b is further away
                gap, span = (e1, s2), (s1, e2)
            if rule.same_sentence:
                # No endpos: the break's look-ahead must see the capital after the gap.
                brk = _SENTENCE_BREAK.search(text, gap[0])
                if brk and brk.start() < gap[1]:
                    continue
            pairs.append(span)
    return sorted(pairs)


@dataclass
class _Unit:
    """What rules look at: the unit's text (attribution cut off), its term hits, kind, section.

    Regex terms are scanned on first use.
    """
    text: str
    hits: dict
    kind: str = "paragraph"
    section_hits: dict | None = None
    matcher: object = None
    scanned: set = field(default_factory=set)

    def ensure(self, regex_terms) -> None:
        todo = [t for t in regex_terms if t not in self.scanned]
        if todo:
            self.matcher.scan_regex(self.text, todo, self.hits)
            self.scanned.update(todo)


# A regex veto is looked for within this many characters either side of the hits it could veto.
VETO_WINDOW = 100


def evaluate_rule(rule: Rule, unit: _Unit, label_vetoes: list[Span] = (),
                  label_lazy: tuple = ()) -> Evidence | None:
    """The evidence for `rule` in a unit, or None when it does not fire.

    Vetoes only ever remove hits, so regex vetoes (a pass each) are looked for only once the rule
    fires without them, and then only around the rule's own hits: same answer, less scanning.
    """
    if rule.kinds is not None and unit.kind not in rule.kinds:
        return None
    if rule.section and not any(t in (unit.section_hits or {}) for t in rule.section):
        return None
    if rule.lazy_terms:
        unit.ensure(rule.lazy_terms)
    ev = _fire(rule, unit, label_vetoes)
    if ev is not None and rule.lazy_not_with:
        unit.ensure(rule.lazy_not_with)
        ev = _fire(rule, unit, label_vetoes)
    terms = rule.lazy_unless + label_lazy
    if ev is None or not terms:
        return ev
    vetoes = list(label_vetoes)
    if rule.kind == "all" or rule.min_hits > 1:
        # Vetoes anywhere can empty a group or lower a count: look around every hit.
        return _fire(rule, unit, vetoes + _vetoes_near(unit, terms, _rule_hits(rule, unit)))
    # For `any` and `near` the earliest evidence stays the answer unless a veto overlaps it, so
    # look only around it; a vetoed evidence is replaced by the next candidate, checked likewise.
    while ev is not None:
        new = [v for v in _vetoes_near(unit, terms, [(ev.start, ev.end)]) if v not in vetoes]
        if not new:
            return ev
        vetoes += new
        ev = _fire(rule, unit, vetoes)
    return None


def _rule_hits(rule: Rule, unit: _Unit) -> list[Span]:
    hits = unit.hits
    return sorted(s for g in rule.group_sets for t in g if t in hits for s in hits[t])


def _vetoes_near(unit: _Unit, terms: tuple, spans: list[Span]) -> list[Span]:
    """Regex veto matches overlapping one of `spans`, looked for only around them."""
    windows: list[list[int]] = []
    for s, e in spans:  # merge the windows around the spans
        lo, hi = max(0, s - VETO_WINDOW), e + VETO_WINDOW
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], hi)
        else:
            windows.append([lo, hi])
    full, out = unit.matcher.full, []
    for t in terms:
        for lo, hi in windows:
            # pos keeps the text before the window visible to \b and look-behinds.
            for m in full[t].finditer(unit.text, lo, hi):
                if m.end() > m.start() and any(m.start() < e and s < m.end() for s, e in spans):
                    out.append(m.span())
    return out


def _fire(rule: Rule, unit: _Unit, label_vetoes) -> Evidence | None:
    hits, text = unit.hits, unit.text
    if rule.not_with and any(t in hits for t in rule.not_with):
        return None
    vetoes = [s for t in rule.unless if t in hits for s in hits[t]]
    if label_vetoes:
        vetoes += label_vetoes
    if rule.kind == "any" and not vetoes and rule.min_hits == 1:
        # Fast path: hit lists are in text order, so the earliest is a min over first hits.
        firsts = [hits[t][0] for t in rule.group_sets[0] if t in hits] \
            if len(rule.group_sets[0]) < len(hits) else \
            [v[0] for t, v in hits.items() if t in rule.group_sets[0]]
        if not firsts:
            return None
        s, e = min(firsts)
        return Evidence(s, e, rule.id, rule.index)
    groups = [_group_hits(g, hits, vetoes) for g in rule.group_sets]
    if rule.kind == "any":
        spans = groups[0]
    elif rule.kind == "all":
        if not all(groups):
            return None
        spans = sorted(s for g in groups for s in g)
    else:
        spans = _near(rule, groups[0], groups[1], unit) if all(groups) else []
    if not spans or (rule.min_hits > 1 and _distinct(text, spans) < rule.min_hits):
        return None
    return Evidence(spans[0][0], spans[0][1], rule.id, rule.index)


# ---------------------------------------------------------------- per-label-set evaluation
class _LabelSet:
    """The labels of one label set (themes, or one facet's values) with a trigger index."""

    def __init__(self, labels: list[Label]):
        self.labels = labels
        self.by_rule = {}
        self.trigger: dict[int, list[Rule]] = {}
        for lab in labels:
            for rule in lab.rules:
                self.by_rule[rule.id] = lab
                # A rule can only fire if its trigger group hit, so only those terms trigger it.
                for t in rule.groups[rule.trigger]:
                    self.trigger.setdefault(t, []).append(rule)

    def evaluate(self, unit: "_Unit") -> dict[str, Evidence]:
        hits = unit.hits
        keys = hits.keys()
        rules = {r.index: r for t in hits for r in self.trigger.get(t, ())}
        found: dict[str, Evidence] = {}
        vetoes_cache: dict[str, list[Span]] = {}
        for index in sorted(rules):
            rule = rules[index]
            # Cheap necessary condition first: every group of plain terms must have a hit.
            if any(g.isdisjoint(keys) for g in rule.plain_sets):
                continue
            lab = self.by_rule[rule.id]
            if lab.id not in vetoes_cache:  # regex vetoes of the label are added on demand
                vetoes_cache[lab.id] = [s for t in lab.unless if t in hits for s in hits[t]]
            ev = evaluate_rule(rule, unit, vetoes_cache[lab.id], lab.lazy_terms)
            if ev and (lab.id not in found or ev.key() < found[lab.id].key()):
                found[lab.id] = ev
        return _suppress(self.labels, found)

    def fallback(self, rules: list[Rule], unit: "_Unit") -> dict[str, Evidence]:
        labels = {lab.id: lab for lab in self.labels}
        for rule in rules:
            lab = labels[rule.label]
            vetoes = [s for t in lab.unless for s in unit.hits.get(t, ())]
            ev = evaluate_rule(rule, unit, vetoes, lab.lazy_terms)
            if ev:
                return {rule.label: ev}
        return {}


def _suppress(labels: list[Label], found: dict[str, Evidence]) -> dict[str, Evidence]:
    return {lab.id: found[lab.id] for lab in labels
            if lab.id in found and not any(s in found for s in lab.suppressed_by)}


class Engine:
    def __init__(self, codebook: Codebook):
        self.cb = codebook
        self.themes = _LabelSet(codebook.themes)
        self.facets = [(f, _LabelSet(f.values)) for f in codebook.facets]

    def attribution(self, facet, seg: dict, raw: str) -> dict[str, Evidence] | None:
        group, printed = seg.get("speaker_group", ""), seg.get("speaker_group_raw", "")
        if not facet.attribution_rule or seg.get("kind") != "quote" or not (group or printed):
            return None
        values = [v.id for v in facet.values if group and group in v.speaker_groups]
        if not values and printed:
            hits = self.cb.matcher.scan(printed)
            values = [v.id for v in facet.values if any(t in hits for t in v.speaker_terms)]
        if not values:
            return None
        start, end = int(seg["start"]), int(seg["end"])
        att = int(seg["attribution_start"]) if seg.get("attribution_start") else start
        at = raw.find(printed, att, end) if printed else -1
        span = (at, at + len(printed)) if at >= 0 else (att, end)
        # Relative to the segment start, like every other evidence before it is made absolute.
        return {v: Evidence(span[0] - start, span[1] - start, facet.attribution_rule, 0)
                for v in values}


def _unit_text(seg: dict, raw: str) -> tuple[int, str]:
    start, end = int(seg["start"]), int(seg["end"])
    cut = seg.get("attribution_start") or ""
    if cut and start < int(cut) <= end:
        end = int(cut)  # the attribution names a speaker; it is not what the speaker said
    return start, raw[start:end]


def _whole(text: str, rule: str) -> Evidence:
    lead = _LEADING_MARKER.match(text).end()
    return Evidence(lead, len(text.rstrip()), rule, 0)


def _natural(segment_id: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", segment_id)]


def code_segments(segments, raw_texts: dict, codebook: Codebook):
    """Code segments; return (codings_rows, facets_rows) sorted deterministically."""
    engine = Engine(codebook)
    eager = codebook.eager_regex_terms()
    codings, facet_rows = [], []
    lead_in: dict[tuple[str, str], dict[str, Evidence]] = {}  # (doc, facet) -> values
    section_hits: dict[str, dict] = {}
    # Document order matters (list items inherit from the unit before them), so impose it.
    for seg in sorted(segments, key=lambda r: (r["doc_id"], _natural(r["segment_id"]))):
        kind, doc = seg.get("kind", ""), seg["doc_id"]
        if seg.get("boilerplate") == "true" or kind not in codebook.code_kinds:
            continue
        raw = raw_texts[doc]
        base, text = _unit_text(seg, raw)
        section = seg.get("section", "")
        if section not in section_hits:
            section_hits[section] = codebook.matcher.scan(section)
        hits = codebook.matcher.scan(text, eager)
        unit = _Unit(text, hits, kind, section_hits[section], codebook.matcher, set(eager))

        def emit(rows, ev: Evidence, extra: dict):
            s, e = base + ev.start, base + ev.end
            rows.append({"segment_id": seg["segment_id"], "doc_id": doc, **extra,
                         "evidence_start": str(s), "evidence_end": str(e),
                         "evidence_text": raw[s:e], "rule": ev.rule})

        for theme, ev in engine.themes.evaluate(unit).items():
            emit(codings, ev, {"theme": theme})
        for facet, labels in engine.facets:
            values = engine.attribution(facet, seg, raw)
            if values is None:
                values = labels.evaluate(unit)
            if not values and kind in facet.inherit_kinds and lead_in.get((doc, facet.id)):
                values = {v: _whole(text, facet.inherit_rule) for v in lead_in[(doc, facet.id)]}
            if not values:
                values = labels.fallback(facet.fallback, unit)
            if kind not in facet.inherit_kinds:
                lead_in[(doc, facet.id)] = values
            for value, ev in values.items():
                emit(facet_rows, ev, {"facet": facet.id, "value": value})
    codings.sort(key=lambda r: (r["doc_id"], _natural(r["segment_id"]), r["theme"]))
    facet_rows.sort(key=lambda r: (r["doc_id"], _natural(r["segment_id"]), r["facet"], r["value"]))
    return codings, facet_rows
