"""The coding engine on small hand-made texts: each rule form, vetoes, facets, spans, order."""
from __future__ import annotations

from pathlib import Path

import pytest

from qualtrace.coding.codebook import CodebookError, load_codebook, parse_codebook
from qualtrace.coding.engine import CODING_FIELDS, FACET_FIELDS, code_segments

ROOT = Path(__file__).resolve().parents[1]

CODEBOOK = """\
codebook: test
version: 1
vocab:
  people: [clients, staff]
themes:
  - id: money
    label: Money
    definition: Funding.
    unless: [money laundering]
    rules:
      - id: money/words
        any: [funding, budget*]
  - id: joint
    label: Joint
    definition: Joint working.
    rules:
      - id: joint/near
        near: {a: [police], b: [work*], within: 2}
  - id: ordered
    label: Ordered
    definition: A before B.
    rules:
      - id: ordered/a_first
        near: {a: [risk], b: [welfare], within: 3, order: a_first}
  - id: both
    label: Both
    definition: Co-occurrence.
    rules:
      - id: both/all
        all: [[housing], [health]]
  - id: many
    label: Many
    definition: Two distinct terms.
    rules:
      - id: many/two
        any: [alpha, beta, gamma]
        min_hits: 2
  - id: vetoed
    label: Vetoed
    definition: Rule-level veto and unit-level silence.
    rules:
      - id: vetoed/care
        any: [care]
        unless: [social care]
        not_with: [national care service]
facets:
  - id: stakeholder
    label: Stakeholder
    definition: Whose view.
    attribution: {rule: stakeholder/attribution}
    inherit: {rule: stakeholder/list_lead_in, kinds: [list_item]}
    values:
      - id: client
        label: Clients
        definition: Clients.
        speaker_groups: [client]
        rules:
          - id: stakeholder/clients_said
            near: {a: [clients], b: [said, felt], within: 3, order: a_first}
      - id: jsw_professional
        label: Staff
        definition: Staff.
        speaker_groups: [justice_social_worker]
        speaker_terms: [social worker*]
        rules:
          - id: stakeholder/staff_said
            near: {a: [staff], b: [said, felt], within: 3, order: a_first}
      - id: research
        label: Research
        definition: Research.
    fallback:
      - id: stakeholder/review
        value: research
        any: [literature review]
"""


@pytest.fixture(scope="module")
def cb():
    return parse_codebook(CODEBOOK)


def make(lines: list[tuple[str, str]], doc: str = "d1"):
    """Raw text and segments from (kind, text) lines; quotes get an attribution."""
    raw, segs = "", []
    for n, (kind, text) in enumerate(lines, 1):
        start = len(raw)
        raw += text + "\n"
        seg = {"segment_id": f"{doc}-{n:04d}", "doc_id": doc, "kind": kind, "section": "S",
               "start": start, "end": start + len(text), "text": text,
               "boilerplate": False, "speaker_group_raw": "", "speaker_group": "",
               "attribution_start": None}
        if kind == "quote" and text.endswith(")"):
            att = text.rindex("(")
            seg.update(attribution_start=start + att,
                       speaker_group_raw=text[att + 1:-1])
        segs.append(seg)
    return raw, segs


def themes_of(cb, lines, **kw):
    raw, segs = make(lines)
    codings, _ = code_segments(segs, {"d1": raw}, cb)
    return {(r["segment_id"][-1], r["theme"]) for r in codings}


def facet_rows(cb, lines, speaker_groups=None):
    raw, segs = make(lines)
    for seg, group in zip(segs, speaker_groups or []):
        seg["speaker_group"] = group
    _, facets = code_segments(segs, {"d1": raw}, cb)
    return facets


# ---------------------------------------------------------------- rule forms
def test_phrase_list_is_case_insensitive_and_word_bounded(cb):
    got = themes_of(cb, [("paragraph", "FUNDING was cut."), ("paragraph", "Refunding is odd."),
                         ("paragraph", "Budgets, budgeting and more.")])
    assert got == {("1", "money"), ("3", "money")}


def test_inflection_wildcard(cb):
    raw, segs = make([("paragraph", "They were budgeting carefully.")])
    codings, _ = code_segments(segs, {"d1": raw}, cb)
    assert codings[0]["evidence_text"] == "budgeting"


def test_theme_level_unless_vetoes_overlapping_hit_only():
    text = CODEBOOK.replace("any: [funding, budget*]", "any: [funding, budget*, money]")
    cb = parse_codebook(text)
    assert themes_of(cb, [("paragraph", "Money laundering was not discussed.")]) == set()
    assert themes_of(cb, [("paragraph", "Money laundering aside, money was short.")]) == \
        {("1", "money")}


def test_rule_unless_and_not_with(cb):
    got = themes_of(cb, [("paragraph", "Social care was mentioned."),
                         ("paragraph", "Social care and care at home."),
                         ("paragraph", "The National Care Service would provide care.")])
    assert got == {("2", "vetoed")}


@pytest.mark.parametrize("between,fires", [(0, True), (1, True), (2, True), (3, False)])
def test_proximity_window_edges(cb, between, fires):
    text = "The police " + "x " * between + "worked with us."
    assert (("1", "joint") in themes_of(cb, [("paragraph", text)])) is fires


def test_proximity_either_order_and_a_first(cb):
    assert ("1", "joint") in themes_of(cb, [("paragraph", "Work with the police.")])
    assert ("1", "ordered") in themes_of(cb, [("paragraph", "Risk and welfare.")])
    assert ("1", "ordered") not in themes_of(cb, [("paragraph", "Welfare and risk.")])


def test_proximity_stays_in_one_sentence(cb):
    assert themes_of(cb, [("paragraph", "We called the police. Work resumed.")]) == set()


def test_requires_a_cue_in_the_same_sentence():
    """`requires:` (a precision guard): a broad term fires only with a cue in its sentence,
    however far apart in it, and the evidence runs from the term to the cue."""
    text = CODEBOOK.replace("""      - id: money/words
        any: [funding, budget*]""", """      - id: money/words
        any: [funding, budget*]
      - id: money/ethos_with_point
        any: [ethos]
        requires: [people, dignity]""")
    cb = parse_codebook(text)
    far = "The ethos of the team, built up " + "slowly and " * 12 + "carefully, put people first."
    raw, segs = make([("paragraph", "The team had a strong ethos."),
                      ("paragraph", far),
                      ("paragraph", "The ethos was strong. People noticed."),
                      ("paragraph", "Dignity mattered to the ethos.")])
    codings, _ = code_segments(segs, {"d1": raw}, cb)
    got = {(r["segment_id"][-1], r["evidence_text"], r["rule"]) for r in codings}
    assert got == {("2", far[4:far.index("people") + 6], "money/ethos_with_point"),
                   ("4", "Dignity mattered to the ethos", "money/ethos_with_point")}


def test_requires_only_with_any():
    text = CODEBOOK.replace("""        all: [[housing], [health]]""", """        all: [[housing], [health]]
        requires: [people]""")
    with pytest.raises(CodebookError, match="'requires' goes with 'any'"):
        parse_codebook(text)


SPEAKERS = CODEBOOK.replace("""      - id: joint/near
        near: {a: [police], b: [work*], within: 2}""", """      - id: joint/near
        near: {a: [police], b: [work*], within: 2}
      - id: joint/speaker_on_staff
        any: [social worker*]
        speakers: [client]""")


def test_speakers_reads_a_rule_only_in_quotations_of_those_speakers():
    cb = parse_codebook(SPEAKERS)
    lines = [("quote", "\u201cMy social worker was great.\u201d (Client interview 1)"),
             ("quote", "\u201cThe social workers were great.\u201d (Justice social workers interview 2)"),
             ("paragraph", "The social worker was great."),
             ("quote", "\u201cSocial workers, again.\u201d (Client interview 3)")]
    raw, segs = make(lines)
    for seg, group in zip(segs, ["client", "justice_social_worker", "", "client"]):
        seg["speaker_group"] = group
    codings, facets = code_segments(segs, {"d1": raw}, cb)
    assert [(r["segment_id"][-1], r["theme"], r["rule"], r["evidence_text"]) for r in codings] \
        == [("1", "joint", "joint/speaker_on_staff", "social worker"),
            ("4", "joint", "joint/speaker_on_staff", "Social workers")]
    # the attribution still gives the quotation's stakeholder, as before
    assert [(r["segment_id"][-1], r["value"]) for r in facets
            if r["rule"] == "stakeholder/attribution"] == \
        [("1", "client"), ("2", "jsw_professional"), ("4", "client")]


def test_speakers_must_be_values_of_the_attributing_facet():
    with pytest.raises(CodebookError, match=r":\d+:\d+: .*unknown speaker value 'clients' "
                                            r"\(did you mean 'client'\?\)"):
        parse_codebook(SPEAKERS.replace("speakers: [client]", "speakers: [clients]"))
    no_attribution = SPEAKERS.replace(
        "    attribution: {rule: stakeholder/attribution}\n", "")
    with pytest.raises(CodebookError, match="no facet has an `attribution:` rule"):
        parse_codebook(no_attribution)


def test_all_of_needs_every_group(cb):
    assert ("1", "both") in themes_of(cb, [("paragraph", "Housing was hard; so was health.")])
    assert themes_of(cb, [("paragraph", "Housing was hard.")]) == set()


def test_min_hits_counts_distinct_terms(cb):
    assert themes_of(cb, [("paragraph", "alpha alpha alpha")]) == set()
    assert themes_of(cb, [("paragraph", "alpha then beta")]) == {("1", "many")}


# ---------------------------------------------------------------- what is coded
def test_headings_and_boilerplate_are_never_coded(cb):
    raw, segs = make([("heading", "Funding"), ("paragraph", "Funding matters."),
                      ("furniture", "Funding contact"), ("paragraph", "Funding again.")])
    segs[3]["boilerplate"] = True
    codings, facets = code_segments(segs, {"d1": raw}, cb)
    assert [r["segment_id"] for r in codings] == ["d1-0002"]
    assert all(r["segment_id"] == "d1-0002" for r in facets)


def test_theme_rules_do_not_fire_on_attribution(cb):
    text = CODEBOOK.replace("any: [funding, budget*]", "any: [funding, interview]")
    cb2 = parse_codebook(text)
    got = themes_of(cb2, [("quote", "\u201cIt was fine.\u201d (Client interview 3)")])
    assert got == set()


def test_evidence_spans_are_exact_and_absolute(cb):
    lines = [("paragraph", "Nothing here."), ("paragraph", "Police often work late; funding.")]
    raw, segs = make(lines)
    codings, facets = code_segments(segs, {"d1": raw}, cb)
    assert codings and all(list(r) == CODING_FIELDS for r in codings)
    for r in codings + facets:
        s, e = int(r["evidence_start"]), int(r["evidence_end"])
        assert raw[s:e] == r["evidence_text"]
        seg = next(x for x in segs if x["segment_id"] == r["segment_id"])
        assert int(seg["start"]) <= s < e <= int(seg["end"])
    joint = next(r for r in codings if r["theme"] == "joint")
    assert joint["evidence_text"] == "Police often work" and joint["rule"] == "joint/near"


def test_evidence_is_the_earliest_match(cb):
    raw, segs = make([("paragraph", "Budget talk, then funding.")])
    codings, _ = code_segments(segs, {"d1": raw}, cb)
    assert codings[0]["evidence_text"] == "Budget"


# ---------------------------------------------------------------- stakeholders
def test_quote_stakeholder_comes_from_attribution(cb):
    rows = facet_rows(cb, [("quote", "\u201cStaff said it was fine.\u201d (Client interview 5)")],
                      speaker_groups=["client"])
    assert [(r["value"], r["rule"], r["evidence_text"]) for r in rows] == \
        [("client", "stakeholder/attribution", "Client interview 5")]


def test_unknown_speaker_group_falls_back_to_speaker_terms(cb):
    rows = facet_rows(cb, [("quote", "\u201cFine.\u201d (Senior social workers interview 2)")],
                      speaker_groups=["senior_social_workers"])
    assert [r["value"] for r in rows] == ["jsw_professional"]


def test_narrative_reporting_subject_not_mere_mention(cb):
    rows = facet_rows(cb, [("paragraph", "Clients said they felt respected."),
                           ("paragraph", "Staff felt that support for clients was good.")])
    got = {(r["segment_id"][-1], r["value"]) for r in rows}
    assert got == {("1", "client"), ("2", "jsw_professional")}


def test_list_items_inherit_from_their_lead_in(cb):
    rows = facet_rows(cb, [("paragraph", "Clients said these would help:"),
                           ("list_item", "- More evening appointments"),
                           ("paragraph", "Nothing reported here."),
                           ("list_item", "- Orphan item")])
    got = {(r["segment_id"][-1], r["value"], r["rule"]) for r in rows}
    assert got == {("1", "client", "stakeholder/clients_said"),
                   ("2", "client", "stakeholder/list_lead_in")}
    item = next(r for r in rows if r["segment_id"].endswith("2"))
    assert item["evidence_text"] == "More evening appointments"


def test_fallback_only_when_nothing_else(cb):
    rows = facet_rows(cb, [("paragraph", "The literature review found gaps."),
                           ("paragraph", "Staff said the literature review helped.")])
    got = {(r["segment_id"][-1], r["value"]) for r in rows}
    assert got == {("1", "research"), ("2", "jsw_professional")}


# ---------------------------------------------------------------- determinism
def test_same_input_same_rows_in_any_input_order(cb):
    lines = [("paragraph", "Funding and police work."), ("paragraph", "Clients said housing."),
             ("list_item", "- inherits from the paragraph before it"),
             ("quote", "\u201cBudget.\u201d (Justice social workers interview 1)")]
    raw, segs = make(lines)
    segs[3]["speaker_group"] = "justice_social_worker"
    first = code_segments(segs, {"d1": raw}, cb)
    assert ("d1-0003", "client") in {(r["segment_id"], r["value"]) for r in first[1]}
    second = code_segments(list(reversed(segs)), {"d1": raw}, cb)
    assert first == second
    assert all(list(r) == FACET_FIELDS for r in first[1])


def test_project_codebook_on_report_language():
    """The real codebook: reporting subject vs mention, attribution, theme vs passing word."""
    cb = load_codebook(ROOT / "config" / "codebook.yaml")
    lines = [
        ("paragraph", "Clients reported that their justice social workers were approachable."),
        ("paragraph", "JSW professionals felt they could not always find mental health support "
                      "for a client, and clients were seen as less well served."),
        ("paragraph", "Wider professional partners said they valued joint working with JSW."),
        ("quote", "\u201cWe have too many cases.\u201d (Justice social workers interview 4)"),
    ]
    raw, segs = make(lines)
    segs[3]["speaker_group"] = "justice_social_worker"
    codings, facets = code_segments(segs, {"d1": raw}, cb)
    who = {(r["segment_id"][-1], r["value"]) for r in facets if r["facet"] == "stakeholder"}
    assert who == {("1", "client"), ("2", "jsw_professional"), ("3", "partner"),
                   ("4", "jsw_professional")}
    themes = {(r["segment_id"][-1], r["theme"]) for r in codings}
    assert ("1", "relationships") in themes and ("3", "partnership") in themes
    assert not any(t == "dual_role" for _, t in themes)


# ---------------------------------------------------------------- fast paths = plain definitions
# The engine takes shortcuts (one matcher pass per document, earliest-pair search, sentence
# breaks listed once, case-sensitive twins of regex terms). Each is checked here against the
# plain definition on seeded random text, so a shortcut that changes an answer fails a test.
import random  # noqa: E402
import re  # noqa: E402

from qualtrace.coding import engine  # noqa: E402
from qualtrace.coding.matcher import Matcher, folded_text, folded_twin  # noqa: E402

WORDS = ["care", "control", "risk", "staff", "clients", "client's", "said", "felt", "social",
         "work", "worker", "workers", "support", "rehabilitation", "rehabilitative", "trust",
         "national", "care-led", "the", "of", "and", "was", "seen", "as", "e.g.", "Mr.",
         "Said", "STAFF", "\u017ftaff", "\u0131tem", "\u212aare", "caf\u00e9", "\u00c9quipe"]
TERMS = ["care", "care and control", "control", "risk*", "staff", "staff said", "client's",
         "client*", "social work*", "social worker", "rehabilitat*", "support work", "trust*",
         "care-led", "said", "felt", "national care", "work", "workers said", "tailor* to local",
         "share* information", "shared"]


def _random_text(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        word = rng.choice(WORDS + ["tailored to local", "shared information", "sharing"])
        if rng.random() < 0.1:
            word = word.upper() if rng.random() < 0.5 else word.capitalize()
        out.append(word + rng.choice([" ", " ", " ", ", ", ". ", " - ", "/", "\n", "? "]))
    return "".join(out)


@pytest.fixture(scope="module")
def matcher():
    m = Matcher()
    for term in TERMS + ["re:\\bstaff\\s+\\w+", "re:(?:of|the)\\s+clients?\\b"]:
        m.add(term)
    m.build()
    return m


def _all_terms_at_word_starts(m: Matcher, text: str) -> dict:
    """The definition: every plain term, matched at every word start."""
    low = text.lower()
    hits: dict = {}
    for p in range(len(low)):
        if p and re.match(r"\w", low[p - 1]):
            continue
        for t, atoms in enumerate(m.atoms):
            if atoms is not None:
                mm = m.full[t].match(low, p)
                if mm:
                    hits.setdefault(t, []).append(mm.span())
    return hits


def test_one_pass_finds_every_term_at_every_word_start(matcher):
    rng = random.Random(7)
    for _ in range(60):
        text = _random_text(rng, 40).replace("\u017f", "s").replace("\u0131", "i")
        assert matcher.scan(text, ()) == _all_terms_at_word_starts(matcher, text)


def test_document_pass_equals_scanning_each_unit(matcher):
    rng = random.Random(11)
    for _ in range(40):
        raw = _random_text(rng, 120)
        doc = matcher.document(raw)
        for _ in range(30):
            start = rng.randrange(len(raw))
            end = rng.randrange(start, min(len(raw), start + 200) + 1)
            text = raw[start:end]
            assert doc.hits(start, end, text) == matcher.scan(text, ()), (start, end, text)


def test_sentence_breaks_listed_once_answer_like_a_search():
    rng = random.Random(3)
    for _ in range(50):
        text = _random_text(rng, 30)
        unit = engine._Unit(text, {}, 0, "paragraph", {}, None, frozenset())
        for _ in range(40):
            lo = rng.randrange(len(text) + 1)
            hi = rng.randrange(lo, len(text) + 1)
            brk = engine._SENTENCE_BREAK.search(text, lo)
            assert unit.breaks_between(lo, hi) == bool(brk and brk.start() < hi)


NEAR = """\
codebook: near
version: 1
themes:
  - id: pair
    label: Pair
    definition: A near B.
    rules:
      - id: pair/near
        near: {a: [a1, a2, a3 a4], b: [b1, b2, a2], within: WITHIN, order: ORDER,
               same_sentence: SAME}
"""


@pytest.mark.parametrize("within", [0, 1, 3, 8])
@pytest.mark.parametrize("order", ["any", "a_first"])
@pytest.mark.parametrize("same", ["true", "false"])
def test_earliest_pair_is_the_first_of_all_pairs(within, order, same):
    cb = parse_codebook(NEAR.replace("WITHIN", str(within)).replace("ORDER", order)
                        .replace("SAME", same))
    eng = engine.Engine(cb)
    prog = eng.themes.rules[0]
    rng = random.Random(within * 10 + len(order) + len(same))
    vocab = ["a1", "a2", "a3 a4", "b1", "b2", "x", "y", "z", "e.g.", "it"]
    for _ in range(150):
        text = " ".join(rng.choice(vocab) + rng.choice(["", "", ".", ",", ". Then"])
                        for _ in range(rng.randrange(2, 25)))
        hits = cb.matcher.scan(text, ())
        unit = engine._Unit(text, hits, eng.bits.mask(hits), "paragraph", {}, cb.matcher,
                            frozenset())
        a = engine._group_hits(prog.groups[0], hits, ())
        b = engine._group_hits(prog.groups[1], hits, ())
        pairs = engine._near(prog, a, b, unit) if a and b else []
        got = engine._fire_near(prog, unit, [])
        assert (got[:2] if got else None) == (pairs[0] if pairs else None), text


TWIN_SOURCES = [r"\b(?:was|were|is)\s+(?:\w+ly\s+)?seen\b", r"(?:of|for)\s+(?:the\s+)?clients?\b",
                r"consisten\w*\W+(?:\w+\W+){0,3}?(?:same|one)\s+worker", r"^\W*clients?\b",
                r"\bSTAFF\b", r"[0-9]+\s*staff", r"(\w+) \1", r"caf\u00e9s?", r"\bI\b",
                r"(?<=the )risk", r"[^a-z\s]{2,}", r"stat[ie]s?"]


def test_case_sensitive_twins_match_like_the_terms():
    rng = random.Random(5)
    twins = [(re.compile(src, re.IGNORECASE), folded_twin(src)) for src in TWIN_SOURCES]
    assert all(twin is not None for _, twin in twins[:6])
    assert folded_twin("(?-i:Care)") is None and folded_twin("[A-Z]x") is None
    assert folded_twin("\u0131tem") is None  # dotless i also stands for i
    for _ in range(200):
        text = _random_text(rng, 30) + rng.choice(["", " the the", " 12 STAFF", " I said"])
        low = folded_text(text)
        if low is None:
            assert re.search("[\u017f\u0131\u03c3\u03c2\u03bc\u00b5]", text.lower()) or \
                len(text.lower()) != len(text)
            continue
        lo = rng.randrange(len(text) + 1)
        hi = rng.randrange(lo, len(text) + 1)
        for full, twin in twins:
            if twin is not None:
                assert [m.span() for m in full.finditer(text, lo, hi)] == \
                    [m.span() for m in twin.finditer(low, lo, hi)], (full.pattern, text)


def test_project_codebook_gives_the_same_rows_however_units_are_scanned(monkeypatch):
    """The whole engine on the seed-like report language: one pass per document or one per
    unit, the rows are the same."""
    cb = load_codebook(ROOT / "config" / "codebook.yaml")
    rng = random.Random(9)
    sentences = ["Clients reported that their justice social workers were approachable.",
                 "JSW professionals felt they could not always find mental health support.",
                 "Wider professional partners said they valued joint working with JSW.",
                 "There was a view among staff that caseloads were too high.",
                 "Relationships with partners were seen as good; funding was short.",
                 "Consistency of services across local authorities was discussed."]
    lines = [("paragraph", " ".join(rng.choice(sentences) for _ in range(rng.randrange(1, 4))))
             for _ in range(40)]
    raw, segs = make(lines)
    first = code_segments(segs, {"d1": raw}, cb)

    class PerUnit:
        folded = False

        def __init__(self, matcher, raw):
            self.matcher = matcher

        def hits(self, start, end, text):
            return self.matcher.scan(text, ())

    monkeypatch.setattr(type(cb.matcher), "document", lambda self, raw: PerUnit(self, raw))
    assert code_segments(segs, {"d1": raw}, cb) == first
    assert first[0] and first[1]
