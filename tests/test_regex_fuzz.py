"""Fuzz: generated codebooks with random `re:` terms (nested quantifiers among them) go through
validation and coding; each finishes within a bound and either codes (exact spans) or fails
with one clear line naming the codebook, the line and the rule or theme (issue 13)."""
from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from qualtrace.coding import regex_budget
from qualtrace.coding.codebook import CodebookError, parse_codebook
from qualtrace.coding.engine import code_segments

from test_coding import make

pytestmark = pytest.mark.skipif(not regex_budget.available(),
                                reason="no interval timer here: the budget is not enforced")

# Units that give backtracking something to chew on: runs of one letter, words with and
# without the separators a nested pattern waits for.
UNITS = [
    ("paragraph", "Clients said that aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab was not what they "
                  "meant; staff felt the same about a a a a a a a a a a a a a a a a a a c"),
    ("quote", "\u201cIt was just aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, you know\u201d"),
    ("key_point", "word word word word word word word word word word word word word word x"),
]
# One regex can run up to the budget on each text it is tried on before one is stopped: a few
# units, a few terms, and time to spare on a loaded machine.
BOUND_S = regex_budget.REGEX_BUDGET_S * 12 + 10
ONE_LINE = re.compile(r"^codebook\.yaml:\d+:\d+: (?:rule|theme) '[^']+'[^\n]*$")

ATOMS = st.sampled_from(["a", "b", "c", "\\w", "\\s", "\\W", ".", "[ab]", "[^;]", "word",
                         "a\\s", "\\b", "^", "$", ";", " "])


QUANTIFIERS = st.sampled_from(["+", "*", "?", "{2,99}", "{1,}", "{0,3}", "+?", "*?", "{2}"])


def regexes():
    """Regex sources built from atoms by concatenation, alternation and quantified groups, so
    quantifiers nest freely; now and then a broken one (validation must name it)."""
    tree = st.recursive(
        ATOMS,
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map("".join),
            st.tuples(inner, inner).map(lambda ab: f"(?:{ab[0]}|{ab[1]})"),
            st.tuples(inner, QUANTIFIERS).map(lambda iq: f"(?:{iq[0]}){iq[1]}"),
            st.tuples(inner, QUANTIFIERS).map(lambda iq: f"({iq[0]}){iq[1]}"),
        ),
        max_leaves=8)
    # quantifiers nested on purpose, as (a+)+$, (a|a)+b, (?:\w+\s?)+; and (a+){2,99}$ are
    nested = st.builds(
        "(?:(?:{}){}{}){}{}".format,
        st.sampled_from(["a", "\\w", "[ab]", "a|a", "a|\\w", "\\w\\s?", "a+b?", "."]),
        st.sampled_from(["+", "*", "{1,}", "{2,9}", "+?"]),
        st.sampled_from(["", "\\s?", "b?", " ?", "\\W*"]),
        st.sampled_from(["+", "*", "{2,99}", "{1,}", "*?"]),
        st.sampled_from(["$", ";", "b", "!", "x", "\\.", "", "c"]))
    broken = st.sampled_from(["(a+", "a)+", "[ab", "a{2,1}", "*a", "(?<=a+)b", "\\"])
    return st.one_of(nested, nested, tree, broken)


PLACES = ["any", "near", "unless", "label_unless", "all"]


def codebook(terms: list[tuple[str, str]]) -> str:
    """A codebook with one theme per generated term, the term placed where `place` says."""
    lines = ["codebook: fuzz", "version: 1", "themes:"]
    for i, (source, place) in enumerate(terms):
        term = "'re:" + source.replace("'", "''") + "'"
        lines += [f"  - id: t{i}", f"    label: T{i}", "    definition: Fuzz."]
        if place == "label_unless":
            lines.append(f"    unless: [{term}]")
        lines += ["    rules:", f"      - id: t{i}/r"]
        if place == "any":
            lines.append(f"        any: [{term}, said]")
        elif place == "near":
            lines.append(f"        near: {{a: [clients, staff], b: [{term}], within: 4}}")
        elif place == "all":
            lines.append(f"        all: [[said, felt, word], [{term}]]")
        else:
            lines.append("        any: [said, felt, word, you]")
            if place == "unless":
                lines.append(f"        unless: [{term}]")
    return "\n".join(lines) + "\n"


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(regexes(), st.sampled_from(PLACES)), min_size=1, max_size=3))
def test_random_regex_terms_finish_and_code_or_fail_in_one_line(terms):
    raw, segs = make(UNITS)
    t0 = time.monotonic()
    try:
        cb = parse_codebook(codebook(terms), "codebook.yaml")
        codings, _ = code_segments(segs, {"d1": raw}, cb)
    except CodebookError as err:
        assert time.monotonic() - t0 < BOUND_S, str(err)
        assert ONE_LINE.match(str(err)), str(err)
        return
    assert time.monotonic() - t0 < BOUND_S
    for row in codings:
        start, end = int(row["evidence_start"]), int(row["evidence_end"])
        assert raw[start:end] == row["evidence_text"] and start < end
