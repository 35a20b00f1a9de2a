"""The coding engine's speed-ups, each checked against its plain definition on seeded random
text (a shortcut that changes an answer fails here): hits filed by group of terms, regex twins
searched in two parts or skipped when literals they need are missing, rows written in order."""
from __future__ import annotations

import random
import re

from qualtrace.coding import engine
from qualtrace.coding.codebook import parse_codebook
from qualtrace.coding.engine import code_segments
from qualtrace.coding.matcher import Matcher, _folded_tree, _required, _sre_c, folded_text, twin_scan

WORDS = ["care", "control", "risk", "staff", "clients", "client's", "said", "felt", "social",
         "work", "worker", "workers", "support", "rehabilitation", "trust", "the", "of", "was",
         "seen", "as", "e.g.", "Said", "STAFF", "caf\u00e9", "service", "users", "Clients"]
TERMS = ["care", "care and control", "control", "risk*", "staff", "staff said", "client's",
         "client*", "social work*", "social worker", "rehabilitat*", "trust*", "said", "felt",
         "work", "workers said", "share* information", "shared", "service user*"]


def _random_text(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        word = rng.choice(WORDS + ["shared information", "sharing"])
        if rng.random() < 0.1:
            word = word.upper() if rng.random() < 0.5 else word.capitalize()
        out.append(word + rng.choice([" ", " ", " ", ", ", ". ", " - ", "/", "\n", "? ", ": "]))
    return "".join(out)


def _matcher() -> Matcher:
    m = Matcher()
    for term in TERMS:
        m.add(term)
    m.build()
    return m


def test_hits_filed_by_key_equal_each_keys_terms_hits_sorted():
    rng = random.Random(17)
    m = _matcher()
    keys = [tuple(sorted(rng.sample(range(6), rng.randrange(0, 3)))) for _ in m.terms]
    keyed = m.keyed(keys)
    for _ in range(40):
        raw = _random_text(rng, 120)
        doc = m.document(raw)
        for _ in range(30):
            start = rng.randrange(len(raw))
            end = rng.randrange(start, min(len(raw), start + 200) + 1)
            text = raw[start:end]
            per_term = m.scan(text, ())
            expected: dict = {}
            for t, spans in per_term.items():
                for k in keys[t]:
                    expected.setdefault(k, []).extend(spans)
            expected = {k: sorted(v) for k, v in expected.items()}
            assert keyed.from_hits(per_term) == expected
            assert doc.keyed_hits(start, end, text, keyed) == expected, (start, end, text)


TWIN_SOURCES = [r"(?:^|[.!?:;]\s+)(?:(?:some|the)\s+)?(?:clients|service\s+users)\b[^.;]{0,40}?"
                r"\b(?:said|felt)\b",
                r"(?:^|\bof\s+)staff\b", r"(?:\A|,\s*)the\s+\w+", r"(?:^|x|y)",
                r"\b(?:was|were)\s+(?:\w+ly\s+)?seen\b", r"consisten\w*\W+(?:\w+\W+){0,3}?worker",
                r"(?:of|for)\s+(?:the\s+)?clients?\b", r"^\W*clients?\b", r"staff|care",
                # alternatives sharing a first letter, where their order decides the match
                # (the twin groups them by that letter: `_boundary_after_first_letter`)
                r"\b(?:s|the|sai|said)d?", r"\b(?:w|of|wo|work)(?:er|ers)?\b",
                r"\b(?:care|staff|control|clients?|c)\s+\w+"]


def test_twin_scans_find_what_the_terms_find():
    rng = random.Random(23)
    scans = [(re.compile(src, re.IGNORECASE), twin_scan(src)) for src in TWIN_SOURCES]
    assert all(scan is not None for _, scan in scans)
    assert scans[0][1].head is not None and scans[2][1].head is not None  # split at `^|`
    for _ in range(300):
        text = rng.choice(["", "Clients "]) + _random_text(rng, rng.randrange(1, 30))
        low = folded_text(text)
        if low is None:
            continue
        lo = rng.choice([0, 0, rng.randrange(len(text) + 1)])
        hi = rng.choice([len(text), rng.randrange(lo, len(text) + 1)])
        for full, scan in scans:
            want = [mm.span() for mm in full.finditer(text, lo, hi)]
            assert [mm.span() for mm in scan.finditer(low, lo, hi)] == want, (full.pattern, text)
            if not scan.possible(low):  # literals every match needs are missing
                assert not full.search(text), (full.pattern, text)


def test_required_literals_are_in_every_match():
    rng = random.Random(29)
    for src in TWIN_SOURCES:
        clauses = _required(_folded_tree(src).data, _sre_c)
        rx = re.compile(src)
        for _ in range(200):
            text = _random_text(rng, 15).lower()
            for mm in rx.finditer(text):
                for clause in clauses:
                    assert any(lit in mm.group(0) for lit in clause), (src, clause, mm.group(0))


CODEBOOK = """\
codebook: speed
version: 1
themes:
  - id: beta
    label: Beta
    definition: b
    rules:
      - id: beta/words
        any: [support, trust*]
  - id: alpha
    label: Alpha
    definition: a
    rules:
      - id: alpha/near
        near: {a: [clients], b: [said, felt], within: 4}
        unless: ["re:\\\\bof\\\\s+clients"]
facets:
  - id: zone
    label: Zone
    definition: z
    values:
      - id: west
        label: West
        definition: w
        rules:
          - id: zone/west
            any: [care]
      - id: east
        label: East
        definition: e
        rules:
          - id: zone/east
            any: [control, risk*]
"""


def _segments(rng: random.Random, n: int):
    parts, segs, pos = [], [], 0
    for i in range(n):
        text = _random_text(rng, rng.randrange(3, 25))
        parts.append(text + "\n")
        # ids whose natural order is not their text order, some with equal keys ("s-7", "s-07")
        sid = f"d1-{rng.choice(['', '0'])}{rng.randrange(n // 2)}"
        segs.append({"segment_id": sid, "doc_id": "d1", "kind": "paragraph", "start": pos,
                     "end": pos + len(text), "section": "", "boilerplate": False,
                     "speaker_group": "", "speaker_group_raw": "", "attribution_start": None})
        pos += len(text) + 1
    return "".join(parts), segs


def _natural_key(row):
    return ("d1", [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", row["segment_id"])])


def test_rows_come_sorted_and_tied_segments_keep_their_input_order():
    """Rows sort by segment key (natural order of ids), then theme / facet and value; rows of
    segments with equal keys ("d1-7", "d1-07") come in the order the segments were given."""
    cb = parse_codebook(CODEBOOK)
    rng = random.Random(31)
    raw, segs = _segments(rng, 60)
    for _ in range(4):
        rng.shuffle(segs)
        codings, facets = code_segments(segs, {"d1": raw}, cb)
        assert codings and facets

        def given(row):  # the input position of the segment a row's evidence lies in
            at = int(row["evidence_start"])
            return next(i for i, seg in enumerate(segs) if seg["segment_id"] == row["segment_id"]
                        and int(seg["start"]) <= at < int(seg["end"]))
        for rows, label in ((codings, ("theme",)), (facets, ("facet", "value"))):
            assert rows == sorted(rows, key=lambda row: (
                _natural_key(row), [row[f] for f in label], given(row)))


def test_grouped_units_answer_like_units_with_hits_per_term():
    """Rules over a unit whose scan filed hits by group, and over one that gathers them from
    hits per term on first use (`_Unit.grouped`), find the same evidence."""
    cb = parse_codebook(CODEBOOK)
    eng = engine.Engine(cb)
    rng = random.Random(37)
    for _ in range(200):
        text = _random_text(rng, rng.randrange(2, 30))
        hits = cb.matcher.scan(text, ())
        mask = eng.bits.mask(hits)
        legacy = engine._Unit(text, dict(hits), mask, "paragraph", {}, cb.matcher, frozenset())
        grouped = engine._Unit(text, {}, mask, "paragraph", {}, cb.matcher, frozenset(),
                               eng.keyed.from_hits(hits))
        for ls in [eng.themes] + [labels for _, labels in eng.facets]:
            for prog in ls.rules:
                assert engine._evaluate(prog, legacy, prog.lab.vetoes(legacy)) == \
                    engine._evaluate(prog, grouped, prog.lab.vetoes(grouped)), (prog.id, text)


def test_word_shapes_never_rule_out_a_word_the_regex_matches():
    """`_fits` (asked before a term's word regex is compiled) may say True wrongly, never
    False wrongly: checked on words with wildcards, non-ASCII letters and case partners."""
    from qualtrace.coding.matcher import TermSyntaxError, _atom_rx, _atoms, _fits, _shape, _tokens
    rng = random.Random(41)
    letters = "abcksz\u00e9\u00df\u017f\u212aKSI\u0130i\u0131"
    ruled_out = 0
    for _ in range(3000):
        term = "".join(rng.choice(letters + "**") for _ in range(rng.randrange(1, 5)))
        if not term.strip("*"):
            continue
        try:
            token = _tokens(_atoms(term))[0]
        except TermSyntaxError:  # (a lone '*' once lower-cased: not a term)
            continue
        rx = re.compile("".join(_atom_rx(a) for a in token), re.IGNORECASE)
        word = "".join(rng.choice(letters) for _ in range(rng.randrange(1, 6)))
        if rng.random() < 0.3:  # a word the term's letters spell, in some case
            word = "".join(ch.upper() if rng.random() < 0.5 else ch for ch in term.replace("*", ""))
        fits = _fits(_shape(token), word)
        assert fits or not rx.fullmatch(word), (term, word)
        ruled_out += not fits
    assert ruled_out > 100  # the check does rule words out


def test_word_limit_pattern_counts_words_like_findall():
    """`_more_words_than(n)` (the proximity search's "too far apart?") answers as counting the
    words between with `_WORD.findall` does, windows cutting through words included."""
    rng = random.Random(43)
    chars = "ab \u00e9_1-.,'\u2019\n\u00df"
    for _ in range(3000):
        text = "".join(rng.choice(chars) for _ in range(rng.randrange(0, 40)))
        lo = rng.randrange(len(text) + 1)
        hi = rng.randrange(lo, len(text) + 1)
        n = rng.randrange(-1, 8)
        expected = len(engine._WORD.findall(text, lo, hi)) > n
        assert (engine._more_words_than(n).match(text, lo, hi) is not None) == expected, \
            (text, lo, hi, n)
