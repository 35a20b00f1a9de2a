"""The analysis/ notebooks (jupytext percent files, run by Snakemake as `script:`) open as
notebooks: each converts to .ipynb and runs with nbclient on the mini corpus, writing the same
bytes the workflow wrote."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
# notebook -> the files it writes (relative to the project), as the workflow names them
NOTEBOOKS = {
    "breakdowns.py": ["data/processed/theme_summary.csv", "data/processed/theme_cooccurrence.csv",
                      "data/processed/theme_by_stakeholder.csv",
                      "data/processed/theme_by_area.csv"],
    "validation.py": ["data/processed/coding_validation.csv",
                      "data/processed/coding_disagreements.csv",
                      "data/processed/coding_validation_by_set.csv"],
    "report.py": ["reports/summary.qmd", "data/processed/report_numbers.csv"],
}


def test_every_notebook_is_covered_and_paired():
    assert sorted(p.name for p in (ROOT / "analysis").glob("*.py")) == sorted(NOTEBOOKS)
    for name in NOTEBOOKS:
        notebook = jupytext.read(ROOT / "analysis" / name)
        assert notebook.metadata["jupytext"]["formats"] == "ipynb,py:percent"
        assert notebook.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_runs_and_matches_the_workflow(mini_build, tmp_path, monkeypatch, name):
    from qualtrace.audit.provenance import commit_epoch

    work = tmp_path / "project"
    shutil.copytree(mini_build, work, ignore=shutil.ignore_patterns(".snakemake"))
    expected = {path: (work / path).read_bytes() for path in NOTEBOOKS[name]}
    for path in expected:
        (work / path).unlink()
    # the environment the workflow's jobs had (common.smk pins the date to the last commit)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", os.environ.get("SOURCE_DATE_EPOCH")
                       or commit_epoch(str(ROOT)) or "0")
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    notebook = jupytext.read(ROOT / "analysis" / name)
    jupytext.write(notebook, tmp_path / Path(name).with_suffix(".ipynb").name)  # opens as .ipynb
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(work)}}).execute()
    assert {path: (work / path).read_bytes() for path in expected} == expected
