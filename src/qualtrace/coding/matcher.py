"""Codebook terms: their syntax, their regexes, and the matcher that finds them all in one pass.

A plain term is words separated by spaces, hyphens, slashes or apostrophes; `*` inside a word
means "any further word characters" (rehabilitat* -> rehabilitation, rehabilitative). A term
written `re:<regex>` is an explicit case-insensitive regular expression.

`Matcher` finds every plain term of a codebook in one regex pass (a trie-shaped alternation inside
a look-ahead at each word start) and explicit regex terms with one pass each, on demand.
"""
from __future__ import annotations

import itertools
import re
import sys

from .regex_budget import running

__all__ = ["Matcher", "TermSyntaxError", "term_regex"]


class TermSyntaxError(ValueError):
    pass


_TERM_SHAPE = re.compile(r"[\w*]+(?:(?:[\s\-\u2010\u2013\u2014/]+|['\u2019])[\w*]+)*")
_PIECES = re.compile(r"[\w*]+|[\s\-\u2010\u2013\u2014/]+|['\u2019]")
_SEP_RX = r"[\s\-\u2010\u2013\u2014/]+"
_APOS_RX = r"['\u2019]"
_WORD = re.compile(r"\w+")
_WORD_CHAR = re.compile(r"\w")
# Nested quantifiers such as (a+)+ can backtrack exponentially; the commonest form is refused
# up front, with its own message. (Bounded outer repeats like (?:\w+\s+){0,3} are fine: at most
# a few alternatives per start.) This only catches a form: what stops every other one, such as
# (a|a)+b or (a+b?)+$, is the time budget regex terms run under (qualtrace.coding.regex_budget).
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


class _Patterns:
    """Each term's whole pattern (`full[t]`), a plain term's compiled from its atoms when first
    asked for: an inflected codebook has thousands of terms, a corpus meets few of them, and
    compiling them all cost more CPU than coding the seeds."""

    def __init__(self):
        self._items: list = []  # a compiled pattern, or a plain term's atoms

    def append(self, item) -> None:
        self._items.append(item)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, t: int) -> re.Pattern:
        item = self._items[t]
        if not isinstance(item, re.Pattern):
            item = self._items[t] = re.compile(
                "".join(_atom_rx(a) for a in item) + r"(?!\w)", re.IGNORECASE)
        return item


def _shape(word_atoms: list[tuple]) -> tuple:
    """(letters, has a wildcard, ASCII literal start) of a term's word (its letter and
    wildcard atoms), for `_fits`."""
    letters = [a[1] for a in word_atoms if a[0] == "c"]
    prefix = "".join(a[1] for a in itertools.takewhile(lambda a: a[0] == "c", word_atoms))
    return len(letters), len(letters) < len(word_atoms), prefix if prefix.isascii() else ""


def _fits(shape: tuple, word: str) -> bool:
    """False only where a term's word of this shape cannot match `word` case-insensitively,
    decided without compiling its regex: a literal letter matches one character, and two ASCII
    characters match only when their lower cases are equal. True means: ask the regex."""
    n, wild, prefix = shape
    if len(word) < n or (not wild and len(word) > n):
        return False
    return not prefix or not word.isascii() or word.lower().startswith(prefix)


class _FirstWords(dict):
    """Plain term index -> the regex of its first word, compiled when first asked for."""

    def __init__(self, atoms: list):
        super().__init__()
        self._atoms = atoms
        self._by_source: dict[str, re.Pattern] = {}  # terms often share their first word
        self._shapes: dict[int, tuple] = {}  # (letters, has a wildcard, ASCII literal start)

    def groups(self, terms: list[int]) -> list[tuple[int, list[int]]]:
        """terms grouped by their first word: (one of them, all of them)."""
        by_word: dict[tuple, list[int]] = {}
        for t in terms:
            by_word.setdefault(tuple(_tokens(self._atoms[t])[0]), []).append(t)
        return [(ts[0], ts) for ts in by_word.values()]

    def could_match(self, t: int, word: str) -> bool:
        """False only where term t's first word cannot match `word` (see `_fits`)."""
        shape = self._shapes.get(t)
        if shape is None:
            shape = self._shapes[t] = _shape(_tokens(self._atoms[t])[0])
        return _fits(shape, word)

    def __missing__(self, t: int) -> re.Pattern:
        source = "".join(_atom_rx(a) for a in _tokens(self._atoms[t])[0])
        rx = self._by_source.get(source)
        if rx is None:
            rx = self._by_source[source] = re.compile(source, re.IGNORECASE)
        self[t] = rx
        return rx


def _tokens(atoms: list[tuple]) -> list[list[tuple]]:
    """Split atoms into word tokens (separators dropped)."""
    out: list[list[tuple]] = [[]]
    for atom in atoms:
        if atom[0] in "sa":
            out.append([atom])
        else:
            out[-1].append(atom)
    return out


def check_regex(source: str) -> re.Pattern:
    """Compile an explicit regex term, or raise TermSyntaxError saying what is wrong with it."""
    try:
        full = re.compile(source, re.IGNORECASE)
    except re.error as err:
        raise TermSyntaxError(f"has an invalid regex {source!r}: {err.msg}"
                              + (f" at position {err.pos}" if err.pos is not None else ""))
    if full.match(""):
        raise TermSyntaxError(f"regex {source!r} matches the empty string")
    if _NESTED_QUANTIFIER.search(source):
        raise TermSyntaxError(f"regex {source!r} nests quantifiers, which can backtrack "
                              "exponentially; simplify it")
    return full


# ---------------------------------------------------------------- case folding made explicit
# A regex term is matched case-insensitively. Python's engine is markedly slower at that (every
# alternative of an alternation is tried in full at every position), so a regex term also gets a
# case-sensitive twin to run over the lower-cased text, wherever the two are bound to agree:
#  - the twin is the term's own parse tree with every cased literal lower-cased (character
#    classes likewise), compiled without IGNORECASE; terms with inline flags, or whose classes
#    hold cased ranges, get no twin;
#  - the text must lower-case character for character (same length), and its lower-cased form
#    must hold none of the characters that IGNORECASE also lets a lower-case letter stand for
#    (dotless i, long s, final sigma, ...: `re._casefix`); a twin is not made for a term whose
#    own letters are such characters' partners other than plain "i" and "s".
# What this relies on about Unicode (lower-casing keeps a character's class, and agrees with the
# engine's own) is checked over every code point in tests/test_codebook.py.
try:
    import _sre
    from re import _constants as _sre_c, _parser as _sre_parse
    from re import _compiler as _sre_compile
    from re._casefix import _EXTRA_CASES
except ImportError:  # another Python: no twins, the terms run as written
    _sre_parse = None
    _EXTRA_CASES = None

_PARTNERS = {chr(k) for v in (_EXTRA_CASES or {}).values() for k in v} - {"i", "s"}


class _AnyOf:
    """`search(text)`: is any of some characters in a text?"""

    def __init__(self, chars):
        self.chars = "".join(sorted(chars))
        self._rx = re.compile("[" + "".join(map(re.escape, self.chars)) + "]")

    def search(self, text: str) -> bool:
        return self._rx.search(text) is not None


_UNFOLDABLE = _AnyOf(_PARTNERS) if _PARTNERS else None


def folded_text(text: str) -> str | None:
    """The lower-cased text, when case-sensitive twins of regex terms may run over it."""
    low = text.lower()
    if len(low) != len(text) or (_UNFOLDABLE is not None and _UNFOLDABLE.search(low)):
        return None
    return low


def _fold_tree(items, c):
    """The parse tree with cased literals lower-cased, or None if that would not be exact."""
    out = []
    for op, av in items:
        if op is c.LITERAL or op is c.NOT_LITERAL:
            if _sre.unicode_iscased(av):
                av = _sre.unicode_tolower(av)
                if {chr(k) for k in _EXTRA_CASES.get(av, ())} - _PARTNERS:
                    return None
            out.append((op, av))
        elif op is c.IN:
            items_ = []
            for iop, iav in av:
                if iop is c.LITERAL:
                    if _sre.unicode_iscased(iav):
                        iav = _sre.unicode_tolower(iav)
                        if {chr(k) for k in _EXTRA_CASES.get(iav, ())} - _PARTNERS:
                            return None
                elif iop is c.RANGE:
                    lo, hi = iav
                    if hi - lo > 4096 or any(map(_sre.unicode_iscased, range(lo, hi + 1))):
                        return None
                elif iop not in (c.CATEGORY, c.NEGATE):
                    return None
                items_.append((iop, iav))
            out.append((op, items_))
        elif op is c.BRANCH:
            alts = [_fold_tree(a, c) for a in av[1]]
            if any(a is None for a in alts):
                return None
            out.append((op, (av[0], alts)))
        elif op is c.SUBPATTERN:
            group, add, delete, sub = av
            sub = _fold_tree(sub, c)
            if add or delete or sub is None:
                return None
            out.append((op, (group, add, delete, sub)))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            sub = _fold_tree(av[2], c)
            if sub is None:
                return None
            out.append((op, (av[0], av[1], sub)))
        elif op in (c.ASSERT, c.ASSERT_NOT):
            sub = _fold_tree(av[1], c)
            if sub is None:
                return None
            out.append((op, (av[0], sub)))
        elif op is c.ATOMIC_GROUP:
            sub = _fold_tree(av, c)
            if sub is None:
                return None
            out.append((op, sub))
        elif op in (c.AT, c.ANY, c.GROUPREF):
            out.append((op, av))
        else:
            return None
    items.data = out
    return items


def _boundary_after_first_letter(tree, c) -> None:
    """In place, `\\b(?:was|were|is|be|been)` ->
    `(?:w(?<!\\w\\w)(?:as|ere)|i(?<!\\w\\w)s|b(?<!\\w\\w)(?:e|een))`.

    Before a word character, `\\b` says the character before is not one; checked just after
    that first character, `(?<!\\w\\w)` says the same. The rewritten pattern opens with a
    letter in every alternative, which lets the regex engine skip ahead to those letters in C
    instead of trying the pattern at every position. Alternatives are grouped by their first
    letter, so at a letter the look-behind runs once, not once per alternative sharing it
    (common first letters made that cost more than the skipping saved). The groups keep
    their alternatives' order, and alternatives opening with different letters never match at
    the same position, so the alternatives that can match are tried in the same order as
    before: the same matches.
    """
    data = tree.data
    if len(data) < 2 or data[0] != (c.AT, c.AT_BOUNDARY) or data[1][0] is not c.BRANCH:
        return
    alts = data[1][1][1]
    if not all(alt.data and alt.data[0][0] is c.LITERAL
               and (chr(alt.data[0][1]).isalnum() or alt.data[0][1] == ord("_"))
               for alt in alts):
        return
    word = (c.IN, [(c.CATEGORY, c.CATEGORY_WORD)])
    behind = (c.ASSERT_NOT, (-1, _sre_parse.SubPattern(tree.state, [word, word])))
    by_letter: dict[int, list] = {}  # (in order of first appearance)
    for alt in alts:
        by_letter.setdefault(alt.data[0][1], []).append(list(alt.data[1:]))
    grouped = []
    for letter, rests in by_letter.items():
        rest = rests[0] if len(rests) == 1 else [
            (c.BRANCH, (None, [_sre_parse.SubPattern(tree.state, r) for r in rests]))]
        grouped.append(_sre_parse.SubPattern(tree.state, [(c.LITERAL, letter), behind] + rest))
    data[1] = (c.BRANCH, (None, grouped))
    del data[0]


def _folded_tree(source: str):
    """The parse tree of an IGNORECASE regex with cased literals lower-cased, flagged to be
    compiled case-sensitively; None where that would not be exact (see above)."""
    tree = _sre_parse.parse(source, re.IGNORECASE)
    if tree.state.flags != re.IGNORECASE | re.UNICODE:
        return None  # inline flags: leave the term as written
    tree = _fold_tree(tree, _sre_c)
    if tree is not None:
        tree.state.flags = re.UNICODE
    return tree


def folded_twin(source: str) -> re.Pattern | None:
    """The case-sensitive twin of an IGNORECASE regex (see above), or None."""
    if _sre_parse is None:
        return None
    try:
        tree = _folded_tree(source)
        if tree is None:
            return None
        _boundary_after_first_letter(tree, _sre_c)
        return _sre_compile.compile(tree, 0)
    except Exception:  # noqa: BLE001 - a private API may change: then there is no twin
        return None


def _required(items, c) -> list[tuple[str, ...]]:
    """Literals any match of a parse tree contains, as clauses: each match holds one literal of
    every clause. (Only what is certain: runs of literal characters, a repeat's body when it
    must occur, one clause from every alternative of a branch; assertions are passed over.)"""
    clauses: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, av in list(items) + [(None, None)]:
        if op is c.LITERAL:
            run.append(chr(av))
            continue
        if run:
            clauses.append(("".join(run),))
            run = []
        if op is c.SUBPATTERN:
            clauses += _required(av[3], c)
        elif op is c.ATOMIC_GROUP:
            clauses += _required(av, c)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1:
            clauses += _required(av[2], c)
        elif op is c.BRANCH:
            alts = [_required(alt, c) for alt in av[1]]
            if all(alts):  # the most telling clause of each alternative, any of them
                best = [max(alt, key=lambda cl: min(map(len, cl))) for alt in alts]
                clauses.append(tuple(sorted({lit for clause in best for lit in clause})))
    return clauses


class TwinScan:
    """How a regex term with a case-sensitive twin is looked for in lower-cased text; `finditer`
    gives the twin's matches.

    - `possible(text)`: False when the text lacks every literal of a clause the twin's matches
      must contain (`_required`), so the text need not be searched. Only telling clauses are
      checked: of at most 4 literals, none shorter than 3 characters (which any text holds);
    - a twin opening with `(?:^|...)` is searched as two patterns: the rest anchored at the
      start, then the other alternatives, which Python's regex engine can skip through in C
      (a leading `^` alternative makes it try every position).
    """
    __slots__ = ("twin", "needs", "head", "body")

    def __init__(self, source: str, twin: re.Pattern):
        self.twin = twin
        self.head = self.body = None
        tree = _folded_tree(source)
        self.needs = tuple(cl for cl in _required(tree.data, _sre_c)
                           if len(cl) <= 4 and min(map(len, cl)) >= 3)
        data = tree.data
        if data and data[0][0] is _sre_c.BRANCH and len(data) > 1:
            alts = data[0][1][1]
            if alts[0].data in ([(_sre_c.AT, _sre_c.AT_BEGINNING)],
                                [(_sre_c.AT, _sre_c.AT_BEGINNING_STRING)]):
                rest = data[1:]
                others = (list(alts[1].data) if len(alts) == 2 else
                          [(_sre_c.BRANCH, (None, alts[1:]))])
                self.head = _sre_compile.compile(_sre_parse.SubPattern(tree.state, rest), 0)
                self.body = _sre_compile.compile(_sre_parse.SubPattern(tree.state,
                                                                       others + rest), 0)

    def possible(self, text: str) -> bool:
        for clause in self.needs:
            for lit in clause:
                if lit in text:
                    break
            else:
                return False
        return True

    def finditer(self, text: str, pos: int = 0, endpos: int = sys.maxsize):
        if self.head is None:
            return self.twin.finditer(text, pos, endpos)
        if pos > 0:  # `^` matches only at the start of the text, whatever pos is
            return self.body.finditer(text, pos, endpos)
        first = self.head.match(text, 0, endpos)
        if first is None:
            return self.body.finditer(text, 0, endpos)
        if first.end() == 0:  # an empty match: let the twin's own iteration go on from it
            return self.twin.finditer(text, 0, endpos)
        return itertools.chain((first,), self.body.finditer(text, first.end(), endpos))


def twin_scan(source: str) -> TwinScan | None:
    """`TwinScan` of a regex term, or None when it has no twin."""
    twin = folded_twin(source)
    if twin is None:
        return None
    try:
        return TwinScan(source, twin)
    except Exception:  # noqa: BLE001 - a private API may change: then the twin alone
        scan = TwinScan.__new__(TwinScan)
        scan.twin, scan.needs, scan.head, scan.body = twin, (), None, None
        return scan


# The order the master pass tries a node's edges in.
_EDGE_KIND = {"c": 0, "s": 1, "a": 2, "w": 3}


def _edges(node: dict) -> list[tuple]:
    """A trie node's (atom, child) pairs in the order the master pass tries them: literal
    characters, separator, apostrophe, wildcard (the end of a term, `None`, is tried last)."""
    return sorted(((a, c) for a, c in node.items() if a is not None),
                  key=lambda ac: (_EDGE_KIND[ac[0][0]], ac[0][1:]))


class Matcher:
    """Every term of the codebook found in one regex pass over a text.

    The pass uses one trie-shaped alternation of all plain terms inside a lookahead at each word
    start, so overlapping terms starting at different words are all seen. Terms that match at
    the same word start are recovered from a cache keyed by the matched string: a term always
    consumes whole words, so any other term matching at that start either matches a word-prefix
    of that string (known statically) or extends past it (checked with an anchored match).

    Only a term with a `*` wildcard in the words it shares with the matched string can extend
    past it. The alternation tries, at each trie node, a literal character, then a separator,
    then an apostrophe, then a wildcard, then the end of a term; those first three exclude each
    other at one position, and the end of a term comes last, so the path the regex takes is
    never passed over in favour of a longer term unless that term branches off by a wildcard.
    That holds while the pass (exact, over the lower-cased text) and the terms' own regexes
    (case-insensitive) agree on every character: not where the text holds a character that
    case-insensitive matching lets stand for a letter of a term (dotless i for "i", long s for
    "s", ...; `re._casefix`), nor in the case-insensitive pass kept for texts whose lower-casing
    changes their length. Those check every longer term.
    """

    def __init__(self):
        self.terms: list[str] = []
        self._key: dict[str, int] = {}
        self.atoms: list[list[tuple] | None] = []
        self.full = _Patterns()  # term -> its whole pattern, compiled when first used
        self.twin: list[TwinScan | None] = []  # case-sensitive twins of regex terms
        self.ntok: list[int] = []
        self.regex_terms: list[int] = []
        self._entries: dict[str, tuple] = {}
        self._entries_all: dict[str, tuple] = {}
        self._first: dict[str, list[int]] = {}
        self._by_initial: dict[str, list[int]] = {}
        self._prefixes: dict = {}  # (term, k) and regex source -> compiled prefix
        # regex term -> where the codebook writes it and the rule it serves (for messages)
        self.origin: dict[int, str] = {}

    def add(self, term: str) -> int:
        term = term.strip()
        if term.startswith("re:"):
            key, atoms = term, None
            full = check_regex(term[3:])
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
            self.twin.append(twin_scan(term[3:]))
            self.ntok.append(0)
            self.regex_terms.append(len(self.terms) - 1)
        else:
            self.full.append(atoms)
            self.twin.append(None)
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
        alternation = self._emit(trie) if trie else r"(?!)"
        # The pass is `(?<!\w)(?=(alternation))` over the lower-cased text: at every word start,
        # the first term path that matches. It is written led by the non-word character before
        # each word start: a pattern that opens with a character class lets the regex engine
        # skip through words in C instead of trying every position (the start of the text is
        # tried on its own). Texts whose lower-casing changes their length are passed over
        # case-insensitively instead, as they are (rare: compiled when first needed).
        self._alternation = alternation
        self._after_gap = re.compile(r"\W(?=(" + alternation + "))")
        self._master_ci = None
        self._first_rx = _FirstWords(self.atoms)
        self._word_shapes: dict[int, tuple] = {}  # plain term -> `_shape` of its later words
        self._initials: dict[str, list[int]] = {}
        self._wild_initial: list[int] = []
        for t, at in enumerate(self.atoms):
            if at is None:
                continue
            if at[0][0] == "c":
                self._initials.setdefault(at[0][1], []).append(t)
            else:
                self._wild_initial.append(t)
        self._by_initial: dict[str, list[tuple[int, list[int]]]] = {}
        # characters case-insensitive matching lets stand for a letter of a plain term
        partners = {chr(k) for at in self.atoms if at is not None
                    for a in at if a[0] == "c" for k in (_EXTRA_CASES or {}).get(ord(a[1]), ())}
        self._partners = _AnyOf(partners) if partners else None
        # a text that folds (see folded_text) then holds none of these partners either
        self.partners_unfoldable = _EXTRA_CASES is not None and partners <= _PARTNERS

    def all_extends(self, low: str) -> bool:
        """Must every longer term be checked in this lower-cased text (see the class docstring)?"""
        if _EXTRA_CASES is None:
            return True  # the case-folding exceptions are unknown: check them all
        return self._partners is not None and self._partners.search(low)

    def _emit(self, node: dict) -> str:
        alts = [_atom_rx(atom) + self._emit(child) for atom, child in _edges(node)]
        if None in node:
            # The end of a term: `(?!\w)` in the terms' own patterns. Here it is written `\b`,
            # which says the same and is markedly cheaper for `re` (a position test, where a
            # look-ahead is a nested match), because the character before is always a word
            # character: a term ends with a word of `_PIECES` (`[\w*]+`, never a lone `*`), so
            # its last atom is a word character, or `\w*` after one.
            alts.append(r"\b")
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    def _prefix_rx(self, t: int, k: int) -> re.Pattern:
        """The first k words of term t, as a regex (kept: `re`'s own cache is too small for
        every term of a large codebook)."""
        rx = self._prefixes.get((t, k))
        if rx is None:
            toks = _tokens(self.atoms[t])
            source = "".join(_atom_rx(a) for tok in toks[:k] for a in tok)
            rx = self._prefixes.get(source)  # (terms often share their first words)
            if rx is None:
                rx = self._prefixes[source] = re.compile(source, re.IGNORECASE)
            self._prefixes[t, k] = rx
        return rx

    def _by_first(self, word: str) -> list[int]:
        """Terms whose first word can be `word` (cached). Only terms whose first character can
        match word[0] (under IGNORECASE, as the term regexes do) are tried."""
        found = self._first.get(word)
        if found is None:
            candidates = self._by_initial.get(word[0])
            if candidates is None:
                candidates = self._wild_initial + [
                    t for ch, ts in self._initials.items()
                    if re.fullmatch(re.escape(ch), word[0], re.IGNORECASE) for t in ts]
                candidates.sort()
                # terms with the same first word are tried once (`_FirstWords.groups`)
                candidates = self._by_initial[word[0]] = self._first_rx.groups(candidates)
            first_rx, could = self._first_rx, self._first_rx.could_match
            found = sorted(t for one, ts in candidates if could(one, word)
                           and first_rx[one].fullmatch(word) for t in ts)
            self._first[word] = found
        return found

    def _words_fit(self, t: int, words: list[str]) -> bool:
        """False only where term t cannot match the words (`_fits`, word by word). Its
        separators match only non-word characters and its letters only word characters, so
        its k-th word matches the k-th word of a text it matches, when every word of it has a
        letter or wildcard (otherwise: True, ask the regex)."""
        shapes = self._word_shapes.get(t)
        if shapes is None:
            later = [[a for a in tok if a[0] in "cw"] for tok in _tokens(self.atoms[t])[1:]]
            shapes = () if not all(later) else tuple(_shape(tok) for tok in later)
            self._word_shapes[t] = shapes
        return all(_fits(shape, word) for shape, word in zip(shapes, words[1:]))

    def _entry(self, m: str, entries: dict) -> tuple:
        """(static, extend) for master match m, kept in `entries` (`_entries`, where only terms
        branching off by a wildcard can extend past m, or `_entries_all`)."""
        words = _WORD.findall(m)
        ends = [w.end() for w in _WORD.finditer(m)]
        static, extend = [], []
        for t in self._by_first(m[:ends[0]]):
            n = self.ntok[t]
            if n <= len(ends):
                # (a one-word term is its first word then `(?!\w)`, which holds at the end of
                # the word: `_by_first` has matched it, so its pattern need not be compiled)
                if n == 1 or (self._words_fit(t, words)
                              and self.full[t].fullmatch(m, 0, ends[n - 1])):
                    static.append((t, ends[n - 1]))
            elif self._words_fit(t, words) and self._prefix_rx(t, len(ends)).fullmatch(m):
                extend.append(t)
        # See the class docstring: mostly, only a wildcard lets a term run past m.
        wild = tuple(t for t in extend
                     if any(a[0] == "w" for tok in _tokens(self.atoms[t])[:len(ends)] for a in tok))
        self._entries[m] = (tuple(static), wild)
        self._entries_all[m] = (tuple(static), tuple(extend))
        return entries[m]

    # ------------------------------------------------------------ scanning
    def scan(self, text: str, regex_terms=None) -> dict[int, list[tuple[int, int]]]:
        """Term hits in text: term index -> sorted (start, end) spans (text-relative).

        Plain terms are always scanned; explicit regex terms (one pass each) only those in
        `regex_terms` (all when None), so callers can defer them until a rule needs them.
        """
        low = text.lower()
        if len(low) != len(text):  # rare case-folding that changes length: keep offsets exact
            low, every = text, True  # (case-insensitively, two letters of the trie can match
            # one character of the text: check every longer term)
            if self._master_ci is None:
                self._master_ci = re.compile(r"(?<!\w)(?=(" + self._alternation + "))",
                                             re.IGNORECASE)
            found = [(mo.start(), mo.group(1)) for mo in self._master_ci.finditer(text)]
        else:
            every = self.all_extends(low)
            found = self.master_matches(low)
        hits = self._collect(text, found, 0, low, every)
        self.scan_regex(text, self.regex_terms if regex_terms is None else regex_terms, hits)
        return hits

    def master_matches(self, low: str) -> list[tuple[int, str]]:
        """(position, matched text) of every master match in a lower-cased text: at each word
        start, the first term path of the trie that matches there (see `build`)."""
        found = [(mo.start(1), mo.group(1)) for mo in self._after_gap.finditer(low)]
        if _WORD_CHAR.match(low) is not None:  # the text starts with a word
            head = self._after_gap.match(" " + low)
            if head:
                found.insert(0, (0, head.group(1)))
        return found

    def _collect_matches(self, text: str, found, base: int, head, every: bool) -> dict:
        """`_collect` over the Match objects of a pass (group 1 is the matched text) that ran on
        a text where `text` starts at `base`; `head`: a match of the text's first word, or None."""
        hits = self._collect(text, [(0, head.group(1))], 0, None, every) if head else {}
        return self._collect(text, ((mo.start(1), mo.group(1)) for mo in found), base, None,
                             every, hits)

    def _collect(self, text: str, matches, base: int, low: str | None = None,
                 every: bool = False, hits: dict | None = None) -> dict:
        """Hits from master matches (p, m) at absolute positions p, added to `hits`; spans are
        made relative to `base`, where `text` (the unit) starts. `low` is the text the master
        pass ran on (the lower-cased unit unless given); `every`: check every longer term
        (`all_extends`)."""
        hits = {} if hits is None else hits
        entries = self._entries_all if every else self._entries
        get = entries.get
        for p, m in matches:
            static, extend = get(m) or self._entry(m, entries)
            p -= base
            for t, length in static:
                if t in hits:
                    hits[t].append((p, p + length))
                else:
                    hits[t] = [(p, p + length)]
            if extend:
                if low is None:
                    low = text.lower()
                for t in extend:
                    mm = self.full[t].match(low, p)
                    if mm:
                        hits.setdefault(t, []).append((p, mm.end()))
        return hits

    def scan_regex(self, text: str, terms, hits: dict) -> None:
        for t in terms:
            spans = self.regex_spans(t, self.full[t], text)
            if spans:
                hits[t] = spans

    def describe(self, t: int) -> str:
        """A term for messages: where the codebook writes it, the rule it serves, the term."""
        where = self.origin.get(t)
        return f"{where + ': ' if where else ''}term {self.terms[t]!r}"

    def regex_spans(self, t: int, rx, text: str, pos: int = 0, endpos: int = sys.maxsize,
                    stop: int | None = None) -> list[tuple[int, int]]:
        """The spans of the non-empty matches of regex term t in text[pos:endpos] (those
        starting before `stop`, if given), `rx` being the term's pattern or its twin, within
        the regex budget (qualtrace.coding.regex_budget)."""
        running.term = (self, t)
        running.since = running.ticks
        try:
            if stop is None:
                return [mm.span() for mm in rx.finditer(text, pos, endpos)
                        if mm.end() > mm.start()]
            spans = []
            for mm in rx.finditer(text, pos, endpos):
                start, end = mm.span()
                if start >= stop:
                    break
                if end > start:
                    spans.append((start, end))
            return spans
        finally:
            running.term = None

    def document(self, raw: str) -> "DocumentScan":
        """One master pass over a whole document, from which units' hits are then cut."""
        return DocumentScan(self, raw)

    def keyed(self, keys) -> "KeyedTerms":
        """Plain-term hits filed under caller-chosen keys (see KeyedTerms)."""
        return KeyedTerms(self, keys)


class KeyedTerms:
    """Plain-term hits filed under keys instead of term indices: `keys[t]` lists where the hits
    of term t go (the groups of terms holding it, for the coding engine); a term with no keys is
    dropped. Each key's spans come out sorted, with a span once per term that hit it, so a key's
    list equals the sorted concatenation of its terms' hits.

    Collecting this way costs about what collecting per term does, and a caller asking about
    groups of terms then reads a group's hits instead of gathering them term by term.
    """

    def __init__(self, matcher: Matcher, keys):
        self.matcher = matcher
        self.keys = keys
        self._cache: tuple[dict, dict] = ({}, {})  # master match -> entry, by `every`

    def entry(self, m: str, every: bool) -> tuple:
        """(pairs, extend) for master match m: (key, length) for each static hit, ordered by
        length (so one key's spans at one position are appended in order), and the terms that
        may extend past m. Cached for `collect` as (length, keys) in order of length, when no
        term may extend past m."""
        entries = self.matcher._entries_all if every else self.matcher._entries
        static, extend = entries.get(m) or self.matcher._entry(m, entries)
        keys = self.keys
        pairs = tuple(sorted(((k, n) for t, n in static for k in keys[t]), key=lambda kn: kn[1]))
        extend = tuple(t for t in extend if keys[t])
        if not extend:  # filed by `collect` as (length, its keys), so a span is made once
            by_length: dict[int, list] = {}
            for k, n in pairs:
                by_length.setdefault(n, []).append(k)
            self._cache[every][m] = tuple((n, tuple(ks)) for n, ks in by_length.items())
        else:
            self._cache[every][m] = None
        return pairs, extend

    def collect(self, found, base: int, low: str, end: int, every: bool,
                out: dict | None = None) -> dict:
        """File the master matches `found` (Match objects, group 1 the matched text, on a text
        where the unit runs from `base` to `end`) under their keys; `low` is the lower-cased
        text the pass ran on, for terms that may extend past a match."""
        out = {} if out is None else out
        get = self._cache[every].get
        rare = []
        for mo in found:
            m = mo[1]  # (indexing: quicker than `group`, at ~1,200 matches a document)
            pairs = get(m)
            if pairs is None:  # not seen yet, or some term may run past it: below
                rare.append((mo.start(1), m))
                continue
            q = mo.end() - base  # (the pass consumes the one character before group 1)
            for n, ks in pairs:
                span = (q, q + n)
                for k in ks:
                    if k in out:
                        out[k].append(span)
                    else:
                        out[k] = [span]
        if rare:
            self._collect_rare(rare, base, low, end, every, out)
        return out

    def collect_pass(self, low: str, pos: int, end: int, base: int, every: bool,
                     out: dict | None = None) -> dict:
        """`collect` of the master pass over low[pos:end] (`finditer(low, pos, end)`)."""
        return self.collect(self.matcher._after_gap.finditer(low, pos, end), base, low, end,
                            every, out)

    def _collect_rare(self, found, base: int, low: str, end: int, every: bool, out: dict):
        """`collect` for matches (p, m) that are new or that a wildcard term may run past:
        checked one by one, then the keys they add to are sorted again."""
        touched = set()
        for p, m in found:
            pairs, extend = self.entry(m, every)
            spans = [(k, (p - base, p - base + n)) for k, n in pairs]
            for t in extend:
                mm = self.matcher.full[t].match(low, p, end)
                if mm:
                    spans += [(k, (p - base, mm.end() - base)) for k in self.keys[t]]
            for k, span in spans:
                out.setdefault(k, []).append(span)
                touched.add(k)
        for k in touched:
            out[k].sort()

    def from_hits(self, hits: dict) -> dict:
        """The same, from hits per term (`Matcher.scan`)."""
        out: dict = {}
        keys = self.keys
        for t, spans in hits.items():
            for k in keys[t]:
                out.setdefault(k, []).extend(spans)
        for spans in out.values():
            spans.sort()
        return out


class DocumentScan:
    """The master pass over a whole document, run unit by unit over the document's lower-cased
    text, so no unit is sliced, lower-cased or scanned on its own.

    `hits(start, end, text)` equals `Matcher.scan(text, ())` for the unit raw[start:end] == text:
    the pass runs from the character before the unit (`pos`) to the unit's end (`endpos`), and
    with `endpos` the regex sees the document end where the unit ends, as it would the end of the
    unit's own text. A unit starting inside a word, or at the document's start, has its first
    word tried on its own, as a text of its own would. A document whose lower-casing is not
    character for character (a length change, or the context-dependent final sigma) is scanned
    unit by unit instead.
    """

    def __init__(self, matcher: Matcher, raw: str):
        self.matcher = matcher
        self.raw = raw
        low = raw.lower()
        self.ok = len(low) == len(raw) and "\u03a3" not in raw
        self.folded = False
        if self.ok:
            self.low = low
            # lower-cased units may be cut from it for regex twins (see folded_text)
            self.folded = _UNFOLDABLE is None or not _UNFOLDABLE.search(low)
            # (no character that folding would not allow: none that is a term letter's partner)
            self.every = False if self.folded and matcher.partners_unfoldable \
                else matcher.all_extends(low)

    def hits(self, start: int, end: int, text: str) -> dict:
        if not self.ok:
            return self.matcher.scan(text, ())
        head, pos = self._pass(start, end)
        found = self.matcher._after_gap.finditer(self.low, pos, end)
        return self.matcher._collect_matches(text, found, start, head, self.every)

    def keyed_hits(self, start: int, end: int, text: str, keyed: KeyedTerms) -> dict:
        """`hits(start, end, text)` filed under keys (`KeyedTerms.from_hits` of it)."""
        if not self.ok:
            return keyed.from_hits(self.matcher.scan(text, ()))
        head, pos = self._pass(start, end)
        out = None
        if head:  # the unit's first word, as a text of its own (`low` is then the head's)
            first = " " + self.low[start:end]
            out = keyed.collect((head,), 1, first, len(first), self.every)
        return keyed.collect_pass(self.low, pos, end, start, self.every, out)

    def _pass(self, start: int, end: int):
        """(head, pos): the master pass over the unit raw[start:end] runs over the lower-cased
        document from pos to end; head is a match of the unit's first word on its own (or
        None), when the unit starts inside a word or at the document's start."""
        low = self.low
        if start == 0 or _WORD_CHAR.match(low, start - 1):
            head = None
            if _WORD_CHAR.match(low, start, end):  # the unit's first word, on its own
                head = self.matcher._after_gap.match(" " + low[start:end])
            return head, start
        return None, start - 1
