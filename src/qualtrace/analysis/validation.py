"""Scoring the pipeline's codings against hand-coded gold units (SPEC "Gold annotations").

Unit: the segment whose span contains the first occurrence of a gold line's `anchor` in its
document. Each label set (`themes`, and one per codebook facet, named by the facet's plural, as
the gold line's keys are) is scored as one binary decision per (unit, label): does the unit carry
the label?

Conventions (stated here because the report quotes them):
- precision/recall/F1 follow scikit-learn's `zero_division=0`: a ratio whose denominator is 0
  is 0.0 (so a label nobody used scores F1 = 0, which is why macro-F1 skips such labels).
- macro-F1 (and macro precision/recall) average over the *active* labels of a set: those that
  occur in the gold or in the predictions for the gold units (tp + fp + fn > 0).
- micro scores pool TP/FP/FN over all labels of the set; pooled Cohen's kappa and
  Krippendorff's alpha use every (unit, label) decision for every label in the codebook set.
- Cohen's kappa and Krippendorff's alpha are undefined when chance agreement is total (both
  raters constant); they are then reported as an empty cell, never as 1.0 or 0.0.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Hashable, Iterable, Mapping, Sequence

from ..common.io import InputError
from ..common.tables import columns

if TYPE_CHECKING:  # the compiled codebook, only as a type
    from ..coding.codebook import Codebook

THEMES = "themes"  # the themes' label set; each facet's is its plural (codebook.facet_plural)
MIN_ANCHOR_CHARS = 40  # SPEC: anchors are 40+ characters so they identify one passage

VALIDATION_FIELDS = columns("coding_validation")
DISAGREEMENT_FIELDS = columns("coding_disagreements")
MACRO, MICRO = "__macro__", "__micro__"


class GoldError(InputError, ValueError):
    """A gold annotation that cannot be used; the message starts with `file:line:`."""


@dataclass(frozen=True)
class GoldUnit:
    segment_id: str
    doc_id: str
    source: str  # "<gold file>:<line>" of the line that defined the unit
    anchor: str
    labels: Mapping[str, frozenset] = field(default_factory=dict)


# --- loading -----------------------------------------------------------------------------

def load_gold(paths: Iterable[str | Path], raw_texts: Mapping[str, str], segments, documents,
              label_sets: Mapping[str, Iterable[str]]) -> list[GoldUnit]:
    """Gold units from JSONL files, in segment order; raises GoldError naming file and line.

    raw_texts: raw file name (as in data/raw/) -> decoded text; documents: documents.csv rows
    (their `path` file name maps a gold `doc` to a doc_id); label_sets: allowed ids per set
    (label_sets_from_codebook), whose names are the keys every gold line must have.
    The same unit may be annotated twice only with identical labels.
    """
    doc_of_file = {Path(d["path"]).name: d["doc_id"] for d in documents}
    spans = defaultdict(list)
    for s in segments:
        spans[s["doc_id"]].append((s["start"], s["end"], s["segment_id"]))
    allowed = {k: set(v) for k, v in label_sets.items()}
    units: dict[str, GoldUnit] = {}
    for path in sorted(map(str, paths)):
        with open(path, encoding="utf-8") as handle:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{lineno}"
                unit = _parse_line(line, where, doc_of_file, raw_texts, spans, allowed)
                seen = units.get(unit.segment_id)
                if seen is not None and seen.labels != unit.labels:
                    raise GoldError(f"{where}: unit {unit.segment_id} is already coded with "
                                    f"different labels at {seen.source}")
                units.setdefault(unit.segment_id, unit)
    return [units[k] for k in sorted(units)]


def _parse_line(line, where, doc_of_file, raw_texts, spans, allowed) -> GoldUnit:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        raise GoldError(f"{where}: invalid JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(obj, dict):
        raise GoldError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    missing = [k for k in ("doc", "anchor", *allowed) if k not in obj]
    if missing:
        raise GoldError(f"{where}: missing key(s) {', '.join(missing)}")
    doc, anchor = obj["doc"], obj["anchor"]
    if not isinstance(anchor, str) or len(anchor) < MIN_ANCHOR_CHARS:
        raise GoldError(f"{where}: anchor must be a string of {MIN_ANCHOR_CHARS}+ characters")
    if doc not in doc_of_file or doc not in raw_texts:
        known = ", ".join(sorted(doc_of_file))
        raise GoldError(f"{where}: unknown doc {doc!r} (known: {known})")
    labels = {}
    for key in allowed:
        values = obj[key]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise GoldError(f"{where}: {key} must be a list of label ids")
        unknown = sorted(set(values) - allowed.get(key, set()))
        if unknown:
            raise GoldError(f"{where}: unknown {key} label(s) {', '.join(unknown)}; "
                            f"allowed: {', '.join(sorted(allowed.get(key, ())))}")
        labels[key] = frozenset(values)
    doc_id = doc_of_file[doc]
    segment_id = _unit_of(raw_texts[doc], anchor, spans.get(doc_id, []), where, doc)
    return GoldUnit(segment_id, doc_id, where, anchor, labels)


def _unit_of(raw: str, anchor: str, spans, where: str, doc: str) -> str:
    begin = raw.find(anchor)
    if begin < 0:
        raise GoldError(f"{where}: anchor not found in {doc}: {anchor[:60]!r}")
    finish = begin + len(anchor)
    for start, end, segment_id in spans:
        if start <= begin < end:
            if finish <= end:
                return segment_id
            raise GoldError(f"{where}: anchor straddles segments: it starts in {segment_id} "
                            f"[{start}:{end}) but ends at {finish}")
    raise GoldError(f"{where}: anchor at {begin} in {doc} starts in no segment")


def predicted_labels(codings, facets, facet_sets: Mapping[str, str]
                     ) -> dict[str, dict[str, set[str]]]:
    """label set -> segment_id -> labels the pipeline assigned. facet_sets: facet id -> its
    label set (facet_sets_from_codebook)."""
    out = {key: defaultdict(set) for key in (THEMES, *facet_sets.values())}
    for row in codings:
        out[THEMES][row["segment_id"]].add(row["theme"])
    for row in facets:
        if row["facet"] in facet_sets:
            out[facet_sets[row["facet"]]][row["segment_id"]].add(row["value"])
    return out


# --- agreement statistics ---------------------------------------------------------------

def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two raters over the same items; None when chance agreement is 1."""
    if len(a) != len(b):
        raise ValueError("raters must rate the same items")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def nominal_alpha(data: Sequence[Sequence[Hashable | None]]) -> float | None:
    """Krippendorff's alpha, nominal, from a coders x units matrix (None = missing).

    Coincidence-matrix form (Krippendorff 2011): units with fewer than two values are not
    pairable and drop out; None when fewer than two distinct values are pairable (D_e = 0).
    """
    coincidence = Counter()
    for unit in zip(*data):
        values = [v for v in unit if v is not None]
        m = len(values)
        if m < 2:
            continue
        for i, c in enumerate(values):
            for j, k in enumerate(values):
                if i != j:
                    coincidence[c, k] += 1 / (m - 1)
    totals = Counter()
    for (c, _), weight in coincidence.items():
        totals[c] += weight
    n = sum(totals.values())
    disagree = sum(w for (c, k), w in coincidence.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    if expected == 0:
        return None
    return 1 - (n - 1) * disagree / expected


def krippendorff_alpha(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Nominal alpha for two complete raters, via the `krippendorff` package when installed."""
    if len(set(a) | set(b)) < 2:
        return None  # the package raises here; alpha is undefined with one value in the domain
    try:
        import krippendorff
    except ImportError:
        return nominal_alpha([list(a), list(b)])
    domain = sorted(set(a) | set(b), key=repr)
    code = {v: i for i, v in enumerate(domain)}
    data = [[code[v] for v in a], [code[v] for v in b]]
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal",
                                     value_domain=list(range(len(domain)))))


# --- scoring ----------------------------------------------------------------------------

def score(units: Sequence[GoldUnit], predictions, label_sets: Mapping[str, Sequence[str]]):
    """Rows for coding_validation.csv: per label, then __macro__ and __micro__, per set (in
    the order of label_sets).

    Empty when there are no gold units, so the output is a header-only table.
    """
    if not units:
        return []
    rows = []
    for key in label_sets:
        predicted = predictions.get(key, {})
        per_label, gold_all, pred_all = [], [], []
        for label in label_sets[key]:
            gold = [label in u.labels[key] for u in units]
            pred = [label in predicted.get(u.segment_id, ()) for u in units]
            gold_all += gold
            pred_all += pred
            per_label.append(_label_row(key, label, units, gold, pred))
        rows += per_label + _summary_rows(key, len(units), per_label, gold_all, pred_all)
    return rows


def _label_row(key, label, units, gold, pred) -> dict:
    ids = {"tp": [], "fp": [], "fn": []}
    for unit, g, p in zip(units, gold, pred):
        kind = "tp" if g and p else "fn" if g else "fp" if p else None
        if kind:
            ids[kind].append(unit.segment_id)
    tp, fp, fn = (len(ids[k]) for k in ("tp", "fp", "fn"))
    row = _counts_row(key, label, len(units), 1, tp, fp, fn, len(units) - tp - fp - fn)
    row.update(precision=_ratio(tp, tp + fp), recall=_ratio(tp, tp + fn),
               f1=_ratio(2 * tp, 2 * tp + fp + fn), kappa=_fmt(cohen_kappa(gold, pred)),
               alpha=_fmt(krippendorff_alpha(gold, pred)),
               tp_ids=" ".join(ids["tp"]), fp_ids=" ".join(ids["fp"]),
               fn_ids=" ".join(ids["fn"]))
    return row


def _summary_rows(key, n_units, per_label, gold_all, pred_all) -> list[dict]:
    tp, fp, fn, tn = (sum(r[k] for r in per_label) for k in ("tp", "fp", "fn", "tn"))
    active = [r for r in per_label if r["tp"] + r["fp"] + r["fn"] > 0]
    macro = _counts_row(key, MACRO, n_units, len(active), tp, fp, fn, tn)
    for metric in ("precision", "recall", "f1"):
        values = [r[metric] for r in active]
        macro[metric] = _fmt(sum(values) / len(values) if values else None)
    micro = _counts_row(key, MICRO, n_units, len(per_label), tp, fp, fn, tn)
    micro.update(precision=_ratio(tp, tp + fp), recall=_ratio(tp, tp + fn),
                 f1=_ratio(2 * tp, 2 * tp + fp + fn),
                 kappa=_fmt(cohen_kappa(gold_all, pred_all)),
                 alpha=_fmt(krippendorff_alpha(gold_all, pred_all)))
    return [macro, micro]


def _counts_row(key, label, n_units, n_labels, tp, fp, fn, tn) -> dict:
    row = dict.fromkeys(VALIDATION_FIELDS)  # scores None (undefined) until set
    row.update(label_set=key, label=label, n_units=n_units, n_labels=n_labels,
               support=tp + fn, predicted=tp + fp, tp=tp, fp=fp, fn=fn, tn=tn,
               tp_ids="", fp_ids="", fn_ids="")
    return row


def disagreements(units: Sequence[GoldUnit], predictions, codings, facets,
                  label_sets: Mapping[str, Sequence[str]],
                  facet_sets: Mapping[str, str]) -> list[dict]:
    """One row per (unit, label) where gold and pipeline differ, with the rule that fired."""
    evidence = {}
    for row in codings:
        evidence.setdefault((THEMES, row["segment_id"], row["theme"]), row)
    for row in facets:
        if row["facet"] in facet_sets:
            evidence.setdefault((facet_sets[row["facet"]], row["segment_id"], row["value"]), row)
    out = []
    for unit in units:
        for key in label_sets:
            pred = predictions.get(key, {}).get(unit.segment_id, set())
            for label in label_sets[key]:
                g, p = label in unit.labels[key], label in pred
                if g == p:
                    continue
                fired = evidence.get((key, unit.segment_id, label), {})
                out.append({"segment_id": unit.segment_id, "doc_id": unit.doc_id,
                            "label_set": key, "label": label,
                            "error": "false_positive" if p else "false_negative",
                            "in_gold": g, "in_pipeline": p,
                            "gold_source": unit.source, "anchor": unit.anchor,
                            "rule": fired.get("rule", ""),
                            "evidence_text": fired.get("evidence_text", "")})
    return out


def label_sets_from_codebook(codebook: Codebook) -> dict[str, list[str]]:
    """Allowed ids per gold label set (themes, then each facet by its plural), in codebook
    order."""
    return {THEMES: [t.id for t in codebook.themes],
            **{f.plural: [v.id for v in f.values] for f in codebook.facets}}


def facet_sets_from_codebook(codebook: Codebook) -> dict[str, str]:
    """facet id -> the name of its label set (its plural)."""
    return {f.id: f.plural for f in codebook.facets}


def validate(gold_paths, raw_texts, segments, documents, codings, facets,
             label_sets: Mapping[str, Sequence[str]], facet_sets: Mapping[str, str]):
    """(coding_validation rows, coding_disagreements rows); both empty without gold files.
    label_sets and facet_sets as label_sets_from_codebook and facet_sets_from_codebook give."""
    units = load_gold(gold_paths, raw_texts, segments, documents, label_sets)
    predictions = predicted_labels(codings, facets, facet_sets)
    return (score(units, predictions, label_sets),
            disagreements(units, predictions, codings, facets, label_sets, facet_sets))


BY_SET_FIELDS = columns("coding_validation_by_set")


def validate_by_set(gold_paths, tuned, raw_texts, segments, documents, codings, facets,
                    label_sets: Mapping[str, Sequence[str]], facet_sets: Mapping[str, str]):
    """coding_validation_by_set rows: each gold file scored on its own (every label row, then
    __macro__ and __micro__), held-out sets (never used to tune the rules) first, then those in
    `tuned` (paths the configuration says the rules were tuned on), each group by name.

    Pooled scores mix text the rules were written against with text they never saw; scored
    apart, the held-out sets show what to expect on new text."""
    tuned = {str(Path(p)) for p in tuned}
    predictions = predicted_labels(codings, facets, facet_sets)
    rows = []
    for path in sorted(gold_paths, key=lambda p: (str(Path(p)) in tuned, Path(p).name)):
        units = load_gold([path], raw_texts, segments, documents, label_sets)
        flag = str(Path(path)) in tuned
        rows += [{"gold_set": Path(path).stem, "tuned": flag, **r}
                 for r in score(units, predictions, label_sets)]
    return rows


def _ratio(num: int, den: int) -> float:
    return _fmt(num / den if den else 0.0)  # scikit-learn zero_division=0


def _fmt(value: float | None) -> float | None:
    """A score as the table keeps it (four decimals): macro means average these values."""
    return None if value is None else float(f"{value:.4f}") + 0.0  # + 0.0: no -0.0
