"""Morphology-aware terms and context inheritance of stakeholders (issue 16)."""
from qualtrace.coding.codebook import parse_codebook
from qualtrace.coding.engine import code_segments
from qualtrace.coding.inflect import inflections

from test_coding import make  # noqa: E402  (the fixture builder the coding tests use)


def test_forms_follow_the_stemmer_and_only_grow_a_base_word():
    assert "statutory frameworks" in inflections("statutory framework")
    assert set(inflections("care")) == {"cared", "cares", "caring"}  # never "career"
    assert "care" not in inflections("caring")  # a term written inflected is kept as written
    assert inflections("risk assess*") == [] and inflections("re:x") == []
    assert inflections("JSW") == []


CODEBOOK = """
codebook: t
version: 1
settings: {inflect: %s}
themes:
  - id: law
    label: Law
    definition: X.
    rules:
      - id: law/framework
        any: [statutory framework]
"""


def _themes(inflect: str, text: str):
    cb = parse_codebook(CODEBOOK % inflect, "t.yaml")
    raw, segs = make([("paragraph", text)])
    codings, _ = code_segments(segs, {"d1": raw}, cb)
    return [(r["theme"], r["evidence_text"]) for r in codings]


def test_plural_matches_by_default_with_an_exact_span():
    assert _themes("true", "Two statutory frameworks applied.") == [("law", "statutory frameworks")]
    assert _themes("false", "Two statutory frameworks applied.") == []


CONTEXT_CODEBOOK = """
codebook: t
version: 1
themes:
  - id: money
    label: Money
    definition: X.
    rules:
      - {id: money/named, any: [funding]}
facets:
  - id: who
    label: Who
    definition: X.
    context: {rule: who/context, kinds: [paragraph], min_share: 0.5, exclude: [authors]}
    values:
      - id: staff
        label: Staff
        definition: X.
        rules:
          - {id: who/staff, near: {a: [staff], b: [said], within: 2, order: a_first}}
      - id: authors
        label: Authors
        definition: X.
        rules:
          - {id: who/authors, any: [this report]}
"""


def test_an_unattributed_finding_takes_the_group_of_its_context_with_the_source_span():
    cb = parse_codebook(CONTEXT_CODEBOOK, "t.yaml")
    lines = [("paragraph", "Staff said funding was short."),
             ("paragraph", "This report covers funding."),
             ("paragraph", "Funding was a key theme across interviews.")]
    raw, segs = make(lines)
    _, facets = code_segments(segs, {"d1": raw}, cb)
    by_seg = {(r["segment_id"], r["value"]): r for r in facets}
    last = segs[2]["segment_id"]
    row = by_seg[(last, "staff")]
    assert row["rule"] == "who/context"
    assert raw[int(row["evidence_start"]):int(row["evidence_end"])] == row["evidence_text"]
    assert int(row["evidence_end"]) <= int(segs[0]["end"])  # the source passage, not the unit
    assert (last, "authors") not in by_seg  # excluded values are never inherited
    assert (segs[1]["segment_id"], "staff") not in by_seg  # a unit with its own value keeps it
