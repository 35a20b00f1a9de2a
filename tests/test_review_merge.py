"""Review decisions merged over the automatic coding (qualtrace.review.merge and .decisions)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualtrace import SCHEMA_DIR
from qualtrace.review.decisions import (Decision, DecisionError, append_decisions,
                                        parse_decisions, read_decisions, text_sha256)
from qualtrace.review.merge import Policy, merge

VOCABULARY = {"theme": ["resourcing", "partnership", "stigma"],
              "stakeholder": ["client", "partner"], "area": ["rural", "urban"]}


def segment(n, text, boilerplate=False):
    return {"segment_id": f"d-{n:04d}", "doc_id": "d", "start": n * 100,
            "end": n * 100 + len(text), "text": text, "boilerplate": boilerplate,
            "kind": "paragraph"}


SEGMENTS = [segment(1, "Funding was short."), segment(2, "Partners met monthly."),
            segment(3, "Nothing coded here."), segment(4, "Contact", boilerplate=True)]
SHA = {s["segment_id"]: text_sha256(s["text"]) for s in SEGMENTS}


def coding(n, theme, rule=None):
    return {"segment_id": f"d-{n:04d}", "doc_id": "d", "theme": theme,
            "evidence_start": n * 100, "evidence_end": n * 100 + 4,
            "evidence_text": "xxxx", "rule": rule or f"{theme}/r"}


def facet(n, name, value):
    return {"segment_id": f"d-{n:04d}", "doc_id": "d", "facet": name, "value": value,
            "evidence_start": n * 100, "evidence_end": n * 100 + 4,
            "evidence_text": "xxxx", "rule": f"{name}/r"}


CODINGS = [coding(1, "resourcing"), coding(2, "partnership")]
FACETS = [facet(1, "stakeholder", "partner"), facet(2, "stakeholder", "partner")]

_lines: dict[str, int] = {}


def decide(n, label, decision, reviewer="alice", facet="theme", note="", sha=None, file=None):
    file = file or f"data/review/{reviewer}.csv"
    _lines[file] = _lines.get(file, 1) + 1
    seg = f"d-{n:04d}"
    return Decision(seg, sha or SHA.get(seg, "0" * 64), facet, label, decision, reviewer, note,
                    file, _lines[file])


def run(*decisions, policy=None):
    return merge(SEGMENTS, CODINGS, FACETS, list(decisions), policy)


def themes(merged):
    return {(r["segment_id"], r["theme"]): (r["status"], r["reviewer"]) for r in merged.codings}


def outcomes(merged):
    return [(r["reviewer"], r["decision"], r["outcome"]) for r in merged.outcomes]


def test_no_decisions_keeps_every_automatic_coding_as_auto():
    merged = run()
    assert themes(merged) == {("d-0001", "resourcing"): ("auto", ""),
                              ("d-0002", "partnership"): ("auto", "")}
    assert [r["status"] for r in merged.facets] == ["auto", "auto"]
    assert merged.outcomes == []


def test_accept_reject_add():
    merged = run(decide(1, "resourcing", "accept", note="clear case"),
                 decide(2, "partnership", "reject"),
                 decide(3, "stigma", "add", note="implicit"),
                 decide(3, "client", "add", facet="stakeholder"))
    assert themes(merged) == {("d-0001", "resourcing"): ("accepted", "alice"),
                              ("d-0003", "stigma"): ("added", "alice")}
    added = next(r for r in merged.codings if r["theme"] == "stigma")
    seg = SEGMENTS[2]
    # An added coding's evidence is the whole segment and its rule names the reviewer.
    assert (added["evidence_start"], added["evidence_end"], added["evidence_text"]) == (
        seg["start"], seg["end"], seg["text"])
    assert added["rule"] == "review:alice" and added["note"] == "alice: implicit"
    accepted = next(r for r in merged.codings if r["theme"] == "resourcing")
    assert accepted["rule"] == "resourcing/r" and accepted["note"] == "alice: clear case"
    assert [(r["segment_id"], r["value"], r["status"]) for r in merged.facets] == [
        ("d-0001", "partner", "auto"), ("d-0002", "partner", "auto"),
        ("d-0003", "client", "added")]
    assert [o[2] for o in outcomes(merged)] == ["applied"] * 4
    assert [r["rules_coded"] for r in merged.outcomes] == [True, True, False, False]


def test_later_row_wins_for_the_same_reviewer():
    merged = run(decide(1, "resourcing", "reject"), decide(1, "resourcing", "accept"))
    assert themes(merged)[("d-0001", "resourcing")] == ("accepted", "alice")
    assert [o[2] for o in outcomes(merged)] == ["superseded", "applied"]
    merged = run(decide(1, "resourcing", "accept"), decide(1, "resourcing", "reject"))
    assert ("d-0001", "resourcing") not in themes(merged)


def test_stale_after_text_edit_and_unknown_segments_are_not_applied():
    merged = run(decide(1, "resourcing", "reject", sha=text_sha256("Funding was short!")),
                 decide(9, "stigma", "add"), decide(4, "stigma", "add"))
    assert themes(merged)[("d-0001", "resourcing")] == ("auto", "")
    assert ("d-0009", "stigma") not in themes(merged) and ("d-0004", "stigma") not in themes(
        merged)
    assert [o[2] for o in outcomes(merged)] == ["stale", "unknown", "unknown"]
    assert "boilerplate" in merged.outcomes[2]["detail"]


def test_accepting_what_the_rules_do_not_make_is_unknown_and_an_undone_add_is_absent():
    merged = run(decide(3, "stigma", "accept"), decide(3, "partnership", "add"),
                 decide(3, "partnership", "reject"))
    assert [o[2] for o in outcomes(merged)] == ["unknown", "superseded", "applied"]
    assert "absent" in merged.outcomes[2]["detail"]
    assert themes(merged) == themes(run())


def test_conflict_reject_wins():
    merged = run(decide(1, "resourcing", "accept", reviewer="alice"),
                 decide(1, "resourcing", "reject", reviewer="bob"),
                 decide(3, "stigma", "add", reviewer="alice"),
                 decide(3, "stigma", "reject", reviewer="bob"),
                 policy=Policy("reject_wins"))
    assert ("d-0001", "resourcing") not in themes(merged)
    assert ("d-0003", "stigma") not in themes(merged)
    assert outcomes(merged) == [("alice", "accept", "conflict"), ("alice", "add", "conflict"),
                                ("bob", "reject", "applied"), ("bob", "reject", "applied")]


def test_conflict_lead_reviewer():
    decisions = [decide(1, "resourcing", "accept", reviewer="alice"),
                 decide(1, "resourcing", "reject", reviewer="bob"),
                 decide(2, "partnership", "reject", reviewer="carol"),
                 decide(2, "partnership", "accept", reviewer="bob")]
    merged = run(*decisions, policy=Policy("lead_reviewer", "alice"))
    assert themes(merged)[("d-0001", "resourcing")] == ("accepted", "alice")
    # Alice did not decide on d-0002: both sides are conflicts, the rules' coding stays.
    assert themes(merged)[("d-0002", "partnership")] == ("auto", "")
    assert outcomes(merged) == [("alice", "accept", "applied"), ("bob", "reject", "conflict"),
                                ("bob", "accept", "conflict"), ("carol", "reject", "conflict")]
    merged = run(*decisions, policy=Policy("lead_reviewer", "bob"))
    assert ("d-0001", "resourcing") not in themes(merged)
    assert themes(merged)[("d-0002", "partnership")] == ("accepted", "bob")


def test_reviewers_who_agree_are_both_named():
    merged = run(decide(1, "resourcing", "accept", reviewer="bob", note="yes"),
                 decide(1, "resourcing", "accept", reviewer="alice", note="agreed"))
    row = next(r for r in merged.codings if r["theme"] == "resourcing")
    assert (row["status"], row["reviewer"]) == ("accepted", "alice bob")
    assert row["note"] == "alice: agreed | bob: yes"


def test_parse_names_the_line_of_each_bad_row():
    header = "segment_id,text_sha256,facet,label,decision,reviewer,note\n"
    good = f"d-0001,{'a' * 64},theme,resourcing,accept,alice,\n"
    text = (header + good + f"d-0001,{'a' * 64},theme,resourcing,acept,alice,\n"
            + f'd-0001,{"a" * 64},theme,resourcing,add,alice,"a memo\nover two lines"\n'
            + f"d-0001,{'a' * 64},stakeholders,client,add,alice,\n"
            + f"d-0001,{'a' * 64},theme,resourcng,add,alice,\n")
    with pytest.raises(DecisionError) as err:
        parse_decisions(text, "data/review/alice.csv", VOCABULARY)
    lines = str(err.value).splitlines()
    assert lines == [
        "data/review/alice.csv:3: decision 'acept' is not one of accept, reject, add "
        "(did you mean 'accept'?)",
        "data/review/alice.csv:6: facet 'stakeholders' is not 'theme' or a codebook facet "
        "(stakeholder, area) (did you mean 'stakeholder'?)",
        "data/review/alice.csv:7: label 'resourcng' is not a theme in the codebook "
        "(did you mean 'resourcing'?)"]
    good_rows = parse_decisions(header + good + good, "x.csv", VOCABULARY)
    assert [d.line for d in good_rows] == [2, 3]
    with pytest.raises(DecisionError, match=r"^x\.csv:1: missing column\(s\) note;"):
        parse_decisions("segment_id,text_sha256,facet,label,decision,reviewer\n", "x.csv")


def test_read_refuses_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"segment_id,text_sha256,facet,label,decision,reviewer,note\n\xff\n")
    with pytest.raises(DecisionError, match=r"bad\.csv:2: not valid UTF-8 \(byte offset 58\)"):
        read_decisions([str(path)])


def test_append_keeps_existing_bytes_and_adds_a_header_once(tmp_path):
    path = tmp_path / "data/review/alice.csv"
    row = {"segment_id": "d-0001", "text_sha256": "a" * 64, "facet": "theme",
           "label": "resourcing", "decision": "accept", "reviewer": "alice",
           "note": 'a "quoted", memo\nwith a line break'}
    append_decisions(path, [row])
    first = path.read_bytes()
    append_decisions(path, [{**row, "decision": "reject", "note": ""}])
    assert path.read_bytes().startswith(first)
    decisions = read_decisions([str(path)], VOCABULARY)
    assert [(d.decision, d.note, d.line) for d in decisions] == [
        ("accept", row["note"], 2), ("reject", "", 4)]
    assert sorted(p.name for p in path.parent.iterdir()) == [".alice.csv.lock", "alice.csv"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([1, 2, 3]),
                          st.sampled_from(["resourcing", "partnership", "stigma"]),
                          st.sampled_from(["accept", "reject", "add"]),
                          st.sampled_from(["alice", "bob"])), max_size=12),
       st.sampled_from(["reject_wins", "lead_reviewer"]))
def test_merge_invariants(rows, conflict):
    decisions = [decide(*r[:3], reviewer=r[3]) for r in rows]
    merged = run(*decisions, policy=Policy(conflict, "alice"))
    coded = themes(merged)
    assert len(merged.outcomes) == len(decisions)
    for (seg, theme), (status, reviewer) in coded.items():
        was_auto = any(c["segment_id"] == seg and c["theme"] == theme for c in CODINGS)
        assert status == ("auto" if not reviewer else "accepted" if was_auto else "added")
    applied = [(r["segment_id"], r["label"], r["decision"]) for r in merged.outcomes
               if r["outcome"] == "applied"]
    for seg, theme, decision in applied:
        assert ((seg, theme) in coded) == (decision != "reject")
    # Every coding that is neither the rules' nor added by an applied decision is absent.
    for key in coded:
        assert key in themes(run()) or (key[0], key[1], "add") in applied


def test_review_check_lists_stale_unknown_and_conflicting_decisions_with_file_and_line():
    from qualtrace.checks import Tables
    from qualtrace.checks.review import review_decisions

    merged = run(decide(1, "resourcing", "accept", reviewer="alice", file="data/review/a.csv"),
                 decide(1, "resourcing", "reject", reviewer="bob", file="data/review/b.csv"),
                 decide(2, "partnership", "reject", sha="f" * 64, file="data/review/a.csv"),
                 decide(9, "stigma", "add", file="data/review/a.csv"),
                 decide(1, "resourcing", "accept", file="data/review/a.csv"))
    tables = Tables([], SEGMENTS, [], [], {}, {}, {}, review_decisions=merged.outcomes)
    result = review_decisions(tables)
    assert not result.passed
    listed = [(f.item, f.segment_id, f.detail.split(":")[0]) for f in result.items]
    lines = {(r["file"], r["outcome"]): r["line"] for r in merged.outcomes}
    assert listed == [
        (f"data/review/a.csv:{lines['data/review/a.csv', 'stale']}", "d-0002", "stale"),
        (f"data/review/a.csv:{lines['data/review/a.csv', 'unknown']}", "d-0009", "unknown"),
        (f"data/review/a.csv:{lines['data/review/a.csv', 'conflict']}", "d-0001", "conflict")]
    assert "rejected by bob" in result.items[2].detail
    assert result.detail == ("5 review decisions: 1 applied, 1 stale, 1 unknown, 1 conflict")
    clean = review_decisions(Tables([], SEGMENTS, [], [], {}, {}, {},
                                    review_decisions=run(decide(1, "resourcing", "accept"))
                                    .outcomes))
    assert clean.passed and clean.items == []


def test_outcome_rows_follow_their_schema(tmp_path):
    import jsonschema
    import yaml

    from conftest import ROOT
    from qualtrace.common.tables import write_table
    from workflow_helpers import read_rows

    spec = yaml.safe_load((SCHEMA_DIR / "review_decisions.schema.yaml")
                          .read_text(encoding="utf-8"))
    spec.pop("sort_by", None)  # qualtrace's own keyword
    merged = run(decide(1, "resourcing", "accept"), decide(1, "resourcing", "reject"),
                 decide(9, "stigma", "add", note="a, \"quoted\" memo"),
                 decide(2, "partnership", "reject", sha="e" * 64))
    write_table(merged.outcomes, tmp_path / "out.csv", "review_decisions")
    rows = read_rows(tmp_path / "out.csv")
    assert {r["outcome"] for r in rows} == {"superseded", "applied", "unknown", "stale"}
    for row in rows:
        jsonschema.validate(row, spec)


def _append_many(args):
    path, writer = args
    for i in range(25):
        append_decisions(path, [{"segment_id": "d-0001", "text_sha256": "a" * 64,
                                 "facet": "theme", "label": "resourcing", "decision": "accept",
                                 "reviewer": "alice", "note": f"{writer}-{i}"}])


def test_concurrent_processes_appending_lose_no_row(tmp_path):
    from multiprocessing import get_context

    path = tmp_path / "alice.csv"
    with get_context("fork").Pool(4) as pool:
        pool.map(_append_many, [(path, w) for w in range(4)])
    notes = sorted(d.note for d in read_decisions([str(path)]))
    assert notes == sorted(f"{w}-{i}" for w in range(4) for i in range(25))


def test_trace_prints_a_memo_as_text_not_terminal_control():
    from qualtrace.audit.trace import Passage, as_text

    passage = Passage("d-0001", "d", "data/raw/d.txt", 3, 1, 100, 118, "paragraph",
                      "Funding was short.", "", True, True, "", [
                          {"facet": "theme", "label": "resourcing", "rule": "review:alice",
                           "status": "added", "reviewer": "alice",
                           "note": "alice: see \x1b[2J\u202eevil"}])
    out = as_text("segment d-0001", [passage])
    assert ("theme=resourcing: added by alice (rule review:alice); memo: alice: see "
            "\\x1b[2J\\u202eevil") in out
    assert "\x1b" not in out and "\u202e" not in out
