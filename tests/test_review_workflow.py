"""End to end: review decisions -> snakemake on the mini corpus -> reviewed tables, checks,
report numbers and trace; only the merge and what follows it reruns."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
import pytest
from lxml import etree

from qualtrace.review.decisions import append_decisions, text_sha256
from workflow_helpers import make_project, planned_jobs, read_rows, snakemake
from conftest import MINI

pytestmark = pytest.mark.slow

UPSTREAM = {"segment_batch", "segments_table", "theme_codings"}
QDA = "{urn:QDA-XML:project:1.0}"
CODABLE = {"key_point", "paragraph", "quote", "list_item"}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    work = make_project(tmp_path_factory.mktemp("review"), MINI)
    snakemake(work)
    return work


def table(work, name):
    return read_rows(work / f"data/processed/{name}.csv")


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

    # The report's numbers count the reviewed coding, and say how much was reviewed.
    numbers = {r["item_id"]: r for r in table(work, "report_numbers")}
    assert numbers[f"theme-{theme}-segments"]["segment_ids"].split() == sorted(after[theme])
    assert (numbers["review-reviewed"]["value"], numbers["review-accepted"]["value"],
            numbers["review-rejected"]["value"], numbers["review-added"]["value"]) == (
        "2", "1", "1", "1")
    assert numbers["review-rejected"]["segment_ids"] == reject["segment_id"]
    assert numbers["review-added"]["segment_ids"] == add["segment_id"]
    assert numbers["review-precision"]["value"] == "0.50"
    assert numbers[f"review-theme-{theme}-reviewed"]["value"] == (
        "2" if accept["theme"] == theme else "1")
    n_auto = len(table(work, "codings_auto"))
    assert numbers["review-auto"]["value"] == str(n_auto)
    html = (work / "reports/summary.html").read_text(encoding="utf-8")
    assert "alice: the rules missed &lt;this&gt;" in html and "<this>" not in html

    # trace says how each coding came to be, by whom, with the memo.
    traced = subprocess.run([sys.executable, "-m", "qualtrace", "trace",
                             f"{add['segment_id']}:{theme}"], cwd=work, capture_output=True,
                            text=True)
    assert traced.returncode == 0, traced.stderr
    assert (f"theme={theme}: added by alice (rule review:alice); memo: alice: the rules missed "
            "<this>") in traced.stdout
    traced = subprocess.run([sys.executable, "-m", "qualtrace", "trace", "--json",
                             f"theme={accept['theme']}"], cwd=work, capture_output=True,
                            text=True)
    coded = {p["segment_id"]: p["codings"] for p in json.loads(traced.stdout)["passages"]}
    assert coded[accept["segment_id"]] == [{
        "facet": "theme", "label": accept["theme"], "rule": accept["rule"],
        "status": "accepted", "reviewer": "alice", "note": "alice: right"}]
    assert all(c[0]["status"] == "auto" for s, c in coded.items() if s != accept["segment_id"])

    # The decision file is an input of the provenance, with its hash.
    record = json.loads((work / "reports/provenance.json").read_text())
    assert record["review_decisions"] == [{"path": "data/review/alice.csv",
                                           "sha256": hashlib.sha256(review.read_bytes())
                                           .hexdigest()}]
    crate = json.loads((work / "ro-crate-metadata.json").read_text())
    assert any(e.get("@id") == "data/review/alice.csv" and e.get("sha256") == record[
        "review_decisions"][0]["sha256"] for e in crate["@graph"])

    # The REFI-QDA export: the reviewer is a User, creates the reviewed codings, memos are Notes.
    root = etree.fromstring(zipfile.ZipFile(work / "reports/qualtrace.qdpx").read("project.qde"))
    users = {u.get("name"): u.get("guid") for u in root.iter(f"{QDA}User")}
    assert set(users) == {"qualtrace", "alice"}
    by_user = {}
    for sel in root.iter(f"{QDA}PlainTextSelection"):
        by_user.setdefault(sel.find(f"{QDA}Coding").get("creatingUser"), []).append(sel)
    assert sorted(s.get("name").split()[-1] for s in by_user[users["alice"]]) == sorted(
        [accept["segment_id"], add["segment_id"]])
    notes = {n.get("guid"): n.findtext(f"{QDA}PlainTextContent")
             for n in root.iter(f"{QDA}Note")}
    assert sorted(notes.values()) == ["alice: right", "alice: the rules missed <this>"]
    for sel in by_user[users["alice"]]:
        assert notes[sel.find(f"{QDA}NoteRef").get("targetGUID")].startswith("alice: ")

    # Unchanged decisions: rerunning the merge and everything after is byte-identical.
    names = ["codings", "facets", "review_decisions", "theme_summary", "theme_by_stakeholder",
             "checks", "report_numbers"]
    digests = {n: hashlib.sha256((work / f"data/processed/{n}.csv").read_bytes()).hexdigest()
               for n in names}
    snakemake(work, "--forcerun", "review_merge")
    assert digests == {n: hashlib.sha256((work / f"data/processed/{n}.csv").read_bytes())
                       .hexdigest() for n in names}

    # Editing an existing decision file: again only the merge and what follows it.
    append_decisions(review, [decision(segments, accept["segment_id"], accept["theme"],
                                       "reject", "on second thoughts")])
    jobs, _ = planned_jobs(work)
    assert jobs["review_merge"] == 1 and not UPSTREAM & set(jobs), jobs


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
