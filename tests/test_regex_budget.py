"""No codebook can hang a build: a `re:` term that backtracks without end is stopped by the
regex budget (qualtrace.coding.regex_budget) and the build fails with one line naming the term's rule
and file:line; a term that finishes codes exactly as Python's `re` matches it."""
from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from qualtrace.coding import regex_budget
from qualtrace.coding.codebook import CodebookError, parse_codebook
from qualtrace.coding.engine import code_segments
from qualtrace.common.tables import write_table

from test_coding import CODEBOOK, make

# The forms the nested-quantifier guard misses (issue 13, fault 5).
NESTED = [r"(?:\w+\s?)+;", r"(a+b?)+$", r"(a|a)+b", r"(a+){2,99}$"]
# Units as a report has them: an ordinary finding, and a quotation with a drawn-out word.
UNITS = {
    "finding": "Clients said that their relationship with their justice social worker was the "
               "most important part of their order, and staff agreed that continuity mattered",
    "quote": "\u201cIt was just aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaah, you know, "
             "every single week\u201d",
}
BOUND_S = regex_budget.REGEX_BUDGET_S + 9  # the budget, and time to spare on a loaded machine

pytestmark = pytest.mark.skipif(not regex_budget.available(),
                                reason="no interval timer here: the budget is not enforced")


def risky_codebook(pattern: str) -> str:
    """The test codebook with a theme whose rule is one regex term (at line 11)."""
    theme = ("  - id: risky\n    label: Risky\n    definition: A regex term.\n    rules:\n"
             f"      - id: risky/regex\n        any: ['re:{pattern}']\n")
    return CODEBOOK.replace("themes:\n", "themes:\n" + theme, 1)


@pytest.mark.parametrize("unit", sorted(UNITS))
@pytest.mark.parametrize("pattern", NESTED)
def test_nested_quantifiers_finish_and_code_or_fail_naming_the_rule(pattern, unit):
    cb = parse_codebook(risky_codebook(pattern), "config/codebook.yaml")
    raw, segs = make([("paragraph", UNITS[unit])])
    t0 = time.monotonic()
    try:
        codings, _ = code_segments(segs, {"d1": raw}, cb)
    except CodebookError as err:
        message = str(err)
        assert time.monotonic() - t0 < BOUND_S
        assert "\n" not in message
        assert message.startswith("config/codebook.yaml:11:")
        assert "rule 'risky/regex'" in message and repr("re:" + pattern) in message
        return
    assert time.monotonic() - t0 < BOUND_S
    # It finished: the rows are what Python's `re` finds.
    found = re.search(pattern, UNITS[unit], re.IGNORECASE)
    risky = [r for r in codings if r["theme"] == "risky"]
    if found is None or found.end() == found.start():
        assert risky == []
    else:
        assert [(int(r["evidence_start"]), int(r["evidence_end"])) for r in risky] == \
            [found.span()]


def test_an_endless_term_fails_the_build_in_one_line_and_keeps_what_was_built(tmp_path):
    """Through the command the workflow runs: a failing exit, one line naming rule and
    file:line, no traceback, and the tables already built are untouched."""
    codebook = tmp_path / "codebook.yaml"
    codebook.write_text(risky_codebook(r"(a|a)+b"), encoding="utf-8")
    raw, segs = make([("paragraph", UNITS["finding"]), ("quote", UNITS["quote"])])
    (tmp_path / "d1.txt").write_text(raw, encoding="utf-8")
    write_table([{"doc_id": "d1", "path": str(tmp_path / "d1.txt"), "sha256": "0" * 64,
                  "n_chars": len(raw), "source_name": "d1.txt"}], tmp_path / "documents.csv")
    write_table([{**s, "line": 1, "repeated_across_documents": False} for s in segs],
                tmp_path / "segments.csv")
    for name in ("codings.csv", "facets.csv"):
        (tmp_path / name).write_text("built before\n", encoding="utf-8")
    t0 = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "qualtrace", "code", "--codebook", str(codebook),
         "--documents", str(tmp_path / "documents.csv"),
         "--segments", str(tmp_path / "segments.csv"),
         "--codings", str(tmp_path / "codings.csv"), "--facets", str(tmp_path / "facets.csv")],
        capture_output=True, text=True, timeout=60)
    assert time.monotonic() - t0 < BOUND_S + 10  # (and the interpreter's start)
    assert result.returncode in (1, 2)  # (the CLI's exit code for bad input)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"qualtrace: error: {codebook}:11:")
    assert "rule 'risky/regex'" in lines[0] and "Traceback" not in result.stderr
    for name in ("codings.csv", "facets.csv"):
        assert (tmp_path / name).read_text(encoding="utf-8") == "built before\n"


def test_the_budget_never_changes_an_answer():
    """A sound regex term codes the same with the budget enforced or not."""
    cb = parse_codebook(risky_codebook(r"\bjustice\s+(?:\w+\s+){0,2}worker"), "c.yaml")
    raw, segs = make([("paragraph", text) for text in UNITS.values()])
    with_budget = code_segments(segs, {"d1": raw}, cb)
    assert [r["theme"] for r in with_budget[0]].count("risky") == 1
    active, regex_budget._active = regex_budget._active, True  # as if already enforced
    try:
        assert code_segments(segs, {"d1": raw}, cb) == with_budget
    finally:
        regex_budget._active = active


def test_the_budget_is_disarmed_after_coding():
    import signal
    before = signal.getsignal(signal.SIGALRM)
    cb = parse_codebook(risky_codebook(r"(a|a)+b"), "c.yaml")
    raw, segs = make([("paragraph", UNITS["quote"])])
    with pytest.raises(CodebookError):
        code_segments(segs, {"d1": raw}, cb)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before
    assert regex_budget.running.term is None
