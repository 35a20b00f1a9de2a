"""Apply a compiled codebook to segments: themes and facet values, each with its evidence span.

The engine knows no domain words; everything it matches comes from the codebook. Each output
row names the rule that fired and the exact characters it fired on, so a reviewer can check it.

Evidence choice: when several rules support the same label in a unit, the evidence is the match
that starts *first* in the unit (ties go to the rule listed first in the codebook), so the span a
reader is sent to is the earliest place the point is made.

How it stays fast (the coding stage is meant to run at several MB/s on one core):
- each document gets one pass of the term matcher, and every unit's hits are cut from it
  (qualtrace.coding.matcher.DocumentScan), filed straight under the groups of terms rules ask about
  (`Matcher.keyed`): a group's sorted hits are read, never gathered term by term;
- which groups of terms occur in a unit is one bit mask, so a rule is looked at only when its
  trigger group and all its groups of plain terms have hits, and "is a veto about?" is one AND;
- a label set's rules are prepared once per codebook (`Codebook.engine`), and a rule that cannot
  beat its label's evidence so far is skipped (`_LabelSet.evaluate`);
- a proximity rule looks for its earliest pair directly instead of listing every pair, and a
  unit's sentence breaks are found once, on first use;
- regex terms run as case-sensitive twins over the lower-cased text where that is exact, and
  not at all in a unit that lacks literals every match holds (qualtrace.coding.matcher.TwinScan);
  checks for hits of regex terms that are never scanned into a unit are left out (`Engine`);
- rows are written in their sorted order, so no sort is needed after.
None of this changes an answer: tests/test_coding.py and tests/test_coding_speed.py check the
fast paths against the plain definitions on random text.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache, partial, reduce
from operator import or_

from .codebook import Codebook, CodebookError, Label, Rule
from .context import OWN, UnitFacets, inherit_context
from ..common.io import paused_gc
from ..common.tables import columns
from .matcher import folded_text
from .regex_budget import TermTimeout, regex_budget

CODING_FIELDS = columns("codings_auto")
FACET_FIELDS = columns("facets_auto")

_WORD = re.compile(r"\w+")
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and a capital or an
# opening quote; "e.g. women" therefore does not end one.
_SENTENCE_BREAK = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
_STOP_MARK = re.compile(r"[.!?\u2026]")  # how every _SENTENCE_BREAK starts


def _breaks(text: str) -> list[int]:
    """Where the sentence breaks in text start."""
    return [m.start() for m in _SENTENCE_BREAK.finditer(text)]


def _mask(bit_of_key: list[int], keys) -> int:
    """The mask of the groups whose keys are given (distinct keys: their bits' sum is their OR,
    and `sum` adds them without a call per key)."""
    return sum(map(bit_of_key.__getitem__, keys))


@lru_cache(maxsize=None)
def _more_words_than(n: int) -> re.Pattern:
    """A pattern whose `match(text, pos, endpos)` says whether text[pos:endpos] holds more than
    n words, as `len(_WORD.findall(text, pos, endpos)) > n` does, without listing them: each
    possessive step takes one whole run of word characters, so no word is counted twice."""
    return re.compile(r"(?:\W*+\w++){%d}" % max(n + 1, 0))

_LEADING_MARKER = re.compile(r"^[\s\-\u2013\u2014\u2022*\u00b7]*")

Span = tuple[int, int]


# An evidence: (start, end, rule id, rank), start/end relative to the unit text, rank the rule's
# codebook order (ties on start go to the lower rank).
Evidence = tuple


# ---------------------------------------------------------------- which groups have hits
class _Bits:
    """Bit masks over a unit's hits, so "does this group of terms occur?" is one AND.

    Every group of terms the engine asks about (a rule's groups, its unless and not_with terms, a
    label's unless terms) gets a bit. A term maps to the bits of the groups holding it; OR-ing
    the masks of a unit's terms tells which groups have hits, hence which rules to look at.
    Hits of plain terms never change once a unit is scanned, so neither does its mask. Groups
    holding regex terms get a bit too (set by the regex terms scanned up front), but only as a
    trigger; their hits are read from the unit itself.
    """

    def __init__(self):
        self.by_term: dict[int, int] = {}
        self._bit_of: dict[frozenset, int] = {}
        self.n = 0

    def group(self, terms) -> int:
        """The bit of a group (the same bit for the same terms)."""
        terms = frozenset(terms)
        if not terms:
            return 0
        bit = self._bit_of.get(terms)
        if bit is None:
            bit = self._bit_of[terms] = 1 << self.n
            self.n += 1
            for t in terms:
                self.by_term[t] = self.by_term.get(t, 0) | bit
        return bit

    def mask(self, hits) -> int:
        """The mask of a unit's hits (`cover` must have listed every term they can hold)."""
        return reduce(or_, map(self.by_term.__getitem__, hits), 0)

    def cover(self, n_terms: int) -> None:
        """Let every term of the matcher have a mask, if only 0."""
        for t in range(n_terms):
            self.by_term.setdefault(t, 0)

    def keys(self, n_terms: int, regex: frozenset) -> list[tuple]:
        """For each plain term, the keys of the groups holding it: where a unit's scan files
        its hits (`Matcher.keyed`), so a group's hits are read under its key (`key`)."""
        out = []
        for t in range(n_terms):
            mask, keys = 0 if t in regex else self.by_term.get(t, 0), []
            while mask:
                low = mask & -mask  # the lowest bit set
                keys.append(low.bit_length() - 1)
                mask ^= low
            out.append(tuple(keys))
        return out

    @staticmethod
    def key(bit: int) -> int:
        """A group's key: the position of its bit (a small int is quicker to file under)."""
        return bit.bit_length() - 1


# ---------------------------------------------------------------- the unit a rule looks at
class _Unit:
    """What rules look at: the unit's text (attribution cut off), its hits and their bit mask,
    kind, section, and the values its attribution gives a quotation (`speakers`).

    The hits of plain terms are filed by group: `_spans` maps a group's key to the group's
    sorted hits (the plain terms' hits of a group that also holds regex terms), as the scan of
    the unit listed them (`grouped`), or else made from hits per term on first use. `hits` holds
    the hits of regex terms, scanned on first use (and, when not grouped, every term's hits). The
    unit's sentence breaks and its lower-cased text are also made on first use.
    """
    __slots__ = ("text", "hits", "mask", "kind", "section_hits", "matcher", "scanned",
                 "_breaks", "_spans", "_low", "_cut", "grouped", "_rx", "speakers")

    def __init__(self, text: str, hits: dict, mask: int, kind: str, section_hits: dict,
                 matcher, scanned: set, spans: dict | None = None):
        self.text = text
        self.hits = hits
        self.mask = mask
        self.kind = kind
        self.section_hits = section_hits
        self.speakers = frozenset()  # a quotation's attributed values (set by the caller)
        self.matcher = matcher
        self.scanned = scanned
        self._breaks = None
        self.grouped = spans is not None
        self._spans: dict[int, list[Span]] = {} if spans is None else spans
        self._low = False  # not yet made; None: the text does not fold
        self._cut = None  # (lower-cased document, start, end) to cut it from
        self._rx = None  # regex term -> what `regex` answered

    def spans(self, key: int, plain: frozenset) -> list[Span]:
        """The sorted hits of the group of plain terms `plain` (whose key is `key`). Not to be
        changed: the list is the unit's own."""
        spans = self._spans.get(key)
        if spans is None:
            if self.grouped:
                return []  # the scan filed every group with hits
            spans = self._spans[key] = _group_hits(plain, self.hits, ())
        return spans

    def regex(self, t: int):
        """(pattern, text) to look for regex term `t` in: its case-sensitive twin over the
        lower-cased text where that gives the same matches (see qualtrace.coding.matcher); None when
        the lower-cased text lacks literals every match of the twin holds."""
        known = self._rx
        if known is None:
            known = self._rx = {}
        elif t in known:
            return known[t]
        found = known[t] = self._regex(t)
        return found

    def _regex(self, t: int):
        twin = self.matcher.twin[t]
        if twin is not None:
            low = self._low
            if low is False:
                if self._cut is not None:  # from the lower-cased document, which folds
                    doc, start, end = self._cut
                    low = doc[start:end]
                else:
                    low = folded_text(self.text)
                self._low = low
            if low is not None:
                if twin.needs and not twin.possible(low):
                    return None
                return (twin if twin.head else twin.twin), low  # (the pattern itself if it can)
        return self.matcher.full[t], self.text

    def ensure(self, regex_terms) -> None:
        todo = [t for t in regex_terms if t not in self.scanned]
        if todo:
            self.scan_regex(todo)
            self.scanned = self.scanned.union(todo)  # (may start as a shared frozenset)

    def scan_regex(self, terms) -> None:
        """`Matcher.scan_regex` over the unit, with the terms' case-sensitive twins if it can."""
        hits = self.hits
        for t in terms:
            found = self.regex(t)
            if found is None:
                continue  # cannot match here
            rx, text = found
            spans = self.matcher.regex_spans(t, rx, text)
            if spans:
                hits[t] = spans

    def breaks_between(self, lo: int, hi: int) -> bool:
        """Is there a sentence break starting in [lo, hi)?

        Same answer as `_SENTENCE_BREAK.search(text, lo)` starting before hi: a break's match
        holds no other break's first character, so the breaks `finditer` lists are exactly the
        positions where one can start.
        """
        breaks = self._breaks
        if breaks is None:
            breaks = self._breaks = _breaks(self.text)
        i = bisect_left(breaks, lo)
        return i < len(breaks) and breaks[i] < hi


# ---------------------------------------------------------------- compiled rules
_ANY, _ALL, _NEAR = 0, 1, 2


def _split(terms, regex: frozenset, scanned: frozenset | None = None) -> tuple[tuple, tuple]:
    """Terms as (plain, regex), each in their order; with `scanned`, only the regex terms in it
    (the others never have hits in a unit: see `Engine`)."""
    return (tuple(t for t in terms if t not in regex),
            tuple(t for t in terms if t in regex and (scanned is None or t in scanned)))


class _Label:
    """A label prepared for evaluation: its unless terms as a bit (plain) and a tuple (regex)."""
    __slots__ = ("label", "id", "unless", "unless_bit", "unless_key", "unless_plain",
                 "unless_regex", "lazy_terms")

    def __init__(self, label: Label, bits: _Bits, regex: frozenset,
                 scanned: frozenset | None = None):
        self.label, self.id = label, label.id
        self.unless = tuple(label.unless)
        plain, self.unless_regex = _split(label.unless, regex, scanned)
        self.unless_bit, self.unless_plain = bits.group(plain), frozenset(plain)
        self.unless_key = bits.key(self.unless_bit)
        self.lazy_terms = label.lazy_terms

    def vetoes(self, unit: _Unit) -> list[Span]:
        """Hits of the label's unless terms (regex ones only once scanned), in a new list."""
        return _hits_of(unit, self.unless_bit, self.unless_key, self.unless_plain,
                        self.unless_regex)


def _hits_of(unit: _Unit, bit: int, key: int, plain: frozenset, regex: tuple) -> list[Span]:
    """A new list of the hits of a group split as its plain terms (with their group's bit and
    key) and its regex terms, which count only once scanned."""
    hits = unit.hits
    found = [s for t in regex if t in hits for s in hits[t]] if regex else []
    if unit.mask & bit:
        return unit.spans(key, plain) + found
    return found


class _Prog:
    """A rule prepared for evaluation: its groups as sets with their keys (under which a unit
    keeps a group's hits), the bits a unit's mask must hold for the rule to be looked at, and its
    options as plain attributes."""
    __slots__ = ("rule", "lab", "id", "index", "kind", "groups", "gids", "gkeys", "gplain",
                 "gregex", "need", "trigger_bit", "min_hits", "within", "too_far", "a_first",
                 "same_sentence", "not_with", "not_with_bit", "not_with_regex", "unless",
                 "unless_bit", "unless_key", "unless_plain", "unless_regex", "kinds", "section",
                 "speakers",
                 "lazy_terms", "lazy_not_with", "lazy_unless", "veto_terms", "plain", "fast",
                 "bound", "vetoes_only", "direct_pair", "quiet_bits", "quiet_regex")

    def __init__(self, rule: Rule, lab: _Label, bits: _Bits, regex: frozenset,
                 scanned: frozenset | None = None):
        self.rule, self.lab = rule, lab
        self.id, self.index = rule.id, rule.index
        self.kind = {"any": _ANY, "all": _ALL, "near": _NEAR}[rule.kind]
        self.groups = rule.group_sets
        gbits = [bits.group(g) for g in self.groups]
        # A group's key files its plain terms' hits (all its hits when it holds no regex term);
        # gids: the keys of the groups holding no regex term.
        self.gkeys = tuple(map(bits.key, gbits))
        self.gids = tuple(None if regex.intersection(g) else k
                          for g, k in zip(self.groups, self.gkeys))
        self.gplain = tuple(g - regex for g in self.groups)
        self.gregex = tuple(tuple(t for t in g if t in regex) for g in self.groups)
        # Looked at only when the trigger group and every group of plain terms have hits.
        self.need = 0
        for i, (g, b) in enumerate(zip(self.groups, gbits)):
            if i == rule.trigger or not regex.intersection(g):
                self.need |= b
        self.trigger_bit = gbits[rule.trigger]
        self.min_hits, self.within = rule.min_hits, rule.within
        self.too_far = _more_words_than(rule.within).match
        self.a_first, self.same_sentence = rule.order == "a_first", rule.same_sentence
        self.not_with = tuple(rule.not_with)
        plain, self.not_with_regex = _split(rule.not_with, regex, scanned)
        self.not_with_bit = bits.group(plain)
        self.unless = tuple(rule.unless)
        plain, self.unless_regex = _split(rule.unless, regex, scanned)
        self.unless_bit, self.unless_plain = bits.group(plain), frozenset(plain)
        self.unless_key = bits.key(self.unless_bit)
        self.kinds, self.section = rule.kinds, tuple(rule.section)
        self.speakers = rule.speakers
        self.lazy_terms, self.lazy_not_with = rule.lazy_terms, rule.lazy_not_with
        self.lazy_unless = rule.lazy_unless
        self.veto_terms = rule.lazy_unless + lab.lazy_terms  # regex vetoes, looked for lazily
        # Nothing to do before firing it: no kinds, section, speakers or regex scans of its own
        # (regex vetoes, if any, are looked for once it fires); plain: no regex vetoes either.
        self.vetoes_only = (rule.kinds is None and not rule.section and rule.speakers is None
                            and not rule.lazy_terms and not rule.lazy_not_with)
        self.plain = self.vetoes_only and not rule.lazy_unless and not lab.lazy_terms
        # An `any` rule whose answer, with no vetoes about, is its group's earliest hit.
        self.fast = (self.plain and self.kind == _ANY and rule.min_hits == 1
                     and self.gids[0] is not None)
        # A proximity rule on single hits of plain terms: its answer is the pair search over
        # the two groups' hits (`_pair`), with its plain unless hits added to the vetoes, and
        # none when a plain not_with term is about.
        self.direct_pair = (self.kind == _NEAR and rule.min_hits == 1 and None not in self.gids
                            and not self.unless_regex and not self.not_with_regex)
        # What must be absent for the `fast` answer: plain unless/not_with hits (bits), and
        # hits of regex ones
        self.quiet_bits = self.unless_bit | self.not_with_bit
        self.quiet_regex = self.unless_regex + self.not_with_regex
        # Groups whose earliest hit bounds where the evidence can start (None: no bound). An
        # evidence span starts at a hit of one of the groups (of `a` for an a_first proximity).
        # `any` rules are cheap enough to evaluate; rules scanning regex terms of their own
        # always are, as the scan is remembered for the rest of the unit.
        self.bound = None
        if self.kind != _ANY and not rule.lazy_terms and not rule.lazy_not_with \
                and None not in self.gids:
            pairs = tuple(zip(self.gids, self.groups))
            self.bound = pairs[:1] if self.kind == _NEAR and self.a_first else pairs


# ---------------------------------------------------------------- rule evaluation
def _overlaps(span: Span, vetoes: list[Span]) -> bool:
    return any(vs < span[1] and span[0] < ve for vs, ve in vetoes)


def _unvetoed(spans: list[Span], vetoes: list[Span]) -> list[Span]:
    """The spans that overlap no veto."""
    if len(vetoes) == 1:
        (vs, ve), = vetoes
        return [sp for sp in spans if not (vs < sp[1] and sp[0] < ve)]
    return [sp for sp in spans if not _overlaps(sp, vetoes)]


def _group_hits(terms: frozenset, hits: dict, vetoes) -> list[Span]:
    keys = terms.intersection(hits)  # (order does not matter: the spans are sorted)
    if len(keys) == 1:
        spans = hits[next(iter(keys))]  # already in text order
        if vetoes:
            return _unvetoed(spans, vetoes)
        return list(spans)
    spans = [s for t in keys for s in hits[t]]
    if vetoes:
        spans = _unvetoed(spans, vetoes)
    spans.sort()
    return spans


def _group(prog: _Prog, i: int, unit: _Unit, vetoes) -> list[Span]:
    """Group i's sorted hits, less those overlapping a veto (the unit's own list if none)."""
    spans = unit.spans(prog.gkeys[i], prog.gplain[i])
    if prog.gids[i] is None:  # the group holds regex terms: add their hits
        hits = unit.hits
        found = [s for t in prog.gregex[i] if t in hits for s in hits[t]]
        if found:
            spans = sorted(spans + found)
    if vetoes and spans:
        return _unvetoed(spans, vetoes)
    return spans


def _distinct(text: str, spans) -> int:
    return len({text[s:e].lower() for s, e in spans})


def _near(prog: _Prog, a: list[Span], b: list[Span], unit: _Unit) -> list[Span]:
    """Pairs (a, b) at most `within` words apart; spans run from the first to the second."""
    text, within, a_first = unit.text, prog.within, prog.a_first
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
            if prog.same_sentence and unit.breaks_between(*gap):
                continue
            pairs.append(span)
    return sorted(pairs)


def _fire(prog: _Prog, unit: _Unit, label_vetoes) -> Evidence | None:
    hits, mask = unit.hits, unit.mask
    if mask & prog.not_with_bit:
        return None
    for t in prog.not_with_regex:
        if t in hits:
            return None
    vetoes = label_vetoes
    if mask & prog.unless_bit or (prog.unless_regex and
                                  any(t in hits for t in prog.unless_regex)):
        vetoes = _hits_of(unit, prog.unless_bit, prog.unless_key, prog.unless_plain,
                          prog.unless_regex)
        if label_vetoes:
            vetoes += label_vetoes
    kind = prog.kind
    if prog.min_hits == 1:
        if kind == _ANY:
            spans = _group(prog, 0, unit, vetoes)
            if not spans:
                return None
            return (spans[0][0], spans[0][1], prog.id, prog.index)
        if kind == _NEAR:
            return _fire_near(prog, unit, vetoes)
        groups = [_group(prog, i, unit, vetoes) for i in range(len(prog.groups))]
        if not all(groups):
            return None
        s, e = min(g[0] for g in groups)
        return (s, e, prog.id, prog.index)
    # min_hits > 1: count distinct matched texts over every candidate span.
    groups = [_group(prog, i, unit, vetoes) for i in range(len(prog.groups))]
    if kind == _ANY:
        spans = groups[0]
    elif kind == _ALL:
        if not all(groups):
            return None
        spans = sorted(s for g in groups for s in g)
    else:
        spans = _near(prog, groups[0], groups[1], unit) if all(groups) else []
    if not spans or _distinct(unit.text, spans) < prog.min_hits:
        return None
    return (spans[0][0], spans[0][1], prog.id, prog.index)


def _fire_near(prog: _Prog, unit: _Unit, vetoes) -> Evidence | None:
    """`_fire` for a proximity rule counting single hits: `_near(...)[0]`, the earliest pair,
    found without listing every pair (this is the engine's innermost loop).

    A pair is a first element and a partner from the other group that starts at or after the
    first's end (a-then-b, or b-then-a unless a_first); its span starts where the first element
    starts. First elements are tried in text order, and the search stops past the earliest
    start that pairs. For one first element, partners are tried in text order: the words and
    sentence breaks between them only grow, so the partners that qualify come first, and one
    starting at or after the best end found cannot end before it.
    """
    a = _group(prog, 0, unit, ())
    if not a:
        return None
    b = _group(prog, 1, unit, ())
    if not b:
        return None
    return _pair(prog, unit, a, b, vetoes)


def _pair(prog: _Prog, unit: _Unit, a: list[Span], b: list[Span], vetoes) -> Evidence | None:
    """`_fire_near` given the sorted hits of both groups (some of each), before vetoes."""
    if vetoes:
        a = _unvetoed(a, vetoes)
        if not a:
            return None
        b = _unvetoed(b, vetoes)
        if not b:
            return None
    text, within, same = unit.text, prog.within, prog.same_sentence
    lim = 2 * within  # k words need 2k - 1 characters: a shorter gap cannot hold too many
    too_far, stop = prog.too_far, _STOP_MARK.search
    best_s = best_e = -1
    for firsts, other in ((a, b),) if prog.a_first else ((a, b), (b, a)):
        n = len(other)
        for s1, e1 in firsts:
            if best_s >= 0 and s1 > best_s:
                break
            end = best_e if best_s == s1 else -1
            k = 0
            while k < n and other[k][0] < e1:  # partners start at or after e1
                k += 1
            while k < n:
                s2, e2 = other[k]
                if end >= 0 and s2 >= end:
                    break
                # (The sentence test first: cheaper than counting words, and far partners are
                # mostly in another sentence.)
                if same and stop(text, e1, s2) is not None and unit.breaks_between(e1, s2):
                    break
                if s2 - e1 >= lim and too_far(text, e1, s2) is not None:
                    break
                if end < 0 or e2 < end:
                    end = e2
                k += 1
            if end >= 0:
                best_s, best_e = s1, end
    if best_s < 0:
        return None
    return (best_s, best_e, prog.id, prog.index)


# A regex veto is looked for within this many characters either side of the hits it could veto.
VETO_WINDOW = 100


def _evaluate(prog: _Prog, unit: _Unit, label_vetoes=(), beat: int = -1) -> Evidence | None:
    """The evidence for a rule in a unit, or None when it does not fire.

    Vetoes only ever remove hits, so regex vetoes (a pass each) are looked for only once the rule
    fires without them, and then only around the rule's own hits: same answer, less scanning.
    With `beat` >= 0 only an evidence starting before `beat` is of use: None is returned for any
    other, and regex vetoes are not looked for when the evidence before them starts too late.
    """
    if prog.kinds is not None and unit.kind not in prog.kinds:
        return None
    if prog.section and not any(t in (unit.section_hits or {}) for t in prog.section):
        return None
    if prog.speakers is not None and prog.speakers.isdisjoint(unit.speakers):
        return None
    if prog.lazy_terms:
        unit.ensure(prog.lazy_terms)
    ev = _fire(prog, unit, label_vetoes)
    if ev is not None and prog.lazy_not_with:
        unit.ensure(prog.lazy_not_with)
        ev = _fire(prog, unit, label_vetoes)
    if ev is None or (beat >= 0 and ev[0] >= beat):
        return None
    return _checked(prog, unit, label_vetoes, ev, beat)


def _checked(prog: _Prog, unit: _Unit, label_vetoes, ev: Evidence, beat: int = -1):
    """`_evaluate` once the rule fired with `ev` (starting before `beat`, if given): ev, or
    what is left once regex vetoes are looked for near it."""
    terms = prog.veto_terms
    if not terms:
        return ev
    vetoes = list(label_vetoes)
    if prog.kind == _ALL or prog.min_hits > 1:
        # Vetoes anywhere can empty a group or lower a count: look around every hit.
        ev = _fire(prog, unit, vetoes + _vetoes_near(unit, terms, _rule_hits(prog, unit)))
        return None if ev is None or (beat >= 0 and ev[0] >= beat) else ev
    # For `any` and `near` the earliest evidence stays the answer unless a veto overlaps it, so
    # look only around it; a vetoed evidence is replaced by the next candidate, checked likewise.
    while ev is not None:
        if beat >= 0 and ev[0] >= beat:
            return None
        new = [v for v in _vetoes_near(unit, terms, [(ev[0], ev[1])]) if v not in vetoes]
        if not new:
            return ev
        vetoes += new
        ev = _fire(prog, unit, vetoes)
    return None


def _rule_hits(prog: _Prog, unit: _Unit) -> list[Span]:
    return sorted(s for i in range(len(prog.groups)) for s in _group(prog, i, unit, ()))


def _vetoes_near(unit: _Unit, terms: tuple, spans: list[Span]) -> list[Span]:
    """Regex veto matches overlapping one of `spans`, looked for only around them."""
    if not spans:
        return []
    if len(spans) == 1:
        (s, e), = spans
        lo, hi, out = max(0, s - VETO_WINDOW), e + VETO_WINDOW, []
        regex, regex_spans = unit.regex, unit.matcher.regex_spans
        for t in terms:
            found = regex(t)
            if found is None:
                continue  # cannot match in this unit
            # pos keeps the text before the window visible to \b and look-behinds.
            # (nothing starting at e or later overlaps the span)
            out += [sp for sp in regex_spans(t, *found, lo, hi, e) if sp[1] > s]
        return out
    windows: list[list[int]] = []
    for s, e in spans:  # merge the windows around the spans
        lo, hi = max(0, s - VETO_WINDOW), e + VETO_WINDOW
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], hi)
        else:
            windows.append([lo, hi])
    out = []
    last = max(e for _, e in spans)
    for t in terms:
        found = unit.regex(t)
        if found is None:
            continue  # cannot match in this unit
        rx, text = found
        for lo, hi in windows:
            # pos keeps the text before the window visible to \b and look-behinds.
            # (nothing starting at `last` or later overlaps a span)
            for start, end in unit.matcher.regex_spans(t, rx, text, lo, hi, last):
                if any(start < e and s < end for s, e in spans):
                    out.append((start, end))
    return out


# ---------------------------------------------------------------- per-label-set evaluation
# How a rule is answered in `_LabelSet.evaluate`: its group's earliest hit when no veto is about
# (`_Prog.fast`); through `_evaluate` when it scans regex terms or checks kinds, sections or speakers
# first; by the pair search (`_Prog.direct_pair`); or fired at once.
_FAST, _SCANS, _PAIR, _FIRE = "fast", "scans", "pair", "fire"


def _way(prog: _Prog) -> str:
    if prog.fast:
        return _FAST
    if not prog.vetoes_only:
        return _SCANS
    return _PAIR if prog.direct_pair else _FIRE


class _LabelSet:
    """The labels of one label set (themes, or one facet's values) with their rules in order."""

    def __init__(self, labels: list[Label], bits: _Bits, regex: frozenset,
                 fallback: list[Rule] = (), scanned: frozenset | None = None):
        self.labels = labels
        self.labs = {lab.id: _Label(lab, bits, regex, scanned) for lab in labels}
        rules = sorted(((rule, lab) for lab in labels for rule in lab.rules),
                       key=lambda rl: rl[0].index)
        self.rules = [_Prog(rule, self.labs[lab.id], bits, regex, scanned)
                      for rule, lab in rules]
        self.fallback_rules = [_Prog(rule, self.labs[rule.label], bits, regex, scanned)
                               for rule in fallback]
        # The rules in codebook order, in runs of one label's rules: (label index, the trigger
        # bits of all that label's rules, the run's rules). A run is passed over when no
        # trigger of its label has hits.
        self.lab_list = list(self.labs.values())
        index = {lab.id: j for j, lab in enumerate(self.lab_list)}
        label_triggers = [0] * len(self.lab_list)
        for prog in self.rules:
            label_triggers[index[prog.lab.id]] |= prog.trigger_bit
        # (each rule with the bits it needs and the keys of the groups bounding its evidence,
        # read in the loop without attribute look-ups)
        self.runs: list[tuple[int, int, list[tuple]]] = []
        for prog in self.rules:
            j = index[prog.lab.id]
            if not self.runs or self.runs[-1][0] != j:
                self.runs.append((j, label_triggers[j], []))
            bound = None if prog.bound is None else tuple(gid for gid, _ in prog.bound)
            self.runs[-1][2].append((prog.need, bound, _way(prog), prog))
        self.no_vetoes = [None if lab.unless else () for lab in self.lab_list]
        self.triggers = reduce(or_, (prog.trigger_bit for prog in self.rules), 0)
        # Labels in id order (the order rows are written in), with the labels suppressing each.
        self.output = [(j, lab.id, tuple(index[s] for s in lab.label.suppressed_by if s in index))
                       for j, lab in sorted(enumerate(self.lab_list), key=lambda jl: jl[1].id)]

    def evaluate(self, unit: _Unit) -> dict[str, Evidence]:
        """Each label's evidence in a unit: its earliest, over the rules that fire.

        Rules are tried in codebook order, each only when the unit's mask holds the bits it
        needs; a rule that cannot start before the evidence its label already has is skipped
        (`_Prog.bound`); a label's vetoes are made on first use. Each rule is answered by the
        shortest way it allows (what `_evaluate` would answer): an `any` rule with no vetoes
        about is its group's earliest hit; a rule with nothing to scan first is fired at once (a
        proximity rule on single hits of plain terms goes straight to the pair search), its
        regex vetoes then looked for near the evidence; any other goes through `_evaluate`.
        """
        mask = unit.mask
        if not mask & self.triggers:
            return {}
        made, hits = unit._spans, unit.hits
        evidence: list = [None] * len(self.lab_list)
        vetoes = self.no_vetoes.copy()  # None: not made yet
        for j, triggers, progs in self.runs:
            if not mask & triggers:
                continue
            for need, bound, way, prog in progs:
                if mask & need != need:
                    continue
                best = evidence[j]
                if bound is not None and best is not None:
                    # (the earliest hit of a group: the first of its sorted hits, which the
                    # unit's scan filed: `_Unit.grouped`)
                    start = best[0]
                    for gid in bound:
                        if made[gid][0][0] < start:
                            break
                    else:  # no group's earliest hit starts before the evidence so far
                        continue
                v = vetoes[j]
                if v is None:
                    lab = self.lab_list[j]
                    if lab.unless_regex:
                        v = lab.vetoes(unit)
                    else:  # (the unit's own list: vetoes are never changed)
                        v = made[lab.unless_key] if mask & lab.unless_bit else ()
                    vetoes[j] = v
                if way is _FAST:
                    if not v and not mask & prog.quiet_bits and not (
                            prog.quiet_regex and any(t in hits for t in prog.quiet_regex)):
                        s, e = made[prog.gids[0]][0]
                        ev = (s, e, prog.id, prog.index)
                    else:
                        ev = _fire(prog, unit, v)
                elif way is _SCANS:
                    ev = _evaluate(prog, unit, v, -1 if best is None else best[0])
                    if ev is not None:
                        evidence[j] = ev
                    continue
                elif way is _PAIR:
                    if mask & prog.not_with_bit:
                        continue
                    if mask & prog.unless_bit:
                        ev = _pair(prog, unit, made[prog.gids[0]], made[prog.gids[1]],
                                   [*made[prog.unless_key], *v])
                    else:
                        ev = _pair(prog, unit, made[prog.gids[0]], made[prog.gids[1]], v)
                else:
                    ev = _fire(prog, unit, v)
                if ev is None or (best is not None and ev[0] >= best[0]):
                    continue
                if not prog.plain:  # regex vetoes, looked for near the evidence
                    ev = _checked(prog, unit, v, ev, -1 if best is None else best[0])
                    if ev is None:
                        continue
                evidence[j] = ev
        found = {}  # (in label id order, the order rows are written in)
        for j, lab_id, suppressed_by in self.output:
            ev = evidence[j]
            if ev is not None and not (
                    suppressed_by and any(evidence[k] is not None for k in suppressed_by)):
                found[lab_id] = ev
        return found

    def fallback(self, unit: _Unit) -> dict[str, Evidence]:
        mask = unit.mask
        for prog in self.fallback_rules:
            if mask & prog.need != prog.need and not prog.lazy_terms and not prog.lazy_not_with:
                continue  # cannot fire, and would scan nothing
            lab = prog.lab
            ev = _evaluate(prog, unit, lab.vetoes(unit))
            if ev:
                return {lab.id: ev}
        return {}


class Engine:
    def __init__(self, codebook: Codebook):
        self.cb = codebook
        regex = frozenset(codebook.matcher.regex_terms)
        # The regex terms a unit's hits can ever hold: those scanned up front, and those a rule
        # scans when it is evaluated. (Regex vetoes are looked for near hits, never kept.) A
        # check for hits of any other regex term is known to find none, so it is left out.
        rules = [r for lab in codebook.themes for r in lab.rules]
        rules += [r for f in codebook.facets for lab in f.values for r in lab.rules]
        rules += [r for f in codebook.facets for r in f.fallback]
        scanned = frozenset(codebook.eager_regex_terms()).union(
            *(r.lazy_terms + r.lazy_not_with for r in rules))
        self.bits = _Bits()
        self.themes = _LabelSet(codebook.themes, self.bits, regex, (), scanned)
        self.facets = [(f, _LabelSet(f.values, self.bits, regex, f.fallback, scanned))
                       for f in codebook.facets]
        self.bits.cover(len(codebook.matcher.terms))
        self.keyed = codebook.matcher.keyed(self.bits.keys(len(codebook.matcher.terms), regex))

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
        return {v: (span[0] - start, span[1] - start, facet.attribution_rule, 0)
                for v in values}


def _whole(text: str, rule: str) -> Evidence:
    lead = _LEADING_MARKER.match(text).end()
    return (lead, len(text.rstrip()), rule, 0)


_DIGITS = re.compile(r"(\d+)")


def segment_sort_key(segment_id: str):
    return [int(p) if p.isdigit() else p for p in _DIGITS.split(segment_id)]


def code_segments(segments, raw_texts: dict, codebook: Codebook):
    """Code segments; return (codings_rows, facets_rows) sorted deterministically."""
    # The loop allocates many small objects and frees almost all of them by reference count;
    # cyclic garbage collection passes over the growing output would only cost time.
    with paused_gc(), regex_budget():
        try:
            return _code_segments(segments, raw_texts, codebook)
        except TermTimeout as err:  # a regex term that backtracks without end: named
            raise CodebookError(str(err)) from None


def _code_segments(segments, raw_texts: dict, codebook: Codebook):
    engine = codebook.engine
    if engine is None:  # compiled once per codebook: rules do not change once compiled
        engine = codebook.engine = Engine(codebook)
    matcher = codebook.matcher
    eager = codebook.eager_regex_terms()
    by_term = engine.bits.by_term
    mask_of = partial(_mask, [1 << k for k in range(engine.bits.n)])
    keyed = engine.keyed  # files each unit's hits by group of terms
    themes = engine.themes
    codings, facet_rows = [], []
    section_hits: dict[str, dict] = {}
    scans: dict[str, object] = {}
    code_kinds = codebook.code_kinds
    # Document order matters (list items inherit from the unit before them), so impose it.
    ordered = sorted((((r["doc_id"], segment_sort_key(r["segment_id"])), r) for r in segments),
                     key=lambda kr: kr[0])
    eager_set = frozenset(eager)
    attribution = engine.attribution
    # Rows are written in their sorted order: segments in key order, then themes, facets and
    # values by id. Only segments with equal keys need a sort after (see the end).
    facets = sorted(((facet, labels, facet.id, facet.inherit_kinds, facet.inherit_rule)
                     for facet, labels in engine.facets), key=lambda f: f[2])
    contexts = [(facet_id, facet.context) for facet, _, facet_id, _, _ in facets if facet.context]
    doc_units: list[tuple[str, UnitFacets]] = []  # this document's units, awaiting their facets

    def flush(doc_id: str, raw_text: str) -> None:
        """Write one document's facet rows, once its context is known."""
        units = [u for _, u in doc_units]
        for facet_id, context in contexts:
            inherit_context(units, facet_id, context)
        for segment_id, u in doc_units:
            for facet_id in sorted(u.found):
                values = u.found[facet_id][0]
                for value in sorted(values) if len(values) > 1 else values:
                    s, e, rule = values[value]
                    facet_rows.append({
                        "segment_id": segment_id, "doc_id": doc_id, "facet": facet_id,
                        "value": value, "evidence_start": str(s), "evidence_end": str(e),
                        "evidence_text": raw_text[s:e], "rule": rule})
        doc_units.clear()

    doc, raw, scan = None, "", None
    last, tied = None, False
    for order, seg in ordered:
        tied = tied or order == last
        last = order
        kind = seg.get("kind", "")
        if kind not in code_kinds or seg.get("boilerplate"):
            continue
        if seg["doc_id"] != doc:
            if doc is not None:
                flush(doc, raw)
            doc = seg["doc_id"]
            raw = raw_texts[doc]
            scan = scans.get(doc)
            if scan is None:
                scan = scans[doc] = matcher.document(raw)
            keyed_hits = getattr(scan, "keyed_hits", None)
            lead_in = {}  # facet id -> the values units of the inherit kinds take
        base, end = int(seg["start"]), int(seg["end"])
        cut = seg.get("attribution_start") or ""
        if cut and base < int(cut) <= end:
            end = int(cut)  # the attribution names a speaker; it is not what the speaker said
        text = raw[base:end]
        section = seg.get("section", "")
        sec = section_hits.get(section)
        if sec is None:
            sec = section_hits[section] = matcher.scan(section)
        if 0 <= base <= end <= len(raw):
            if keyed_hits is not None:
                spans = keyed_hits(base, end, text, keyed)
            else:  # a scan that lists hits per term only
                spans = keyed.from_hits(scan.hits(base, end, text))
        else:  # offsets outside the text: the unit is whatever slicing gives, scanned alone
            spans = keyed.from_hits(matcher.scan(text, ()))
        hits = {}
        unit = _Unit(text, hits, 0, kind, sec, matcher, eager_set, spans)
        if scan.folded:
            unit._cut = (scan.low, base, end)
        mask = mask_of(spans)  # the groups with hits
        if eager:
            unit.scan_regex(eager)
            for t in hits:
                mask |= by_term[t]
        unit.mask = mask
        segment_id = seg["segment_id"]
        # A quotation's speaker, from its attribution: its facet values, and what rules naming
        # `speakers:` read
        attributed = {facet_id: attribution(facet, seg, raw)
                      for facet, _, facet_id, _, _ in facets} if kind == "quote" else {}
        if attributed:
            unit.speakers = frozenset(v for values in attributed.values() if values
                                      for v in values)

        found = themes.evaluate(unit)  # (in theme id order)
        for theme, ev in found.items():
            s, e = base + ev[0], base + ev[1]
            codings.append({
                "segment_id": segment_id, "doc_id": doc, "theme": theme,
                "evidence_start": str(s), "evidence_end": str(e),
                "evidence_text": raw[s:e], "rule": ev[2]})
        record = UnitFacets(len(doc_units), kind, section, frozenset(found))
        for facet, labels, facet_id, inherit_kinds, inherit_rule in facets:
            values = attributed.get(facet_id)
            if values is None:
                values = labels.evaluate(unit)
            how = OWN if values else ""
            if not values and kind in inherit_kinds and lead_in.get(facet_id):
                values = {v: _whole(text, inherit_rule) for v in lead_in[facet_id]}
                how = inherit_rule
            if not values and labels.fallback_rules:
                values = labels.fallback(unit)
                how = next(iter(values.values()))[2] if values else ""
            if kind not in inherit_kinds:
                lead_in[facet_id] = values
            if values:
                record.found[facet_id] = (
                    {v: (base + ev[0], base + ev[1], ev[2]) for v, ev in values.items()}, how)
        doc_units.append((segment_id, record))
    if doc is not None:
        flush(doc, raw)
    if tied:  # segments with equal keys: their rows sort together, stably, as one segment's
        def key(row):
            return (row["doc_id"], segment_sort_key(row["segment_id"]))
        codings.sort(key=lambda r: (key(r), r["theme"]))
        facet_rows.sort(key=lambda r: (key(r), r["facet"], r["value"]))
    return codings, facet_rows
