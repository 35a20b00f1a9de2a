"""End to end: review decisions -> snakemake on the mini corpus -> reviewed tables, checks,
report numbers and trace; only the merge and what follows it reruns."""
from __future__ import annotations

import hashlib
import pytest

from qualtrace.io import read_csv
from qualtrace.review.decisions import append_decisions, text_sha256
from workflow_helpers import make_project, planned_jobs, snakemake
from conftest import MINI

pytestmark = pytest.mark.slow

UPSTREAM = {"segment_batch", "segments_table", "theme_codings"}
CODABLE = {"key_point", "paragraph", "quote", "list_item"}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    work = make_project(tmp_path_factory.mktemp("review"), MINI)
    snakemake(work)
    return work


def table(work, name):
    return read_csv(work / f"data/processed/{name}.csv")


def summary_ids(work):
    return {r["theme"]: set(r["segment_ids"].split()) for r in table(work, "theme_summary")}


def choose(work):
    """A coding to reject, one to accept, and an uncoded codable segment to add a theme to."""
    segments = {s["segment_id"]: s for s in table(work, "segments")}
    codings = table(work, "codings_auto")
    theme = codings[0]["theme"]
    reject = codings[0]
    accept = next(c for c in codings if c["theme"] != theme)
    coded = {c["segment_id"] for c in codings if c["theme"] == theme}
    add = next(s for s in segments.values() if s["kind"] in CODABLE and
               s["boilerplate"] == "false" and s["segment_id"] not in coded)
    return segments, theme, reject, accept, add


def decision(segments, seg_id, label, word, note="", facet="theme", reviewer="alice"):
    return {"segment_id": seg_id, "text_sha256": text_sha256(segments[seg_id]["text"]),
            "facet": facet, "label": label, "decision": word, "reviewer": reviewer,
            "note": note}


def test_decisions_flow_through_every_table_and_only_the_merge_reruns(project):
    work = project
    before = summary_ids(work)
    segments, theme, reject, accept, add = choose(work)
    review = work / "data/review/alice.csv"
    append_decisions(review, [
        decision(segments, reject["segment_id"], theme, "reject", "not about it"),
        decision(segments, accept["segment_id"], accept["theme"], "accept", "right"),
        decision(segments, add["segment_id"], theme, "add", "the rules missed <this>"),
    ])
    jobs, outputs = planned_jobs(work)
    assert jobs["review_merge"] == 1 and not UPSTREAM & set(jobs), jobs
    assert {"theme_breakdowns", "consistency_checks", "refiqda_project"} <= set(jobs)
    snakemake(work)

    after = summary_ids(work)
    assert after[theme] == before[theme] - {reject["segment_id"]} | {add["segment_id"]}
    assert {t: ids for t, ids in after.items() if t != theme} == {
        t: ids for t, ids in before.items() if t != theme}
    summary = {r["theme"]: r for r in table(work, "theme_summary")}
    assert int(summary[theme]["n_segments"]) == len(before[theme])  # one out, one in
    codings = {(r["segment_id"], r["theme"]): r for r in table(work, "codings")}
    assert (reject["segment_id"], theme) not in codings
    assert codings[accept["segment_id"], accept["theme"]]["status"] == "accepted"
    added = codings[add["segment_id"], theme]
    assert (added["status"], added["reviewer"], added["rule"]) == ("added", "alice",
                                                                   "review:alice")
    assert [r["outcome"] for r in table(work, "review_decisions")] == ["applied"] * 3

    # The stakeholder breakdown moves exactly as the two changed codings imply.
    values = {r["segment_id"]: set() for r in segments.values()}
    for row in table(work, "facets"):
        if row["facet"] == "stakeholder":
            values[row["segment_id"]].add(row["value"])
    for row in table(work, "theme_by_stakeholder"):
        if row["theme"] == theme:
            expected = {s for s in after[theme] if row["value"] in values[s]}
            assert set(row["segment_ids"].split()) == expected
            assert int(row["n_segments"]) == len(expected)

    # Unchanged decisions: rerunning the merge and everything after is byte-identical.
    names = ["codings", "facets", "review_decisions", "theme_summary", "theme_by_stakeholder",
             "checks", "report_numbers"]
    digests = {n: hashlib.sha256((work / f"data/processed/{n}.csv").read_bytes()).hexdigest()
               for n in names}
    snakemake(work, "--forcerun", "review_merge")
    assert digests == {n: hashlib.sha256((work / f"data/processed/{n}.csv").read_bytes())
                       .hexdigest() for n in names}


def test_a_bad_decision_row_is_one_line_and_destroys_nothing(project):
    work = project
    review = work / "data/review/bob.csv"
    segments = {s["segment_id"]: s for s in table(work, "segments")}
    seg_id = next(iter(s for s in segments if segments[s]["kind"] in CODABLE))
    append_decisions(review, [decision(segments, seg_id, "partnership", "add", reviewer="bob")])
    bad = decision(segments, seg_id, "partnership", "acept", reviewer="bob")
    append_decisions(review, [bad])
    built = {p: p.read_bytes() for p in (work / "data/processed").glob("*.csv")}
    try:
        result = snakemake(work, check=False)
        assert result.returncode != 0
        errors = [line for line in result.stderr.splitlines() if "bob.csv" in line]
        assert errors == ["qualtrace: error: data/review/bob.csv:3: decision 'acept' is not "
                          "one of accept, reject, add (did you mean 'accept'?)"], result.stderr
        assert "Traceback" not in result.stderr
        assert {p: p.read_bytes() for p in (work / "data/processed").glob("*.csv")} == built
    finally:
        review.unlink()


def test_a_decision_on_edited_text_is_stale(project, tmp_path):
    work = make_project(tmp_path, MINI)  # the same corpus: the same segments and codings
    segments = {s["segment_id"]: s for s in table(project, "segments")}
    codings = table(project, "codings_auto")
    target = codings[-1]
    seg = segments[target["segment_id"]]
    append_decisions(work / "data/review/alice.csv", [
        decision(segments, target["segment_id"], target["theme"], "reject")])
    doc = next(d for d in table(project, "documents") if d["doc_id"] == seg["doc_id"])
    raw = work / doc["path"]
    text = raw.read_text(encoding="utf-8")
    word = seg["text"].split()[0]
    raw.write_text(text.replace(seg["text"], seg["text"].replace(word, word + "s", 1), 1),
                   encoding="utf-8")
    snakemake(work)
    outcome, = table(work, "review_decisions")
    assert outcome["outcome"] == "stale"
    review_items = [i for i in table(work, "check_items") if i["check_id"] == "review"]
    assert [(i["item"], i["segment_id"]) for i in review_items] == [
        ("data/review/alice.csv:2", target["segment_id"])]
    assert review_items[0]["detail"].startswith(f"stale: alice reject theme={target['theme']}")
    check = next(c for c in table(work, "checks") if c["check_id"] == "review")
    assert (check["status"], check["severity"]) == ("fail", "warning")
    assert any(r["segment_id"] == target["segment_id"] and r["theme"] == target["theme"]
               for r in table(work, "codings")), "a stale rejection must not be applied"
