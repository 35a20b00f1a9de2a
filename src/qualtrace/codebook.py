"""Load, validate and compile the codebook (config/codebook.yaml).

Validation reports `file:line:col: what is wrong` because the codebook is edited by researchers:
an error that says only "invalid" costs them an afternoon. YAML is composed (not just loaded) so
every key and value keeps its position; the JSON-Schema catches shape errors, then semantic checks
catch what a schema cannot (duplicate ids, unknown references, terms that do not compile).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml


SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "codebook.schema.yaml"
DEFAULT_CODE_KINDS = ("key_point", "paragraph", "quote", "list_item")
DEFAULT_WITHIN = 8


# ---------------------------------------------------------------- term matching
class TermSyntaxError(ValueError):
    pass


# Plain terms are words separated by spaces, hyphens, slashes or apostrophes; `*` inside a word
# means "any further word characters" (rehabilitat* -> rehabilitation, rehabilitative).
_TERM_SHAPE = re.compile(r"[\w*]+(?:(?:[\s\-\u2010\u2013\u2014/]+|['\u2019])[\w*]+)*")
_PIECES = re.compile(r"[\w*]+|[\s\-\u2010\u2013\u2014/]+|['\u2019]")
_SEP_RX = r"[\s\-\u2010\u2013\u2014/]+"
_APOS_RX = r"['\u2019]"
_WORD = re.compile(r"\w+")
# Nested quantifiers such as (a+)+ can backtrack exponentially; refuse them up front.
# (Bounded outer repeats like (?:\w+\s+){0,3} are fine: at most a few alternatives per start.)
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}]\)(?:[+*]|\{\d*,\})")


def _atoms(term: str) -> list[tuple]:
    """A plain term as atoms: ('c', char) | ('w',) for `*` | ('s',) separator | ('a',) apostrophe."""
    atoms: list[tuple] = []
    for piece in _PIECES.findall(term.lower()):
        if piece in ("'", "\u2019"):
            atoms.append(("a",))
        elif not (piece[0].isalnum() or piece[0] in "_*"):
            atoms.append(("s",))
        else:
            if not any(ch != "*" for ch in piece):
                raise TermSyntaxError(f"term {term!r}: a lone '*' needs at least one letter")
            atoms.extend(("w",) if ch == "*" else ("c", ch) for ch in piece)
    return atoms


def _atom_rx(atom: tuple) -> str:
    return {"w": r"\w*", "s": _SEP_RX, "a": _APOS_RX}.get(atom[0]) or re.escape(atom[1])


def term_regex(term: str) -> str:
    """Regex source for one term (explicit `re:` terms are returned as written)."""
    if term.startswith("re:"):
        return term[3:]
    return "".join(_atom_rx(a) for a in _atoms(term)) + r"(?!\w)"


def _tokens(atoms: list[tuple]) -> list[list[tuple]]:
    """Split atoms into word tokens (separators dropped)."""
    out: list[list[tuple]] = [[]]
    for atom in atoms:
        if atom[0] in "sa":
            out.append([atom])
        else:
            out[-1].append(atom)
    return out


class Matcher:
    """Every term of the codebook found in one regex pass over a unit.

    The pass uses one trie-shaped alternation of all plain terms inside a lookahead at each word
    start, so overlapping terms starting at different words are all seen. Terms that match at
    the same word start are recovered from a cache keyed by the matched string: a term always
    consumes whole words, so any other term matching at that start either matches a word-prefix
    of that string (known statically) or extends past it (checked with an anchored match).
    """

    def __init__(self):
        self.terms: list[str] = []
        self._key: dict[str, int] = {}
        self.atoms: list[list[tuple] | None] = []
        self.full: list[re.Pattern] = []
        self.ntok: list[int] = []
        self.regex_terms: list[int] = []
        self._entries: dict[str, tuple] = {}
        self._first: dict[str, list[int]] = {}

    def add(self, term: str) -> int:
        term = term.strip()
        if term.startswith("re:"):
            key, atoms = term, None
            try:
                full = re.compile(term[3:], re.IGNORECASE)
            except re.error as err:
                raise TermSyntaxError(f"has an invalid regex {term[3:]!r}: {err.msg}"
                                      + (f" at position {err.pos}" if err.pos is not None else ""))
            if full.match(""):
                raise TermSyntaxError(f"regex {term[3:]!r} matches the empty string")
            if _NESTED_QUANTIFIER.search(term[3:]):
                raise TermSyntaxError(f"regex {term[3:]!r} nests quantifiers, which can backtrack "
                                      "exponentially; simplify it")
        else:
            if not _TERM_SHAPE.fullmatch(term):
                raise TermSyntaxError(
                    f"term {term!r} is not a plain term (words, '*' wildcards, spaces, hyphens, "
                    "slashes, apostrophes); write 're:<regex>' for a regular expression")
            atoms = _atoms(term)
            key = repr(atoms)
            full = None
        if key in self._key:
            return self._key[key]
        self._key[key] = len(self.terms)
        self.terms.append(term)
        self.atoms.append(atoms)
        if atoms is None:
            self.full.append(full)
            self.ntok.append(0)
            self.regex_terms.append(len(self.terms) - 1)
        else:
            self.full.append(re.compile(term_regex(term), re.IGNORECASE))
            self.ntok.append(len(_tokens(atoms)))
        return len(self.terms) - 1

    def build(self) -> None:
        trie: dict = {}
        for atoms in self.atoms:
            if atoms is None:
                continue
            node = trie
            for atom in atoms:
                node = node.setdefault(atom, {})
            node[None] = {}
        source = r"(?<!\w)(?=(" + (self._emit(trie) if trie else r"(?!)") + "))"
        self.master = re.compile(source)
        self.master_ci = re.compile(source, re.IGNORECASE)
        self._first_rx = {t: re.compile("".join(_atom_rx(a) for a in _tokens(at)[0]),
                                        re.IGNORECASE)
                          for t, at in enumerate(self.atoms) if at is not None}

    def _emit(self, node: dict) -> str:
        rank = {"c": 0, "s": 1, "a": 2, "w": 3}
        alts = [_atom_rx(atom) + self._emit(child)
                for atom, child in sorted(((a, c) for a, c in node.items() if a is not None),
                                          key=lambda ac: (rank[ac[0][0]], ac[0][1:]))]
        if None in node:
            alts.append(r"(?!\w)")
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    def _prefix_rx(self, t: int, k: int) -> re.Pattern:
        toks = _tokens(self.atoms[t])
        return re.compile("".join(_atom_rx(a) for tok in toks[:k] for a in tok), re.IGNORECASE)

    def _by_first(self, word: str) -> list[int]:
        found = self._first.get(word)
        if found is None:
            found = [t for t, rx in self._first_rx.items() if rx.fullmatch(word)]
            self._first[word] = found
        return found

    def _entry(self, m: str) -> tuple:
        ends = [w.end() for w in _WORD.finditer(m)]
        static, extend = [], []
        for t in self._by_first(m[:ends[0]]):
            n = self.ntok[t]
            if n <= len(ends):
                if self.full[t].fullmatch(m, 0, ends[n - 1]):
                    static.append((t, ends[n - 1]))
            elif self._prefix_rx(t, len(ends)).fullmatch(m):
                extend.append(t)
        entry = (tuple(static), tuple(extend))
        self._entries[m] = entry
        return entry

    def scan(self, text: str, regex_terms=None) -> dict[int, list[tuple[int, int]]]:
        """Term hits in text: term index -> sorted (start, end) spans (text-relative).

        Plain terms are always scanned; explicit regex terms (one pass each) only those in
        `regex_terms` (all when None), so callers can defer them until a rule needs them.
        """
        hits: dict[int, list[tuple[int, int]]] = {}
        low = text.lower()
        master = self.master
        if len(low) != len(text):  # rare case-folding that changes length: keep offsets exact
            low, master = text, self.master_ci
        entries = self._entries
        get = entries.get
        for p, m in [(mo.start(), mo.group(1)) for mo in master.finditer(low)]:
            static, extend = get(m) or self._entry(m)
            for t, length in static:
                if t in hits:
                    hits[t].append((p, p + length))
                else:
                    hits[t] = [(p, p + length)]
            for t in extend:
                mm = self.full[t].match(low, p)
                if mm:
                    hits.setdefault(t, []).append((p, mm.end()))
        self.scan_regex(text, self.regex_terms if regex_terms is None else regex_terms, hits)
        return hits

    def scan_regex(self, text: str, terms, hits: dict) -> None:
        for t in terms:
            spans = [mm.span() for mm in self.full[t].finditer(text) if mm.end() > mm.start()]
            if spans:
                hits[t] = spans


class CodebookError(ValueError):
    """A codebook that cannot be used; the message names file, line and problem."""


# ---------------------------------------------------------------- YAML with positions
def _load_with_positions(text: str, name: str):
    """Return (data, positions); positions maps a JSON path tuple to (line, col), 1-based.

    Keys are recorded under path + ("<key>",) so an unknown key can be pointed at directly.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise CodebookError(f"{where}: not valid YAML: {getattr(err, 'problem', err)}") from None
    if node is None:
        raise CodebookError(f"{name}:1: the codebook is empty")
    positions: dict[tuple, tuple[int, int]] = {}
    constructor = yaml.SafeLoader("")

    def build(n, path):
        positions[path] = (n.start_mark.line + 1, n.start_mark.column + 1)
        if isinstance(n, yaml.MappingNode):
            out = {}
            for key_node, value_node in n.value:
                key = constructor.construct_object(key_node)
                if key in out:
                    raise CodebookError(f"{name}:{key_node.start_mark.line + 1}:"
                                        f"{key_node.start_mark.column + 1}: duplicate key {key!r}")
                positions[path + (key, "<key>")] = (key_node.start_mark.line + 1,
                                                    key_node.start_mark.column + 1)
                out[key] = build(value_node, path + (key,))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(item, path + (i,)) for i, item in enumerate(n.value)]
        return constructor.construct_object(n)

    return build(node, ()), positions


# ---------------------------------------------------------------- error reporting
@dataclass
class _Reporter:
    name: str
    data: dict
    positions: dict

    def where(self, path) -> str:
        path = tuple(path)
        while path and path not in self.positions:
            path = path[:-1]
        line, col = self.positions.get(path, (1, 1))
        return f"{self.name}:{line}:{col}"

    def context(self, path) -> str:
        """Name the innermost object with an id ('rule 'x/y'') so the message reads alone."""
        node, found = self.data, ""
        kinds = {"themes": "theme", "facets": "facet", "values": "value", "rules": "rule"}
        for i, step in enumerate(path):
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                break
            parent = path[i - 1] if i else None
            if isinstance(node, dict) and isinstance(node.get("id"), str) and parent in kinds:
                found = f"{kinds[parent]} {node['id']!r}"
        return found

    def fail(self, path, message: str):
        ctx = self.context(path)
        raise CodebookError(f"{self.where(path)}: {ctx + ' ' if ctx else ''}{message}")


def _schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))


def _schema_error(rep: _Reporter, error: jsonschema.ValidationError):
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        if extra and allowed:
            key = extra[0]
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            rep.fail(path + [key, "<key>"], f"has an unknown key {key!r}"
                     + (f" (did you mean {hint[0]!r}?)" if hint else "")
                     + f"; allowed: {', '.join(allowed)}")
        if extra:  # patternProperties only: the key itself has a bad shape
            rep.fail(path + [extra[0], "<key>"], f"has a badly formed name {extra[0]!r}")
    if error.validator == "oneOf":
        rep.fail(path, "must have exactly one of 'any', 'all' or 'near'")
    if error.validator == "type":
        rep.fail(path, f"{'.'.join(map(str, path[-1:])) or 'value'} must be of type "
                       f"{error.validator_value}, not {type(error.instance).__name__} "
                       f"({error.instance!r})")
    rep.fail(path, error.message)


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
    fallback: list[Rule] = field(default_factory=list)
    attribution_rule: str | None = None
    inherit_rule: str | None = None
    inherit_kinds: frozenset = frozenset()


@dataclass
class Codebook:
    path: str
    themes: list[Label]
    facets: list[Facet]
    matcher: Matcher
    code_kinds: frozenset
    raw: dict

    def eager_regex_terms(self) -> list[int]:
        """Regex terms that must be scanned up front: those a rule is triggered by."""
        labels = list(self.themes) + [v for f in self.facets for v in f.values]
        rules = [r for lab in labels for r in lab.rules] + [r for f in self.facets for r in f.fallback]
        regex = set(self.matcher.regex_terms)
        return sorted({t for r in rules for t in r.groups[r.trigger] if t in regex})

    def rule_ids(self) -> list[str]:
        labels = list(self.themes) + [v for f in self.facets for v in f.values]
        ids = [r.id for lab in labels for r in lab.rules]
        ids += [r.id for f in self.facets for r in f.fallback]
        ids += [f.attribution_rule for f in self.facets if f.attribution_rule]
        ids += [f.inherit_rule for f in self.facets if f.inherit_rule]
        return ids


def load_codebook(path: str | Path, schema: dict | None = None) -> Codebook:
    """Read, validate and compile; raise CodebookError naming file:line on any problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CodebookError(f"{name}: cannot read the codebook: {err}") from None
    return parse_codebook(text, name, schema)


def parse_codebook(text: str, name: str = "<codebook>", schema: dict | None = None) -> Codebook:
    data, positions = _load_with_positions(text, name)
    rep = _Reporter(name, data, positions)
    validator_cls = jsonschema.validators.validator_for(schema or _schema())
    validator = validator_cls(schema or _schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (_line_of(rep, e), str(e.path)))
    if errors:  # the first by position: what a reader fixing the file top-down meets first
        _schema_error(rep, errors[0])
    return compile_codebook(data, rep)


def _line_of(rep: _Reporter, error) -> tuple:
    path = tuple(error.absolute_path)
    while path and path not in rep.positions:
        path = path[:-1]
    return rep.positions.get(path, (0, 0))


# ---------------------------------------------------------------- compilation
class _Compiler:
    def __init__(self, rep: _Reporter):
        self.rep = rep
        self.data = rep.data
        self.matcher = Matcher()
        self.vocab = self.data.get("vocab", {})
        self.rule_ids: dict[str, tuple] = {}
        self.rule_count = 0
        self.defaults = self.data.get("settings", {})

    def terms(self, items, path) -> list[int]:
        """Expand @vocab references and register every term; return term indices."""
        out: list[int] = []
        for i, item in enumerate(items):
            if item.startswith("@"):
                ref = item[1:]
                if ref not in self.vocab:
                    hint = difflib.get_close_matches(ref, list(self.vocab), n=1)
                    self.rep.fail(list(path) + [i], f"refers to unknown vocab list {item!r}"
                                  + (f" (did you mean '@{hint[0]}'?)" if hint else ""))
                out.extend(self.terms(self.vocab[ref], ("vocab", ref)))
                continue
            try:
                out.append(self.matcher.add(item))
            except TermSyntaxError as err:
                self.rep.fail(list(path) + [i], str(err))
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
        if kind == "any":
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
        self.rule_count += 1
        rule = Rule(
            id=rid, label=label, kind=kind, groups=groups, within=within, order=order,
            same_sentence=same_sentence, min_hits=spec.get("min_hits", 1),
            unless=self.terms(spec.get("unless", []), path + ("unless",)),
            not_with=self.terms(spec.get("not_with", []), path + ("not_with",)),
            kinds=frozenset(kinds) if kinds else None,
            section=self.terms(spec.get("section", []), path + ("section",)),
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

    def label(self, spec: dict, path: tuple, owner: str) -> Label:
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

    def check_refs(self, labels: list[Label], specs, path, what):
        ids = [lab.id for lab in labels]
        for i, lab in enumerate(labels):
            for j, ref in enumerate(lab.suppressed_by):
                if ref not in ids or ref == lab.id:
                    hint = difflib.get_close_matches(ref, ids, n=1)
                    self.rep.fail(list(path) + [i, "suppressed_by", j],
                                  f"names unknown {what} {ref!r}"
                                  + (f" (did you mean {hint[0]!r}?)" if hint else ""))

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
            self.check_ids(f["values"], list(fpath) + ["values"], f"{f['id']} value")
            values = [self.label(v, fpath + ("values", j), f["id"])
                      for j, v in enumerate(f["values"])]
            self.check_refs(values, f["values"], list(fpath) + ["values"], f"{f['id']} value")
            facet = Facet(id=f["id"], label=f["label"], values=values,
                          fallback=self.fallback(f, fpath, values))
            for key in ("attribution", "inherit"):
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
            facets.append(facet)
        kinds = data.get("settings", {}).get("code_kinds", DEFAULT_CODE_KINDS)
        self.matcher.build()
        return Codebook(self.rep.name, themes, facets, self.matcher, frozenset(kinds), data)


def compile_codebook(data: dict, rep: _Reporter | None = None) -> Codebook:
    """Compile validated codebook data into rules over one shared term matcher."""
    rep = rep or _Reporter("<codebook>", data, {})
    return _Compiler(rep).compile()


__all__ = ["CodebookError", "Codebook", "Label", "Facet", "Rule", "load_codebook",
           "parse_codebook", "compile_codebook", "term_regex"]
