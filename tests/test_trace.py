"""`qualtrace trace` on a real build of the mini corpus."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from workflow_helpers import read_rows

pytestmark = pytest.mark.slow


def run_trace(work, *ids, json_out=False):
    args = [sys.executable, "-m", "qualtrace", "trace", *ids, "--directory", str(work)]
    return subprocess.run(args + (["--json"] if json_out else []), capture_output=True,
                          text=True)


def test_trace_a_breakdown_cell_lists_its_passages(mini_build):
    rows = read_rows(mini_build / "data/processed/theme_by_stakeholder.csv")
    cell = next(r for r in rows if int(r["n_segments"]) > 0)
    result = run_trace(mini_build, f"theme={cell['theme']}", f"stakeholder={cell['value']}",
                       json_out=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verified"] is True
    assert [p["segment_id"] for p in report["passages"]] == cell["segment_ids"].split()
    raw_texts = {}
    for passage in report["passages"]:
        raw = raw_texts.setdefault(passage["path"], (mini_build / passage["path"]).read_text(
            encoding="utf-8"))
        assert raw[passage["start"]:passage["end"]] == passage["text"]


def test_trace_a_segment_prints_file_line_column(mini_build):
    segment = next(s for s in read_rows(mini_build / "data/processed/segments.csv")
                   if s["kind"] == "quote")
    result = run_trace(mini_build, segment["segment_id"])
    assert result.returncode == 0, result.stderr
    assert f"{segment['doc_id']}" in result.stdout and "verified" in result.stdout
    assert f":{segment['line']}:1 [{segment['start']}:{segment['end']}]" in result.stdout


def test_trace_a_coding_points_at_its_evidence(mini_build):
    coding = read_rows(mini_build / "data/processed/codings.csv")[0]
    result = run_trace(mini_build, f"{coding['segment_id']}:{coding['theme']}", json_out=True)
    passage = json.loads(result.stdout)["passages"][0]
    assert (passage["start"], passage["end"]) == (int(coding["evidence_start"]),
                                                  int(coding["evidence_end"]))
    assert passage["evidence"] == coding["evidence_text"]
    assert coding["rule"] in json.loads(result.stdout)["query"]


def test_trace_fails_on_a_tampered_file(mini_build, tmp_path):
    work = tmp_path / "copy"
    shutil.copytree(mini_build, work)
    segment = read_rows(work / "data/processed/segments.csv")[5]
    raw = work / "data/raw" / f"{segment['doc_id']}.txt"
    raw.write_bytes(raw.read_bytes().replace(b"partner", b"PARTNER"))
    result = run_trace(work, segment["segment_id"])
    assert result.returncode == 1
    assert "NOT VERIFIED" in result.stdout and "changed since ingestion" in result.stdout


def test_trace_unknown_id_exits_2(mini_build):
    result = run_trace(mini_build, "no-such-thing")
    assert result.returncode == 2 and "is not a segment id" in result.stderr


def test_trace_an_inherited_stakeholder_shows_the_passage_it_came_from(tmp_path):
    """A finding that names no group takes its context's group (stakeholder/context); its
    evidence is the passage that group was taken from, in another segment, and trace shows it."""
    from workflow_helpers import ROOT, make_project, snakemake

    work = make_project(tmp_path, ROOT / "tests" / "fixtures" / "tune2")
    snakemake(work, "data/processed/facets.csv")
    segments = {s["segment_id"]: s for s in read_rows(work / "data/processed/segments.csv")}
    row = next(r for r in read_rows(work / "data/processed/facets.csv")
               if r["rule"] == "stakeholder/context"
               and not int(segments[r["segment_id"]]["start"]) <= int(r["evidence_start"])
               < int(segments[r["segment_id"]]["end"]))
    query = f"{row['segment_id']}:stakeholder={row['value']}"
    result = run_trace(work, query, json_out=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    passage, = report["passages"]
    assert report["verified"] is True and "stakeholder/context" in report["query"]
    assert (passage["start"], passage["end"], passage["evidence"]) == (
        int(row["evidence_start"]), int(row["evidence_end"]), row["evidence_text"])
    text = run_trace(work, row["segment_id"]).stdout
    assert f"stakeholder={row['value']}" in text and "evidence from elsewhere" in text
    assert f"[{row['evidence_start']}:{row['evidence_end']}]" in text
