"""The real corpus end to end: checks pass, expected findings are reported, quality holds."""
from __future__ import annotations

import pytest

from workflow_helpers import read_rows

pytestmark = pytest.mark.slow


def test_error_checks_pass_on_the_seeds(seeds_build):
    checks = {c["check_id"]: c for c in read_rows(seeds_build / "data/processed/checks.csv")}
    for check in ("span_integrity", "lossless", "quote_verbatim", "count_evidence",
                  "boilerplate"):
        assert (checks[check]["severity"], checks[check]["status"]) == ("error", "pass")


def test_seed_findings_are_reported(seeds_build):
    items = read_rows(seeds_build / "data/processed/check_items.csv")
    spellings = {i["item"] for i in items if i["check_id"] == "attribution_labels"}
    assert spellings == {
        'senior_manager_team_leader: "Senior manager / team leader"',
        'senior_manager_team_leader: "Senior managers / team leaders"',
        'senior_manager_team_leader: "Senior manager / team leaders"'}
    references = {i["item"] for i in items if i["check_id"] == "cross_references"}
    assert references == {"chapter 1", "chapter 3", "chapter 4", "chapter 5", "page 3"}


def test_seed_quality_floor(seeds_build):
    """A regression guard, not the measurement: scores are reported in the README."""
    rows = read_rows(seeds_build / "data/processed/coding_validation.csv")
    macro = {r["label_set"]: float(r["f1"]) for r in rows if r["label"] == "__macro__"}
    assert macro["themes"] >= 0.92 and macro["stakeholders"] >= 0.94 and macro["areas"] >= 0.95
    assert int(next(r for r in rows if r["label"] == "__macro__")["n_units"]) == 101


# Micro-F1 floors on the gold sets the rules were TUNED on (seeds aside), set just below the
# levels measured when they were last raised (README, "Validity"): a regression guard, not a
# measure of generalisation. The never-tuned sets (heldout3, heldout4, heldout5) have no floor
# here: they are scored once, by hand, after tuning ends, so nothing is fitted to them.
TUNED_FLOORS = {  # set: (themes, stakeholders, areas)
    "heldout": (0.97, 0.98, 0.99),
    "heldout2": (0.95, 0.93, 0.90),
    "tune1": (0.87, 0.91, 0.92),
    "tune2": (0.89, 0.93, 0.93),
    "tune3": (0.87, 0.93, 0.90),
}


@pytest.mark.parametrize("name", sorted(TUNED_FLOORS))
def test_tuned_set_quality_floor(tmp_path, name):
    """Chapters written blind and hand-coded, which the rules were then tuned on."""
    from workflow_helpers import ROOT, make_project, snakemake

    work = make_project(tmp_path, ROOT / "tests" / "fixtures" / name)
    snakemake(work, "data/processed/coding_validation.csv")
    rows = read_rows(work / "data/processed/coding_validation.csv")
    micro = {r["label_set"]: float(r["f1"]) for r in rows if r["label"] == "__micro__"}
    themes, stakeholders, areas = TUNED_FLOORS[name]
    assert micro["themes"] >= themes and micro["stakeholders"] >= stakeholders \
        and micro["areas"] >= areas, micro
