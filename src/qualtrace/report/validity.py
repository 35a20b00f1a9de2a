"""Coding validity: the pipeline's coding scored against hand-coded gold units, if any."""
from __future__ import annotations

from collections import defaultdict

from .. import layout
from ..analysis.validation import THEMES
from .data import ReportData
from .markdown import item_part, md_literal, table
from .numbers import Registry

MACRO, MICRO = "__macro__", "__micro__"
UNITS_NOTE = ("Excerpts of every unit are under [gold units scored](#ev-validity-units); "
              "disagreements, with the rule that fired, under [Disagreements](#disagreements).")


def _rows(data: ReportData) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in data.tables["coding_validation"]:
        out[r["label_set"]].append(r)
    return out


def _sets(data: ReportData) -> dict[str, tuple[str, str | None]]:
    """Label set (as coding_validation.csv names it) -> (title in Markdown, facet id or None):
    the themes, then each facet of the codebook under its plural, titled by its label."""
    return {THEMES: ("Themes", None),
            **{f.plural: (md_literal(f.label), f.id) for f in data.codebook.facets}}


def _label(data: ReportData, label_set: str, label: str) -> str:
    if label_set == THEMES:
        return data.theme_label(label)
    facet = _sets(data).get(label_set, ("", None))[1]
    return data.value_label(facet, label) if facet else label


def _ids(row: dict, *cols: str) -> list[str]:
    return sorted({i for c in cols for i in row.get(c, "").split()})


def _score(value: str) -> str:
    return f"{float(value):.2f}" if value not in ("", None) else ""


class _Numbers:
    """Links for one label set's numbers (so prose and tables share item ids)."""

    def __init__(self, reg: Registry, data: ReportData, label_set: str, rows: list[dict],
                 gold_set: str = ""):
        self.reg, self.data, self.set, self.rows = reg, data, label_set, rows
        self.gold_set = gold_set  # one gold file's scores (coding_validation_by_set), or pooled
        self.prefix = f"validity-{item_part(gold_set)}-" if gold_set else "validity-"
        self.query = (f"coding_validation_by_set: gold_set={gold_set}, " if gold_set
                      else "coding_validation: ")
        self.by_label = {r["label"]: r for r in rows}
        labels = [r for r in rows if r["label"] not in (MACRO, MICRO)]
        self.involved = sorted({i for r in labels for i in _ids(r, "tp_ids", "fp_ids",
                                                                    "fn_ids")})
        self.pooled = {c: sorted({i for r in labels for i in _ids(r, c)})
                       for c in ("tp_ids", "fp_ids", "fn_ids")}

    def count(self, label: str, col: str) -> str:
        row = self.by_label[label]
        if label == MICRO:
            segs = self.pooled[f"{col}_ids"]
            notes = ["The count is of (unit, label) decisions, pooled over labels; the "
                     "passages are the units involved."]
        else:
            segs, notes = _ids(row, f"{col}_ids"), []
        notes.append(UNITS_NOTE)
        name = "pooled" if label == MICRO else _label(self.data, self.set, label)
        return self.reg.link(f"{self.prefix}{self.set}-{self._key(label)}-{col}", row[col],
                             f"Validity, {self.gold_set or 'all gold'}, {self.set}, {name}: "
                             f"{col.upper()}",
                             f"{self.query}label_set={self.set}, label={label} ({col})",
                             segs, notes=notes, compact=True)

    def ratio(self, label: str, col: str) -> str:
        row = self.by_label[label]
        if row.get(col, "") == "":
            return "undefined"
        if label in (MACRO, MICRO):
            segs = self.involved if col in ("precision", "recall", "f1") else self.units()
        else:
            cols = {"precision": ("tp_ids", "fp_ids"), "recall": ("tp_ids", "fn_ids"),
                    "f1": ("tp_ids", "fp_ids", "fn_ids")}[col]
            segs = _ids(row, *cols)
        name = {MACRO: "macro average", MICRO: "micro (pooled)"}.get(
            label, _label(self.data, self.set, label))
        over = ("all gold units" if col in ("kappa", "alpha") else
                "the units with a true positive, false positive or false negative")
        where = ("every label's TP, FP and FN" if label in (MACRO, MICRO)
                 else "this label's TP, FP and FN")
        notes = [f"Computed from {over} ({where}); unrounded value "
                 f"{md_literal(row[col])}.", UNITS_NOTE]
        return self.reg.link(f"{self.prefix}{self.set}-{self._key(label)}-{col}",
                             _score(row[col]),
                             f"Validity, {self.gold_set or 'all gold'}, {self.set}, {name}: {col}",
                             f"{self.query}label_set={self.set}, label={label} ({col})",
                             segs, notes=notes, compact=True)

    def units(self) -> list[str]:
        return (self.data.gold_units if not self.gold_set else []) or self.involved

    def n_units(self) -> str:
        row = self.rows[0]
        segs = self.units()
        notes = [] if segs is not self.involved else [
            "Only the units with a positive decision from either coder are listed (the "
            "others carry no label from either)."]
        return self.reg.link(f"{self.prefix}units", row["n_units"],
                             f"Gold units scored{', ' + self.gold_set if self.gold_set else ''}",
                             f"{self.query}n_units (passages: the gold units)", segs,
                             notes=notes)

    @staticmethod
    def _key(label: str) -> str:
        return {MACRO: "macro", MICRO: "micro"}.get(label, label)


def _by_set(data: ReportData) -> list[tuple[str, bool, dict[str, list[dict]]]]:
    """(gold set, tuned?, label set -> rows), held-out sets first (the table's order)."""
    out: dict[str, tuple[bool, dict]] = {}
    for r in data.tables.get("coding_validation_by_set", []):
        tuned, sets = out.setdefault(r["gold_set"], (r["tuned"] == "true", defaultdict(list)))
        sets[r["label_set"]].append(r)
    return [(name, tuned, sets) for name, (tuned, sets) in out.items()]


def gold_sets_context(reg: Registry, data: ReportData) -> dict:
    """Each gold set's size and micro-F1 per label set (links), held-out first, and a
    sentence saying how far the coding's validity was measured on never-tuned text."""
    sets = []
    for name, tuned, by_label in _by_set(data):
        nums = {key: _Numbers(reg, data, key, rows, gold_set=name)
                for key, rows in by_label.items() if MICRO in {r["label"] for r in rows}}
        if not nums:
            continue
        first = next(iter(nums.values()))
        sets.append({"name": name, "tuned": tuned, "units": first.n_units(),
                     "f1": {key: n.ratio(MICRO, "f1") for key, n in nums.items()}})
    held = [s for s in sets if not s["tuned"]]
    tuned = [s for s in sets if s["tuned"]]

    def listed(found):
        return "; ".join(f"*{md_literal(s['name'])}* ({s['units']} units, themes micro-F1 "
                         f"{s['f1'].get('themes', 'not scored')})" for s in found)

    if not sets:
        sentence = ("No hand-coded gold set was given (`data/gold/*.jsonl`), so the coding's "
                    "accuracy was not measured: read its counts as the rules' output.")
    elif held and tuned:
        sentence = (f"Scored against hand-coded gold units. On text the rules were never tuned "
                    f"on: {listed(held)}. On text they were tuned on: {listed(tuned)}; those "
                    "scores are optimistic, because the rules were written while reading that "
                    "text. Expect the held-out figures on new documents.")
    elif held:
        sentence = (f"Scored against hand-coded gold units the rules were never tuned on: "
                    f"{listed(held)}. No set is marked as tuned on (config `gold.tuned_on`).")
    else:
        sentence = (f"Scored only against gold units of text the rules were tuned on: "
                    f"{listed(tuned)}. These scores are optimistic (the rules were written while "
                    "reading that text) and no never-tuned text was scored, so accuracy on new "
                    "documents is unmeasured; add a held-out gold set to measure it.")
    return {"sets": sets, "held_out": held, "tuned": tuned, "sentence": sentence}


def _sets_table(reg: Registry, data: ReportData) -> str:
    found = gold_sets_context(reg, data)["sets"]
    if not found:
        return ""
    sets = _sets(data)
    keys = [k for k in sets if any(k in s["f1"] for s in found)]
    rows = [[f"*{md_literal(s['name'])}*", "tuned on" if s["tuned"] else "held out (never tuned)",
             s["units"], *(s["f1"].get(k, "") for k in keys)] for s in found]
    return ("### By gold set: held-out first {#validity-by-set}\n\n"
            "Each gold file scored on its own. A *held-out* set is text the rules were never "
            "tuned on: its scores are what to expect on new documents. A *tuned-on* set "
            "(config `gold.tuned_on`) is text the rules were written against: its scores are "
            "optimistic. The tables after this one pool every set.\n\n"
            + table(["Gold set", "Rules", "Units", *(f"{sets[k][0]} micro-F1" for k in keys)],
                    rows, "llr" + "r" * len(keys), caption="Micro-F1 by gold set",
                    widths=[5, 5, 2, *([3] * len(keys))], identifier="tbl-validity-by-set"))


def summary(reg: Registry, data: ReportData) -> str:
    by_set = _rows(data)
    if not by_set:
        return ""
    parts, n_units = [], None
    for key, (title, _) in _sets(data).items():
        rows = by_set.get(key)
        if not rows or MICRO not in {r["label"] for r in rows}:
            continue
        nums = _Numbers(reg, data, key, rows)
        n_units = n_units or nums.n_units()
        parts.append(f"{nums.ratio(MICRO, 'f1')} for {title.lower()} (Cohen's kappa "
                     f"{nums.ratio(MICRO, 'kappa')})")
    if not parts:
        return ""
    series = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    return (f"- **Coding validity.** Against {n_units} hand-coded gold units, the automatic "
            f"coding reached a micro-averaged F1 of {series}. See [Coding validity](#validity).")


def section(reg: Registry, data: ReportData) -> str:
    reg.section = "Coding validity"
    head = "## Coding validity {#validity}"
    by_set = _rows(data)
    if not by_set:
        return (f"{head}\n\nNo gold annotations (`data/gold/*.jsonl`) were found, so the "
                "coding was not scored against hand-coded units.")
    parts = [head]
    first = True
    for key, (title, _) in _sets(data).items():
        rows = by_set.get(key)
        if not rows:
            continue
        nums = _Numbers(reg, data, key, rows)
        if first:
            parts.append(
                f"The automatic coding was compared with {nums.n_units()} hand-coded gold "
                "units, one binary decision per unit and label. TP: both coded the label; FP: "
                "only the pipeline did; FN: only the gold did. Precision, recall and F1 follow "
                "scikit-learn with `zero_division=0`; the macro average is over the labels "
                "used by either coder; kappa (Cohen) and alpha (Krippendorff, nominal) are "
                "over every unit x label decision, and are undefined when both coders are "
                "constant.")
            first = False
            per_set = _sets_table(reg, data)
            if per_set:
                parts.append(per_set)
        parts.append(_set_block(nums, title))
    parts.append(_disagreements(data))
    return "\n\n".join(parts)


def _set_block(nums: _Numbers, title: str) -> str:
    body = []
    for r in nums.rows:
        label = r["label"]
        if label in (MACRO, MICRO):
            continue
        body.append([md_literal(_label(nums.data, nums.set, label))]
                    + [nums.count(label, c) for c in ("tp", "fp", "fn")]
                    + [nums.ratio(label, c) for c in ("precision", "recall", "f1")])
    if MACRO in nums.by_label:
        body.append(["*Macro average*", "", "", ""]
                    + [nums.ratio(MACRO, c) for c in ("precision", "recall", "f1")])
    text = [f"### {title} {{#validity-{nums.set}}}"]
    if MICRO in nums.by_label:
        body.append(["*Micro (pooled)*"] + [nums.count(MICRO, c) for c in ("tp", "fp", "fn")]
                    + [nums.ratio(MICRO, c) for c in ("precision", "recall", "f1")])
        macro = (f", macro-F1 {nums.ratio(MACRO, 'f1')}" if MACRO in nums.by_label else "")
        text.append(f"Micro-averaged F1 {nums.ratio(MICRO, 'f1')} (precision "
                    f"{nums.ratio(MICRO, 'precision')}, recall {nums.ratio(MICRO, 'recall')})"
                    f"{macro}; Cohen's kappa {nums.ratio(MICRO, 'kappa')}, Krippendorff's "
                    f"alpha {nums.ratio(MICRO, 'alpha')}.")
    text.append(table(["Label", "TP", "FP", "FN", "Precision", "Recall", "F1"], body,
                      "lrrrrrr", caption=f"Agreement with the gold coding: {title.lower()}",
                      widths=[8, 2, 2, 2, 3, 3, 2], identifier=f"tbl-validity-{nums.set}"))
    return "\n\n".join(text)


def _disagreements(data: ReportData) -> str:
    rows = data.tables["coding_disagreements"]
    head = "### Disagreements {#disagreements}"
    if not rows:
        return f"{head}\n\nThe pipeline and the gold agree on every unit and label."
    by_set: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_set[r["label_set"]].append(r)
    parts = [head, "Where the pipeline and the gold differ: a false positive is a label only "
                   "the pipeline applied (with the rule and the words it fired on), a false "
                   "negative one only the gold applied (also in "
                   f"`{layout.table('coding_disagreements')}`)."]
    for key, (title, _) in _sets(data).items():
        found = by_set.get(key, [])
        if not found:
            continue
        body = []
        for r in found:
            seg = data.segment.get(r["segment_id"], {})
            where = (f"{md_literal(data.short_chapter(r['doc_id']))}, line "
                     f"{seg.get('line', '?')}, `{r['segment_id']}`")
            fired = (f"{md_literal(r['rule'])}: \u201c{md_literal(_clip(r['evidence_text']))}"
                     "\u201d" if r["rule"] else "")
            body.append([where, md_literal(_clip(r["anchor"], 90)),
                         md_literal(_label(data, key, r["label"])),
                         md_literal(r["error"].replace("_", " ")), fired])
        parts.append(f"**{title}.**")
        parts.append(table(["Where", "Passage starts", "Label", "Error", "Pipeline rule"], body,
                           "lllll", widths=[4, 8, 4, 3, 6]))
    return "\n\n".join(parts)


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " \u2026"
