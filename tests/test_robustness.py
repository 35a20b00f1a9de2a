"""Awkward but valid input builds, with warnings instead of crashes (issue: reliability)."""
from __future__ import annotations

from pathlib import Path

import pytest

from workflow_helpers import ROOT, make_project, read_rows, snakemake

pytestmark = pytest.mark.slow
AWKWARD = ROOT / "tests" / "fixtures" / "awkward"


@pytest.fixture(scope="module")
def awkward_build(tmp_path_factory):
    work = make_project(tmp_path_factory.mktemp("awkward"), AWKWARD)
    snakemake(work)
    return work


def test_odd_file_names_get_safe_ids_and_run_nothing(awkward_build):
    documents = read_rows(awkward_build / "data/processed/documents.csv")
    odd = next(d for d in documents if d["path"].startswith("data/raw/Kapitel"))
    assert odd["path"] == "data/raw/Kapitel ä $(touch pwned); it's.txt"
    assert odd["doc_id"].startswith("Kapitel_a_touch_pwned_it_s-")
    assert not list(awkward_build.rglob("pwned")) and not Path("pwned").exists()
    text = (awkward_build / odd["path"]).read_text(encoding="utf-8")
    for seg in read_rows(awkward_build / "data/processed/segments.csv"):
        if seg["doc_id"] == odd["doc_id"]:
            assert text[int(seg["start"]):int(seg["end"])] == seg["text"]


def test_structure_and_quotation_problems_are_warnings(awkward_build):
    checks = {c["check_id"]: c for c in read_rows(awkward_build / "data/processed/checks.csv")}
    for check in ("quotation_shape", "document_structure", "attribution_labels"):
        assert (checks[check]["severity"], checks[check]["status"]) == ("warning", "fail")
    items = read_rows(awkward_build / "data/processed/check_items.csv")
    unterminated = [i for i in items if i["check_id"] == "quotation_shape"]
    assert len(unterminated) == 1 and "no closing quotation mark" in unterminated[0]["detail"]
    unknown = {i["item"] for i in items if i["check_id"] == "attribution_labels"}
    assert unknown == {"unknown group: Bus drivers focus group 2",
                       "unknown group: Community volunteers interview 1"}
    structure = [i["doc_id"] for i in items if i["check_id"] == "document_structure"]
    assert "plain_notes" in structure


def test_unknown_groups_get_their_own_ids(awkward_build):
    quotes = {s["speaker_group"]: s["interview_id"]
              for s in read_rows(awkward_build / "data/processed/segments.csv")
              if s["speaker_group_raw"]}
    assert quotes == {"bus_driver": "bus_driver-focus_group-02",
                      "community_volunteer": "community_volunteer-01"}
