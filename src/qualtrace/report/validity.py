"""Coding validity: the pipeline's coding scored against hand-coded gold units, if any."""
from __future__ import annotations

from collections import defaultdict

from .. import layout
from ..analysis.gold_scores import RATIOS, SetScore, shown
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
        if row.get(col) is None:
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
                 f"{md_literal(f'{row[col]:.4f}')}.", UNITS_NOTE]
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
        tuned, sets = out.setdefault(r["gold_set"], (r["tuned"], defaultdict(list)))
        sets[r["label_set"]].append(r)
    return [(name, tuned, sets) for name, (tuned, sets) in out.items()]


def _corpus_sets(reg: Registry, data: ReportData) -> list[dict]:
    """This corpus's gold files, each with its size and micro scores per label set (links)."""
    sets = []
    for name, tuned, by_label in _by_set(data):
        nums = {key: _Numbers(reg, data, key, rows, gold_set=name)
                for key, rows in by_label.items() if MICRO in {r["label"] for r in rows}}
        if not nums:
            continue
        first = next(iter(nums.values()))
        sets.append({"name": name, "tuned": tuned, "units": first.n_units(), "own": True,
                     "scores": {key: {c: (n.ratio(MICRO, c), _value(n.by_label[MICRO][c]))
                                      for c in RATIOS} for key, n in nums.items()}})
    return sets


def _value(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def _external_link(reg: Registry, data: ReportData, score: SetScore, column: str) -> str:
    """A number of the scores file, registered with its file, line and column."""
    raw = getattr(score, column)
    what = "units" if column == "n_units" else f"micro {column}"
    status = "tuned on" if score.tuned else "held out, never tuned on"
    notes = [f"The rules' coding of gold set *{md_literal(score.gold_set)}* ({status}) "
             f"against its hand-coding, label set {md_literal(score.label_set)}"
             + (f"; unrounded value {md_literal(raw)}." if column != "n_units" else "."),
             f"Measured by the command {md_literal(score.command)} (the file's `command` "
             f"column), with the codebook of sha256 `{score.codebook_sha256}`: "
             f"{_codebook_phrase(data, score)}."]
    return reg.link(
        f"validity-external-{item_part(score.gold_set)}-{score.label_set}-{column}",
        shown(score, column),
        f"Validity, gold set {score.gold_set} ({status}), {score.label_set}: {what}",
        f"{data.external_path}: gold_set={score.gold_set}, label_set={score.label_set} "
        f"({column})", (), notes=notes, source=f"{data.external_path}:{score.line}:{column}")


def _build_codebook(data: ReportData) -> str:
    return (data.manifest.get("codebook") or {}).get("sha256", "")


def _codebook_phrase(data: ReportData, score: SetScore) -> str:
    if score.codebook_sha256 == _build_codebook(data):
        return "the codebook of this build"
    return "an earlier version of the codebook, not the one of this build"


def _external_sets(reg: Registry, data: ReportData) -> list[dict]:
    """The scores file's gold sets, in file order, with size and micro scores (links)."""
    found: dict[str, dict] = {}
    for score in data.external:
        entry = found.setdefault(score.gold_set, {
            "name": score.gold_set, "tuned": score.tuned, "own": False, "scores": {},
            "units": {}, "rows": []})
        entry["units"][score.label_set] = _external_link(reg, data, score, "n_units")
        entry["scores"][score.label_set] = {
            c: (_external_link(reg, data, score, c), _value(getattr(score, c))) for c in RATIOS}
        entry["rows"].append(score)
    return list(found.values())


def _titles(data: ReportData, sets: list[dict]) -> dict[str, str]:
    """Label set id -> its name in prose (lower case), in codebook order, then any other."""
    known = {key: title for key, (title, _) in _sets(data).items()}
    keys = [k for k in known if any(k in s["scores"] for s in sets)]
    keys += sorted({k for s in sets for k in s["scores"]} - set(keys))
    return {k: (known[k] if k in known else md_literal(k.replace("_", " "))).lower()
            for k in keys}


def _range(sets: list[dict], key: str, column: str) -> str:
    """The lowest and highest of a score over the sets, as links ("0.57\u20130.74")."""
    found = sorted((s["scores"][key][column] for s in sets
                    if key in s["scores"] and s["scores"][key][column][1] is not None),
                   key=lambda pair: pair[1])
    if not found:
        return "undefined"
    low, high = found[0], found[-1]
    return low[0] if _score(str(low[1])) == _score(str(high[1])) else f"{low[0]}\u2013{high[0]}"


def _mean(sets: list[dict], key: str, column: str) -> float | None:
    values = [s["scores"][key][column][1] for s in sets
              if key in s["scores"] and s["scores"][key][column][1] is not None]
    return sum(values) / len(values) if values else None


# A label set's precision and recall are quoted beside its F1 when, on average over the
# held-out sets, one is this much below the other: the reader should know which part is weak.
WEAK_GAP = 0.05


def _scores_phrase(data: ReportData, sets: list[dict], detail: bool) -> str:
    """"themes 0.57-0.74 (recall, 0.48-0.77, is the weaker part; precision 0.65-0.72),
    areas ..." over the sets; `detail`: say which of precision and recall is weaker."""
    parts = []
    for key, title in _titles(data, sets).items():
        text = f"{title} {_range(sets, key, 'f1')}"
        precision, recall = _mean(sets, key, "precision"), _mean(sets, key, "recall")
        if detail and precision is not None and recall is not None and \
                abs(precision - recall) >= WEAK_GAP:
            weak, strong = (("recall", "precision") if recall < precision
                            else ("precision", "recall"))
            text += (f" ({weak}, {_range(sets, key, weak)}, is the weaker part; {strong} "
                     f"{_range(sets, key, strong)})")
        parts.append(text)
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


def _named(sets: list[dict]) -> str:
    names = [f"*{md_literal(s['name'])}*" for s in sets]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def _group_phrase(data: ReportData, found: list[dict], detail: bool) -> str:
    """The scores of a group of sets: over the other corpora's sets, then over this corpus's
    own gold files, each followed by the sets' names."""
    other = [s for s in found if not s["own"]]
    own = [s for s in found if s["own"]]
    parts = []
    if other:
        parts.append(f"{_scores_phrase(data, other, detail)} on {_named(other)}")
    if own:
        parts.append(f"{_scores_phrase(data, own, detail)} on this corpus's own gold "
                     f"({_named(own)})")
    return "; ".join(parts)


MEANING = ("These scores estimate how closely the rules' codes would match careful hand-coding "
           "of new documents like the gold texts (precision: the share of the rules' codes the "
           "hand-coders also applied; recall: the share of the hand-coders' codes the rules "
           "found; F1 balances the two, micro-averaged over a label set's labels); they are "
           "not a guarantee for other kinds of text or other studies, and they do not correct "
           "the counts elsewhere in this report, which are the rules' output after any "
           "researcher review.")


def gold_sets_context(reg: Registry, data: ReportData) -> dict:
    """Every scored gold set (the scores file's, then this corpus's own), held-out first, and
    the sentences that quote them: `headline` (held-out scores, then tuned), `sentence` (the
    headline with what the numbers mean, for How to read)."""
    sets = _external_sets(reg, data) + _corpus_sets(reg, data)
    held = [s for s in sets if not s["tuned"]]
    tuned = [s for s in sets if s["tuned"]]
    if not sets:
        return {"sets": [], "held_out": [], "tuned": [], "headline": "",
                "sentence": "No hand-coded gold set was given (`data/gold/*.jsonl`) and no "
                            "scores on other gold corpora (config `validity.external_scores`), "
                            "so the coding's accuracy was not measured: read its counts as the "
                            "rules' output."}
    said = []
    if held:
        said.append(f"On gold text the rules were never tuned on, micro-F1 was "
                    f"{_group_phrase(data, held, detail=True)}.")
    if tuned:
        said.append(f"On text they were tuned on it was "
                    f"{_group_phrase(data, tuned, detail=False)}; those scores are optimistic, "
                    "because the rules were written while reading that text"
                    + (": expect the held-out figures on new documents." if held else "."))
    if not held:
        said.append("No never-tuned text was scored, so accuracy on new documents is "
                    "unmeasured; add a held-out gold set to measure it.")
    if any(r.codebook_sha256 != _build_codebook(data) for r in data.external):
        said.append("Some of these scores were measured with an earlier version of the "
                    "codebook, not the one of this build.")
    headline = " ".join(said)
    note = (f" *About the sets in {md_literal(data.external_path)}:* "
            f"{md_literal(data.external_note.strip())}" if data.external_note.strip() else "")
    return {"sets": sets, "held_out": held, "tuned": tuned, "headline": headline,
            "sentence": f"{headline}{note} {MEANING}"}


def _sets_table(reg: Registry, data: ReportData) -> str:
    found = _corpus_sets(reg, data)
    if not found:
        return ""
    sets = _sets(data)
    keys = [k for k in sets if any(k in s["scores"] for s in found)]
    found = [s for s in found if not s["tuned"]] + [s for s in found if s["tuned"]]
    rows = [[f"*{md_literal(s['name'])}*", "tuned on" if s["tuned"] else "held out (never tuned)",
             s["units"], *(s["scores"].get(k, {}).get("f1", ("",))[0] for k in keys)]
            for s in found]
    return ("### By gold set: held-out first {#validity-by-set}\n\n"
            "Each gold file scored on its own. A *held-out* set is text the rules were never "
            "tuned on: its scores are what to expect on new documents. A *tuned-on* set "
            "(config `gold.tuned_on`) is text the rules were written against: its scores are "
            "optimistic. The tables after this one pool every set.\n\n"
            + table(["Gold set", "Rules", "Units", *(f"{sets[k][0]} micro-F1" for k in keys)],
                    rows, "llr" + "r" * len(keys), caption="Micro-F1 by gold set",
                    widths=[5, 5, 2, *([3] * len(keys))], identifier="tbl-validity-by-set"))


def summary(reg: Registry, data: ReportData) -> str:
    """The key finding: held-out scores first, then tuned-on ones (the same links as below)."""
    found = gold_sets_context(reg, data)
    if not found["sets"]:
        return ""
    return (f"- **Coding validity.** {found['headline']} See [Coding validity](#validity).")


def _external_section(reg: Registry, data: ReportData) -> list[str]:
    """The scores on other gold corpora: held-out sets, then tuned-on ones, then whether they
    were measured with this build's codebook."""
    if not data.external_path:
        return ["No scores measured on other gold corpora were given (config "
                "`validity.external_scores`), so the only measure of the coding's accuracy is "
                "this corpus's own gold, below."]
    sets = _external_sets(reg, data)
    held = [s for s in sets if not s["tuned"]]
    tuned = [s for s in sets if s["tuned"]]
    note = f"{md_literal(data.external_note.strip())} " if data.external_note.strip() else ""
    parts = [f"Scores of these rules on other hand-coded gold corpora, from "
             f"{md_literal(data.external_path)} (one row per gold set and label set, with the "
             f"command that measured it). {note}{MEANING}"]
    for title, anchor, found, intro in (
            ("Held-out gold sets: never tuned on", "validity-held-out", held,
             "The rules were never adjusted while reading these texts: what to expect on new "
             "documents."),
            ("Tuned-on gold sets", "validity-tuned", tuned,
             "The rules were written or adjusted while reading these texts, so their scores "
             "are optimistic: they show the rules do what they were written to do, not how "
             "they do on new text.")):
        if not found:
            parts.append(f"### {title} {{#{anchor}}}\n\nThe scores file has no such set.")
            continue
        parts.append(f"### {title} {{#{anchor}}}\n\n{intro}\n\n" + _external_table(
            data, found, f"Micro-averaged scores on {title[0].lower() + title[1:]}",
            f"tbl-{anchor}"))
    parts.append(_codebook_sentence(data))
    return parts


def _external_table(data: ReportData, sets: list[dict], caption: str, identifier: str) -> str:
    titles = _titles(data, sets)
    body = []
    for s in sets:
        for key, title in titles.items():
            if key not in s["scores"]:
                continue
            scores = s["scores"][key]
            body.append([f"*{md_literal(s['name'])}*", title.capitalize(), s["units"][key],
                         *(scores[c][0] for c in RATIOS)])
    commands = sorted({r.command for s in sets for r in s["rows"]})
    listed = "; ".join(md_literal(c) for c in commands)
    return (table(["Gold set", "Label set", "Units", "Precision", "Recall", "F1"], body,
                  "llrrrr", caption=caption, widths=[4, 4, 2, 3, 3, 2], identifier=identifier)
            + f"\n\nTo measure them again: {listed}.")


def _codebook_sentence(data: ReportData) -> str:
    build = _build_codebook(data)
    other = sorted({r.gold_set for r in data.external if r.codebook_sha256 != build})
    if not other:
        return (f"Every score above was measured with the codebook of this build (sha256 "
                f"`{build}`).")
    listed = ", ".join(f"*{md_literal(n)}*" for n in other)
    hashes = sorted({r.codebook_sha256 for r in data.external if r.codebook_sha256 != build})
    return (f"**The scores of {listed} were measured with an earlier version of the codebook**"
            f" (sha256 {', '.join(f'`{h}`' for h in hashes)}), not the one of this build "
            f"(sha256 `{build or 'not recorded'}`): the rules may have changed since. Run the "
            "commands above again to measure the current rules.")


def section(reg: Registry, data: ReportData) -> str:
    reg.section = "Coding validity"
    head = "## Coding validity {#validity}"
    parts = [head, *_external_section(reg, data)]
    by_set = _rows(data)
    if not by_set:
        parts.append("### This corpus's gold {#validity-corpus}\n\nNo gold annotations "
                     "(`data/gold/*.jsonl`) were found, so the coding of this corpus was not "
                     "scored against hand-coded units.")
        return "\n\n".join(parts)
    parts.append("### This corpus's gold {#validity-corpus}")
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
