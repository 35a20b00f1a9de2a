"""End to end on a study whose codebook has facets of its own (tests/fixtures/otherfacets/:
`speaker_role`, `setting` and `medium`, named `media` in the plural): the breakdown tables,
charts, validation, exports and report follow the codebook, and nothing of the seed study's
facets appears anywhere in what the workflow builds."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

from qualtrace.coding.codebook import load_codebook
from qualtrace.common.tables import read_table, records
from qualtrace.analysis.validation import label_sets_from_codebook, load_gold
from workflow_helpers import ROOT, make_project, read_rows, snakemake

pytestmark = pytest.mark.slow

OTHER = ROOT / "tests" / "fixtures" / "otherfacets"
PLURALS = {"speaker_role": "speaker_roles", "setting": "settings", "medium": "media"}
SEED_FACET_WORDS = re.compile(r"stakeholder|\bareas?\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = make_project(tmp_path_factory.mktemp("otherfacets"), OTHER)
    snakemake(work)
    return work


@pytest.fixture(scope="module")
def codebook(built):
    return load_codebook(built / "config" / "codebook.yaml", terms=False)


def labels_by_segment(built) -> dict[str, dict[str, set[str]]]:
    """segment id -> label set -> labels, from codings.csv and facets.csv."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in read_rows(built / "data/processed/codings.csv"):
        out[row["segment_id"]]["themes"].add(row["theme"])
    for row in read_rows(built / "data/processed/facets.csv"):
        out[row["segment_id"]][PLURALS[row["facet"]]].add(row["value"])
    return out


def test_the_fixture_facets_are_the_codebook_s(codebook):
    assert {f.id: f.plural for f in codebook.facets} == PLURALS
    assert codebook.voice_facet().id == "speaker_role"


def test_one_breakdown_table_and_chart_per_facet(built, codebook):
    processed = built / "data/processed"
    assert sorted(p.name for p in processed.glob("theme_by_*.csv")) == sorted(
        f"theme_by_{f}.csv" for f in PLURALS)
    assert sorted(p.name for p in (built / "reports/figures").glob("theme_by_*.svg")) == sorted(
        f"theme_by_{f}.svg" for f in PLURALS)
    labels = labels_by_segment(built)
    for facet in codebook.facets:
        rows = read_rows(processed / f"theme_by_{facet.id}.csv")
        assert [(r["theme"], r["value"]) for r in rows] == [
            (t.id, v.id) for t in codebook.themes for v in facet.values]
        for r in rows:  # each cell: the segments coded with the theme and carrying the value
            expected = sorted(s for s, sets in labels.items() if r["theme"] in sets["themes"]
                              and r["value"] in sets[facet.plural])
            assert r["segment_ids"].split() == expected, (facet.id, r["theme"], r["value"])
        assert any(int(r["n_segments"]) for r in rows), f"{facet.id}: no cell counts anything"


def test_validation_scores_each_facet_under_its_plural(built):
    rows = read_rows(built / "data/processed/coding_validation.csv")
    assert list(dict.fromkeys(r["label_set"] for r in rows)) == [
        "themes", "speaker_roles", "settings", "media"]
    micro = {r["label_set"]: r for r in rows if r["label"] == "__micro__"}
    assert micro["speaker_roles"]["n_units"] == "4" and micro["speaker_roles"]["tp"] == "4"
    # "e-books" holds the print term "books": a false positive the gold does not share
    disagreements = read_rows(built / "data/processed/coding_disagreements.csv")
    assert [(d["label_set"], d["label"], d["error"]) for d in disagreements] == [
        ("media", "print", "false_positive")]
    by_set = read_rows(built / "data/processed/coding_validation_by_set.csv")
    assert {r["label_set"] for r in by_set} == {"themes", *PLURALS.values()}


def test_qdpx_codes_and_gold_import_follow_the_codebook(built, codebook, tmp_path):
    with zipfile.ZipFile(built / "reports/qualtrace.qdpx") as archive:
        project = archive.read("project.qde").decode("utf-8")
    names = set(re.findall(r'<Code [^>]*name="([^"]*)"', project))
    assert {"Speaker role", "Service setting", "Medium", "Residents", "Mobile library",
            "Print"} <= names
    # our own export read back as gold: the facets' plurals are the keys, and every unit has
    # exactly the labels the workflow gave it
    out = tmp_path / "roundtrip.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "qualtrace", "import-gold", "reports/qualtrace.qdpx",
         "--output", str(out)], cwd=built, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines and all(list(line) == ["doc", "anchor", "themes", "speaker_roles", "settings",
                                        "media"] for line in lines)
    documents = read_rows(built / "data/processed/documents.csv")
    raw = {Path(d["path"]).name: (built / d["path"]).read_text(encoding="utf-8")
           for d in documents}
    units = load_gold([out], raw, records(read_table(built / "data/processed/segments.csv")),
                      documents,
                      label_sets_from_codebook(codebook))
    labels = labels_by_segment(built)
    for unit in units:
        assert {k: set(v) for k, v in unit.labels.items() if v} == {
            k: v for k, v in labels[unit.segment_id].items() if v}, unit.segment_id


def test_report_names_the_study_s_facets(built):
    summary = (built / "reports/summary.qmd").read_text(encoding="utf-8")
    assert "## Speaker roles\\, settings and media {#breakdowns}" in summary
    for heading in ("### Speaker role × themes", "### Service setting × themes",
                    "### Medium × themes", "### Speaker role {#validity-speaker_roles}",
                    "### Medium {#validity-media}"):
        assert heading in summary
    assert "**By speaker role.**" in summary  # each theme's passages by whose view they report
    assert "| Interview group (as printed) | Speaker role |" in summary
    html = (built / "reports/summary.html").read_text(encoding="utf-8")
    assert "Service setting" in html and "Mobile library" in html
    items = {r["item_id"].split("-")[0] for r in
             read_rows(built / "data/processed/report_numbers.csv")}
    assert {"speaker_role", "setting", "medium"} <= items


def test_nothing_built_names_the_seed_study_s_facets(built):
    checked = 0
    for path in [*(built / "data").rglob("*"), *(built / "reports").rglob("*"),
                 built / "ro-crate-metadata.json"]:
        if not path.is_file() or path.suffix in (".pdf", ".qdpx"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        assert not SEED_FACET_WORDS.search(text), f"{path.relative_to(built)} names a seed facet"
        checked += 1
    with zipfile.ZipFile(built / "reports/qualtrace.qdpx") as archive:
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8", errors="replace")
            assert not SEED_FACET_WORDS.search(text), f"qualtrace.qdpx {name}"
    assert checked > 30
