"""The coding engine on small hand-made texts: each rule form, vetoes, facets, spans, order."""
from __future__ import annotations

from pathlib import Path

import pytest

from qualtrace.codebook import load_codebook, parse_codebook
from qualtrace.coding import CODING_FIELDS, FACET_FIELDS, code_segments

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
               "start": str(start), "end": str(start + len(text)), "text": text,
               "boilerplate": "false", "speaker_group_raw": "", "speaker_group": "",
               "attribution_start": ""}
        if kind == "quote" and text.endswith(")"):
            att = text.rindex("(")
            seg.update(attribution_start=str(start + att),
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
    segs[3]["boilerplate"] = "true"
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
