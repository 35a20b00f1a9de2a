"""The optional C module (src/qualtrace/_masterpass.c) against the definitions it stands in for:
the master-pass regex and the filing of its hits (qualtrace.matcher), the small scans of the
proximity rules (qualtrace.coding), and whole coding runs with and without it.

CI builds the module and sets QUALTRACE_REQUIRE_NATIVE=1, so there a missing module fails these
tests instead of skipping them."""
from __future__ import annotations

import os
import random
import re

import pytest

from qualtrace import coding, matcher as matcher_mod
from qualtrace.codebook import load_codebook
from qualtrace.coding import code_segments
from qualtrace.matcher import Matcher

from test_coding_speed import _segments

native = matcher_mod._masterpass
if native is None:
    if os.environ.get("QUALTRACE_REQUIRE_NATIVE"):
        raise RuntimeError("qualtrace._masterpass was not built (QUALTRACE_REQUIRE_NATIVE=1): "
                           "is a C compiler installed? `pip install -e .` builds it")
    pytestmark = pytest.mark.skip(reason="the C module qualtrace._masterpass is not built")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Words, separators and characters that test each branch of the walk: separator runs of every
# kind, both apostrophes, wildcards that must give characters back, non-ASCII word and space
# characters, underscores, digits, and letters that lower-casing changes.
WORDS = ["care", "careful", "carer", "control", "social", "work", "worker", "workers",
         "working", "socialwork", "client", "client's", "client\u2019s", "clients", "risk",
         "risky", "trust", "trusted", "the", "of", "said", "staff", "caf\u00e9", "na\u00efve",
         "\u00e9tude", "x_y", "2023", "re-offend", "reoffending", "wellbeing", "well",
         "being", "organisation", "organization", "organisations", "s", "i", "\u0131",
         "\u017f", "STRASSE", "stra\u00dfe", "CARE", "Social", "e.g", "nhs", "gp", "gps"]
GAPS = [" ", " ", " ", "  ", "-", " - ", "\u2010", "\u2013", "\u2014", "/", " / ", "\n",
        "\t", "\u00a0", "\u2003", ", ", ". ", "? ", "! ", "\u2026 ", ": ", "'", "\u2019", "(",
        ") ", "\"", "\u201c", "\u201d ", "_", ""]
TERMS = ["care", "care and control", "social work", "social work*", "social worker",
         "socialwork", "work*", "worker", "client's", "client*", "clients", "risk",
         "ris*y", "trust*", "the", "of the", "staff said", "caf\u00e9", "na\u00efve",
         "re-offend*", "reoffend*", "well being", "wellbeing", "organi*ation*", "s", "i",
         "strasse", "e g", "nhs", "gp*", "x_y", "2023", "client s", "work* well"]


def _text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(WORDS) + rng.choice(GAPS) for _ in range(n))


def _matcher(rng: random.Random) -> Matcher:
    m = Matcher()
    for term in rng.sample(TERMS, rng.randrange(1, len(TERMS))):
        m.add(term)
    m.build()
    return m


def _regex_matches(m: Matcher, low: str, pos: int, end: int) -> list[tuple[int, str]]:
    return [(mo.start(1), mo.group(1)) for mo in m._after_gap.finditer(low, pos, end)]


def test_the_walk_finds_what_the_master_regex_finds():
    rng = random.Random(41)
    for _ in range(60):
        m = _matcher(rng)
        assert m.native is not None
        for _ in range(25):
            low = _text(rng, rng.randrange(0, 40)).lower()
            pos = rng.choice([0, 0, rng.randrange(len(low) + 1)])
            end = rng.choice([len(low), rng.randrange(pos, len(low) + 1)])
            assert m.native.matches(low, pos, end) == _regex_matches(m, low, pos, end), \
                (m.terms, low, pos, end)


def test_hits_filed_in_c_equal_hits_filed_in_python():
    """Per unit (any start and end in a document), the same keys, spans and span order."""
    rng = random.Random(43)
    for _ in range(30):
        m = _matcher(rng)
        keys = [tuple(sorted(rng.sample(range(5), rng.randrange(0, 3)))) for _ in m.terms]
        keyed = m.keyed(keys)
        raw = _text(rng, 150)
        doc = m.document(raw)
        for _ in range(40):
            start = rng.randrange(len(raw))
            end = rng.randrange(start, min(len(raw), start + 300) + 1)
            text = raw[start:end]
            fast = doc.keyed_hits(start, end, text, keyed)
            trie, m.native = m.native, None
            try:
                plain = doc.keyed_hits(start, end, text, keyed)
            finally:
                m.native = trie
            assert fast == plain, (m.terms, start, end, text)


def test_sentence_breaks_found_in_c_equal_their_regex():
    rng = random.Random(47)
    for _ in range(400):
        text = _text(rng, rng.randrange(0, 30))
        if rng.random() < 0.3:  # capitals and openers after the stops
            text = text.replace(". ", rng.choice([". A", ". \u201cThe", ". (3", ".\u201d 9"]))
        assert native.breaks(text) == coding._breaks_re(text), text


def test_proximity_pairs_found_in_c_equal_those_found_in_python(monkeypatch):
    """`_pair` with and without the C search, on random spans over random text."""
    from types import SimpleNamespace
    rng = random.Random(61)
    for _ in range(1500):
        text = _text(rng, rng.randrange(1, 25))
        if rng.random() < 0.5:
            text = text.replace(". ", rng.choice([". A", ". \u201cThe", ". (3"]))
        words = [mo.span() for mo in re.finditer(r"\w+", text)]
        if not words:
            continue
        a = sorted(rng.sample(words, rng.randrange(1, min(4, len(words)) + 1)))
        b = sorted(rng.sample(words, rng.randrange(1, min(4, len(words)) + 1)))
        if rng.random() < 0.3:  # longer spans, overlapping ones
            a = sorted({(s, min(len(text), e + rng.randrange(0, 12))) for s, e in a})
        prog = SimpleNamespace(within=rng.randrange(0, 8), same_sentence=rng.random() < 0.7,
                               a_first=rng.random() < 0.5, id="r", index=3)
        answers = []
        for search in (native.pair, None):
            monkeypatch.setattr(coding, "_pair_search", search)
            unit = coding._Unit(text, {}, 0, "paragraph", {}, None, frozenset(), {})
            answers.append(coding._pair(prog, unit, list(a), list(b), ()))
        assert answers[0] == answers[1], (text, a, b, prog)


def test_any_of_and_masks_equal_their_python_definitions():
    rng = random.Random(53)
    for _ in range(300):
        chars = "".join(sorted(set(rng.sample("\u0131\u017f\u03c3\u00b5k\u2019e_", 3))))
        rx = re.compile("[" + re.escape(chars) + "]")
        text = _text(rng, rng.randrange(0, 10))
        assert native.holds_any(text, chars) == (rx.search(text) is not None), text
        keys = {rng.randrange(400): None for _ in range(rng.randrange(0, 40))}
        assert native.mask(keys) == sum(1 << k for k in keys)
    with pytest.raises(ValueError):
        native.holds_any("abc", "ba")  # chars must be sorted
    with pytest.raises(ValueError):
        native.mask({-1: None})


def test_bad_tries_are_refused():
    with pytest.raises(ValueError):
        native.Trie([])
    with pytest.raises(ValueError):
        native.Trie([(False, ((0, ord("a"), 0),))])  # a child must come after its node
    with pytest.raises(ValueError):
        native.Trie([(False, ((1, 0, 1), (0, ord("a"), 2))), (True, ()), (True, ())])


@pytest.fixture
def pure_python(monkeypatch):
    """Coding with every scan of the C module replaced by its Python definition."""
    monkeypatch.setattr(matcher_mod, "_masterpass", None)
    monkeypatch.setattr(coding, "_breaks", coding._breaks_re)
    monkeypatch.setattr(coding, "_mask", None)
    monkeypatch.setattr(coding, "_pair_search", None)


def _code(codebook_path: str, raw: str, segs: list[dict]):
    cb = load_codebook(codebook_path)  # a new matcher: built with or without the C module
    return code_segments(segs, {"d1": raw}, cb)


@pytest.fixture(scope="module")
def random_corpus():
    rng = random.Random(59)
    raw, segs = _segments(rng, 400)
    return raw, segs


def test_coding_with_the_c_module_equals_coding_without(random_corpus, request):
    """The repository's codebook over random text: the same rows either way."""
    codebook = os.path.join(ROOT, "config", "codebook.yaml")
    raw, segs = random_corpus
    fast = _code(codebook, raw, segs)
    assert fast[0] and fast[1]
    request.getfixturevalue("pure_python")
    assert matcher_mod._masterpass is None
    slow = _code(codebook, raw, segs)
    assert load_codebook(codebook).matcher.native is None
    assert fast == slow
