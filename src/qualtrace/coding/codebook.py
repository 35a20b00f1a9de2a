"""Load, validate and compile the codebook (config/codebook.yaml).

Validation reports `file:line:col: what is wrong` because the codebook is edited by researchers:
an error that says only "invalid" costs them an afternoon. YAML is composed (not just loaded) so
every key and value keeps its position (qualtrace.common.yamlcheck); the JSON-Schema catches shape
errors, then semantic checks catch what a schema cannot (duplicate ids, unknown references, terms
that do not compile). Terms and the matcher that finds them live in qualtrace.coding.matcher.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import SCHEMA_DIR
from ..common.io import InputError, formula_start
from .inflect import inflections
from .matcher import Matcher, TermSyntaxError, term_regex
from ..common.yamlcheck import Reporter, load_with_positions, validate


SCHEMA_PATH = SCHEMA_DIR / "codebook.schema.yaml"
DEFAULT_CODE_KINDS = ("key_point", "paragraph", "quote", "list_item")
DEFAULT_WITHIN = 8
# `requires:` asks for its cue anywhere in the term's sentence; no sentence runs this long.
REQUIRES_WITHIN = 200


class CodebookError(InputError, ValueError):
    """A codebook that cannot be used; the message names file, line and problem."""


# ---------------------------------------------------------------- error reporting
_KINDS = {"themes": "theme", "facets": "facet", "values": "value", "rules": "rule"}
# Constraints whose schema wording would not help a researcher.
_MESSAGES = {"oneOf": "must have exactly one of 'any', 'all' or 'near'"}


def _context(data, path) -> str:
    """Name the innermost object with an id ('rule 'x/y'') so the message reads alone."""
    node, found = data, ""
    for i, step in enumerate(path):
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        parent = path[i - 1] if i else None
        if isinstance(node, dict) and isinstance(node.get("id"), str) and parent in _KINDS:
            found = f"{_KINDS[parent]} {node['id']!r}"
    return found


def facet_plural(spec: dict) -> str:
    """A facet's name in the plural: its `plural:` if the codebook gives one, else its id + "s"
    (facet `speaker_role` -> `speaker_roles`). It is the key of the facet's labels in a gold JSONL
    line (SPEC "Gold annotations") and the facet's `label_set` in coding_validation.csv."""
    return spec.get("plural") or spec["id"] + "s"


# Keys of a gold JSONL line that are not a facet's: a facet's plural may not be one of them.
GOLD_RESERVED_KEYS = ("doc", "anchor", "themes")


def _schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- public API
@dataclass
class Rule:
    id: str
    label: str                 # theme id, or value id for facet rules
    kind: str                  # any | all | near
    groups: list[list[int]]    # term indices: [terms] for any, one list per group for all, [a, b]
    within: int = DEFAULT_WITHIN
    order: str = "any"
    same_sentence: bool = True
    min_hits: int = 1
    unless: list[int] = field(default_factory=list)
    not_with: list[int] = field(default_factory=list)
    kinds: frozenset | None = None
    section: list[int] = field(default_factory=list)
    # only quotations attributed to one of these values of the facet with an `attribution:`
    speakers: frozenset | None = None
    index: int = 0             # codebook order, for deterministic tie-breaks
    trigger: int = 0           # the group whose hits make the rule worth evaluating
    lazy_terms: tuple = ()     # regex terms in the rule's groups, scanned when it is evaluated
    lazy_unless: tuple = ()    # regex terms in unless, scanned only near hits if it would fire
    lazy_not_with: tuple = ()  # regex terms in not_with, scanned (whole unit) if it would fire
    group_sets: tuple = ()     # the groups as frozensets, for fast intersection with hits
    plain_sets: tuple = ()     # the groups without regex terms (their hits are known up front)


@dataclass
class Label:
    id: str
    label: str
    definition: str
    rules: list[Rule]
    unless: list[int] = field(default_factory=list)
    suppressed_by: list[str] = field(default_factory=list)
    speaker_groups: list[str] = field(default_factory=list)
    speaker_terms: list[int] = field(default_factory=list)
    lazy_terms: tuple = ()


@dataclass
class Facet:
    id: str
    label: str
    values: list[Label]
    # The facet's name in the plural (see facet_plural): its gold key and validation label set.
    plural: str = ""
    fallback: list[Rule] = field(default_factory=list)
    attribution_rule: str | None = None
    inherit_rule: str | None = None
    inherit_kinds: frozenset = frozenset()
    # Units with no value of their own take the values their section or chapter attributes
    # (qualtrace.coding.context.inherit_context); None when the facet has no `context:`.
    context: "Context | None" = None


@dataclass(frozen=True)
class Context:
    rule: str
    kinds: frozenset
    replaces: frozenset   # fallback rule ids whose answer the context overrides
    exclude: frozenset    # values never taken from context (e.g. the research voice)
    min_share: float = 0.0  # a value is taken when at least this share of the sources report it
    chapter_kinds: frozenset = frozenset()  # kinds that look at the chapter, never the section
    nearest: int = 12  # how many of the nearest qualifying attributed units are consulted


@dataclass
class Codebook:
    path: str
    themes: list[Label]
    facets: list[Facet]
    matcher: Matcher
    code_kinds: frozenset
    raw: dict
    # The coding engine compiled from this codebook (qualtrace.coding.engine), made on first use.
    engine: object = field(default=None, init=False, repr=False, compare=False)

    def eager_regex_terms(self) -> list[int]:
        """Regex terms that must be scanned up front: those a rule is triggered by."""
        labels = list(self.themes) + [v for f in self.facets for v in f.values]
        rules = [r for lab in labels for r in lab.rules] + [r for f in self.facets for r in f.fallback]
        regex = set(self.matcher.regex_terms)
        return sorted({t for r in rules for t in r.groups[r.trigger] if t in regex})

    def voice_facet(self) -> Facet | None:
        """The facet that says whose view a unit reports: the first whose quotations take
        their value from the attribution (`attribution:`), or None."""
        return next((f for f in self.facets if f.attribution_rule), None)

    def rule_ids(self) -> list[str]:
        labels = list(self.themes) + [v for f in self.facets for v in f.values]
        ids = [r.id for lab in labels for r in lab.rules]
        ids += [r.id for f in self.facets for r in f.fallback]
        ids += [f.attribution_rule for f in self.facets if f.attribution_rule]
        ids += [f.inherit_rule for f in self.facets if f.inherit_rule]
        ids += [f.context.rule for f in self.facets if f.context]
        return ids


def load_codebook(path: str | Path, schema: dict | None = None, *,
                  terms: bool = True) -> Codebook:
    """Read, validate and compile; raise CodebookError naming file:line on any problem.

    `terms=False` loads the structure only (themes, facets, values, rules and their ids, all
    references checked) without compiling the terms into the matcher: the exports, checks and
    report need no matcher, and compiling thousands of term patterns cost each of those jobs
    about a second. Term syntax is then checked by the coding job, which every build runs.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CodebookError(f"{name}: cannot read the codebook: {err}") from None
    return parse_codebook(text, name, schema, terms=terms)


def parse_codebook(text: str, name: str = "<codebook>", schema: dict | None = None, *,
                   terms: bool = True) -> Codebook:
    data, positions = load_with_positions(text, name, CodebookError, "the codebook")
    rep = validate(data, positions, schema or _schema(), name, CodebookError, _context,
                   _MESSAGES)
    return compile_codebook(data, rep, terms=terms)


# ---------------------------------------------------------------- compilation
class _TermNames:
    """Stands in for the Matcher in a structure-only load: numbers each distinct term, compiles
    nothing, finds nothing (a Codebook holding it cannot code)."""

    regex_terms = frozenset()

    def __init__(self):
        self.origin: dict[int, str] = {}
        self.terms: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, term: str) -> int:
        if term not in self._index:
            self._index[term] = len(self.terms)
            self.terms.append(term)
        return self._index[term]

    def build(self) -> None:
        pass


class _Compiler:
    def __init__(self, rep: Reporter, terms: bool = True):
        self.rep = rep
        self.data = rep.data
        self.matcher = Matcher() if terms else _TermNames()
        self.vocab = self.data.get("vocab", {})
        self.rule_ids: dict[str, tuple] = {}
        self.rule_count = 0
        self.speaker_refs: list[tuple] = []  # (rule id, path, speakers) of rules naming speakers
        self.defaults = self.data.get("settings", {})
        # plain terms also match the plural and verb forms of their last word (qualtrace.coding.inflect)
        self.inflect = self.defaults.get("inflect", True)
        self.terms_real = terms

    def terms(self, items, path, owner: str = "") -> list[int]:
        """Expand @vocab references and register every term; return term indices. `owner`
        names what the terms serve (e.g. "rule 'x/y'"), for messages about regex terms."""
        out: list[int] = []
        owner = owner or _context(self.data, tuple(path))
        for i, item in enumerate(items):
            if item.startswith("@"):
                ref = item[1:]
                if ref not in self.vocab:
                    hint = difflib.get_close_matches(ref, list(self.vocab), n=1)
                    self.rep.fail(list(path) + [i], f"refers to unknown vocab list {item!r}"
                                  + (f" (did you mean '@{hint[0]}'?)" if hint else ""))
                out.extend(self.terms(self.vocab[ref], ("vocab", ref), owner))
                continue
            try:
                t = self.matcher.add(item)
            except TermSyntaxError as err:
                self.rep.fail(list(path) + [i], str(err))
            if item.strip().startswith("re:") and t not in self.matcher.origin:
                where = self.rep.where(list(path) + [i])
                self.matcher.origin[t] = f"{where}: {owner}" if owner else where
            out.append(t)
            if self.inflect and self.terms_real:
                out.extend(self.matcher.add(form) for form in inflections(item))
        return list(dict.fromkeys(out))

    def rule(self, spec: dict, path: tuple, owner: str, label: str) -> Rule:
        rid = spec["id"]
        if rid in self.rule_ids:
            line = self.rep.where(self.rule_ids[rid]).split(":")[1]
            self.rep.fail(path + ("id",), f"duplicate rule id {rid!r} (first defined at line "
                                          f"{line})")
        if not rid.startswith(owner + "/"):
            self.rep.fail(path + ("id",), f"id must start with {owner + '/'!r} so a coding row "
                                          "names where its rule lives")
        self.rule_ids[rid] = path + ("id",)
        if "value" in spec and path[-2] != "fallback":
            self.rep.fail(path + ("value", "<key>"), "'value' belongs only to a facet's fallback "
                                                     "rules (a rule under a label codes that label)")
        forms = [k for k in ("any", "all", "near") if k in spec]
        if len(forms) != 1:
            self.rep.fail(path, "must have exactly one of 'any', 'all' or 'near'")
        kind = forms[0]
        within = self.defaults.get("default_within", DEFAULT_WITHIN)
        order, same_sentence = "any", True
        if "requires" in spec:
            if kind != "any" or spec.get("min_hits", 1) != 1:
                self.rep.fail(path + ("requires", "<key>"), "'requires' goes with 'any' (and no "
                                                            "min_hits): a term and its cue")
            # A term and a cue in one sentence: a proximity over the whole sentence, so the
            # evidence shows both.
            kind, within = "near", REQUIRES_WITHIN
            groups = [self.terms(spec["any"], path + ("any",)),
                      self.terms(spec["requires"], path + ("requires",))]
        elif kind == "any":
            groups = [self.terms(spec["any"], path + ("any",))]
        elif kind == "all":
            groups = [self.terms(g, path + ("all", i)) for i, g in enumerate(spec["all"])]
        else:
            near = spec["near"]
            groups = [self.terms(near["a"], path + ("near", "a")),
                      self.terms(near["b"], path + ("near", "b"))]
            within = near.get("within", within)
            order = near.get("order", "any")
            same_sentence = near.get("same_sentence", True)
        kinds = spec.get("kinds")
        speakers = spec.get("speakers")
        if speakers:  # checked against the attributing facet's values once facets are known
            self.speaker_refs.append((rid, path + ("speakers",), speakers))
        self.rule_count += 1
        rule = Rule(
            id=rid, label=label, kind=kind, groups=groups, within=within, order=order,
            same_sentence=same_sentence, min_hits=spec.get("min_hits", 1),
            unless=self.terms(spec.get("unless", []), path + ("unless",)),
            not_with=self.terms(spec.get("not_with", []), path + ("not_with",)),
            kinds=frozenset(kinds) if kinds else None,
            section=self.terms(spec.get("section", []), path + ("section",)),
            speakers=frozenset(speakers) if speakers else None,
            index=self.rule_count)
        # Regex terms cost a pass each: trigger on a group of plain terms where there is one, and
        # scan the rule's regex terms only once the plain terms make it worth evaluating.
        regex = {t for t in self.matcher.regex_terms}
        plain = [i for i, g in enumerate(rule.groups) if not regex.intersection(g)]
        if kind != "any" and plain:
            rule.trigger = plain[0]
        rule.lazy_terms = tuple(sorted(regex.intersection(t for g in rule.groups for t in g)))
        rule.lazy_unless = tuple(sorted(regex.intersection(rule.unless)))
        rule.lazy_not_with = tuple(sorted(regex.intersection(rule.not_with)))
        rule.group_sets = tuple(frozenset(g) for g in rule.groups)
        rule.plain_sets = tuple(g for g in rule.group_sets if not regex.intersection(g))
        return rule

    def check_label(self, label: str, path: tuple) -> None:
        """Labels reach spreadsheet cells (the Taguette CSV, report_numbers.csv, the breakdown
        tables): one a spreadsheet would run as a formula is refused."""
        first = formula_start(label)
        if first:
            self.rep.fail(list(path) + ["label"], f"label {label!r} starts with {first!r}, which "
                          "a spreadsheet would run as a formula; start it with a letter or digit")

    def label(self, spec: dict, path: tuple, owner: str) -> Label:
        self.check_label(spec["label"], path)
        lab = Label(
            id=spec["id"], label=spec["label"], definition=spec["definition"].strip(),
            rules=[self.rule(r, path + ("rules", i), owner, spec["id"])
                   for i, r in enumerate(spec.get("rules", []))],
            unless=self.terms(spec.get("unless", []), path + ("unless",)),
            suppressed_by=list(spec.get("suppressed_by", [])),
            speaker_groups=list(spec.get("speaker_groups", [])),
            speaker_terms=self.terms(spec.get("speaker_terms", []), path + ("speaker_terms",)))
        lab.lazy_terms = tuple(t for t in lab.unless if t in self.matcher.regex_terms)
        return lab

    def context(self, f: dict, fpath: tuple, facet: Facet) -> Context:
        spec = f["context"]
        fallback_ids = {r.id for r in facet.fallback}
        value_ids = {v.id for v in facet.values}
        for i, rid in enumerate(spec.get("replaces", [])):
            if rid not in fallback_ids:
                self.rep.fail(fpath + ("context", "replaces", i),
                              f"{rid!r} is not a fallback rule of facet {f['id']!r}")
        for i, value in enumerate(spec.get("exclude", [])):
            if value not in value_ids:
                self.rep.fail(fpath + ("context", "exclude", i),
                              f"{value!r} is not a value of facet {f['id']!r}")
        return Context(spec["rule"], frozenset(spec["kinds"]),
                       frozenset(spec.get("replaces", [])), frozenset(spec.get("exclude", [])),
                       float(spec.get("min_share", 0.0)), frozenset(spec.get("chapter_kinds", [])),
                       int(spec.get("nearest", 12)))

    def fallback(self, facet: dict, fpath: tuple, values: list[Label]) -> list[Rule]:
        ids = [v.id for v in values]
        rules = []
        for i, spec in enumerate(facet.get("fallback", [])):
            path = fpath + ("fallback", i)
            value = spec.get("value")
            if value not in ids:
                hint = difflib.get_close_matches(str(value), ids, n=1)
                self.rep.fail(path + ("value",) if value else path,
                              f"names unknown {facet['id']} value {value!r}"
                              + (f" (did you mean {hint[0]!r}?)" if hint else "")
                              + f"; known: {', '.join(ids)}")
            rules.append(self.rule(spec, path, facet["id"], value))
        return rules

    def check_ids(self, items, path, what):
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item["id"] in seen:
                first = self.rep.where(list(path) + [seen[item["id"]]]).split(":")[1]
                self.rep.fail(list(path) + [i, "id"],
                              f"duplicate {what} id {item['id']!r} (first at line {first})")
            seen[item["id"]] = i

    def check_plural(self, facet: Facet, before: list[Facet], fpath: tuple, given: bool):
        """Two label sets with one name would mix in the gold and in coding_validation.csv."""
        where = list(fpath) + (["plural"] if given else ["id"])
        clash = next((f.id for f in before if f.plural == facet.plural), None)
        if facet.plural in GOLD_RESERVED_KEYS or clash:
            other = f"the plural of facet {clash!r}" if clash else "a reserved gold key"
            self.rep.fail(where, f"is named {facet.plural!r} in the plural (its gold key and "
                          f"label set), which is {other}; give it another `plural:`")

    def check_refs(self, labels: list[Label], specs, path, what):
        ids = [lab.id for lab in labels]
        for i, lab in enumerate(labels):
            for j, ref in enumerate(lab.suppressed_by):
                if ref not in ids or ref == lab.id:
                    hint = difflib.get_close_matches(ref, ids, n=1)
                    self.rep.fail(list(path) + [i, "suppressed_by", j],
                                  f"names unknown {what} {ref!r}"
                                  + (f" (did you mean {hint[0]!r}?)" if hint else ""))

    def check_speakers(self, facets: list[Facet]) -> None:
        """A rule's `speakers:` names values of the facet that says whose a quotation is (the
        one with an `attribution:` rule)."""
        attributing = [f for f in facets if f.attribution_rule]
        ids = [v.id for f in attributing for v in f.values]
        for rid, path, speakers in self.speaker_refs:
            if not attributing:
                self.rep.fail(path, f"rule {rid!r} names speakers, but no facet has an "
                                    "`attribution:` rule to say whose a quotation is")
            for i, value in enumerate(speakers):
                if value not in ids:
                    hint = difflib.get_close_matches(str(value), ids, n=1)
                    self.rep.fail(path + (i,), f"names unknown speaker value {value!r}"
                                  + (f" (did you mean {hint[0]!r}?)" if hint else "")
                                  + f"; known: {', '.join(ids)}")

    def compile(self) -> Codebook:
        data = self.data
        for name, items in self.vocab.items():
            self.terms(items, ("vocab", name))
        self.check_ids(data["themes"], ["themes"], "theme")
        themes = [self.label(t, ("themes", i), t["id"]) for i, t in enumerate(data["themes"])]
        self.check_refs(themes, data["themes"], ["themes"], "theme")
        self.check_ids(data.get("facets", []), ["facets"], "facet")
        facets = []
        for i, f in enumerate(data.get("facets", [])):
            fpath = ("facets", i)
            self.check_label(f["label"], fpath)
            self.check_ids(f["values"], list(fpath) + ["values"], f"{f['id']} value")
            values = [self.label(v, fpath + ("values", j), f["id"])
                      for j, v in enumerate(f["values"])]
            self.check_refs(values, f["values"], list(fpath) + ["values"], f"{f['id']} value")
            facet = Facet(id=f["id"], label=f["label"], values=values,
                          fallback=self.fallback(f, fpath, values), plural=facet_plural(f))
            self.check_plural(facet, facets, fpath, "plural" in f)
            for key in ("attribution", "inherit", "context"):
                if key in f:
                    rid = f[key]["rule"]
                    rpath = fpath + (key, "rule")
                    if not rid.startswith(f["id"] + "/"):
                        self.rep.fail(rpath, f"rule id {rid!r} must start with {f['id'] + '/'!r}")
                    if rid in self.rule_ids:
                        self.rep.fail(rpath, f"duplicate rule id {rid!r}")
                    self.rule_ids[rid] = rpath
            if "attribution" in f:
                facet.attribution_rule = f["attribution"]["rule"]
            if "inherit" in f:
                facet.inherit_rule = f["inherit"]["rule"]
                facet.inherit_kinds = frozenset(f["inherit"]["kinds"])
            if "context" in f:
                facet.context = self.context(f, fpath, facet)
            facets.append(facet)
        self.check_speakers(facets)
        kinds = data.get("settings", {}).get("code_kinds", DEFAULT_CODE_KINDS)
        self.matcher.build()
        return Codebook(self.rep.name, themes, facets, self.matcher, frozenset(kinds), data)


def compile_codebook(data: dict, rep: Reporter | None = None, *, terms: bool = True) -> Codebook:
    """Compile validated codebook data into rules over one shared term matcher (or, with
    `terms=False`, the structure only: see load_codebook)."""
    rep = rep or Reporter("<codebook>", data, {}, CodebookError, _context)
    return _Compiler(rep, terms).compile()


__all__ = ["CodebookError", "Codebook", "Label", "Facet", "Rule", "facet_plural",
           "load_codebook", "parse_codebook", "compile_codebook", "term_regex", "Matcher",
           "TermSyntaxError"]
