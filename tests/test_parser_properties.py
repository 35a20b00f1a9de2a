"""Property-based tests: for arbitrary text, spans are exact and lossless, and parsing raises
nothing but the documented input errors."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualtrace.corpus.ingest import IngestRules, parse_document
from qualtrace.common.io import InputError, decode_raw
from qualtrace.corpus.spans import coverage_problems

RULES = IngestRules.from_config({
    "key_point_headings": ["key points"], "furniture": ["contact", "back to top"],
    "speaker_groups": [{"id": "client", "pattern": "clients?"}]})

# Text built from the pieces that steer the parser, mixed with arbitrary characters.
PIECES = st.sampled_from([
    "\n", "\r\n", "\r", "\n\n", "  • ", "- ", "* ", "1. ", "6. Title", "Key points", "Contact",
    "“", "”", "\"", "‘", "’", "(Client interview 3)", "(", ")", "…", "\ufeff", "\u2028", "\x85",
    "\xa0", "\t", "# ", "> ", "Heading Line", "a sentence.", "lower case", ":", " ",
])
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=40).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_spans_exact_and_lossless_for_any_text(text):
    doc = parse_document(text, "doc", RULES)
    for seg in doc.segments:
        assert text[seg["start"]:seg["end"]] == seg["text"]
        assert seg["text"] and not seg["text"][0].isspace() and not seg["text"][-1].isspace()
        if seg["attribution_start"] != "":
            assert seg["start"] <= seg["attribution_start"] < seg["end"]
    assert coverage_problems(text, [(s["start"], s["end"]) for s in doc.segments]) == []
    ids = [s["segment_id"] for s in doc.segments]
    assert len(ids) == len(set(ids))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_decoding_raises_only_input_error(data):
    try:
        text = decode_raw(data, "x.txt")
    except InputError as err:
        assert str(err).startswith("x.txt: ")
        return
    parse_document(text, "doc", RULES)
