"""Helpers for the report tests (no tests here): one build per fixture corpus per session,
and reading the evidence out of the HTML."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bs4 import BeautifulSoup

from qualtrace.io import read_csv

ROOT = Path(__file__).resolve().parents[1]
INJECTION = ROOT / "tests" / "fixtures" / "injection"
SECTIONS = ["Overview", "Key findings", "Themes", "Stakeholders and areas",
            "Theme co-occurrence", "Key points and their evidence", "Consistency checks",
            "Coding validity", "Appendix A: Evidence", "Appendix B: Provenance"]
_BUILDS: dict[str, Path] = {}


def build_once(name: str, fixture: Path, tmp_path_factory) -> Path:
    """The whole workflow run on `fixture`, once per test session (shared by modules)."""
    if name not in _BUILDS:
        from workflow_helpers import make_project, snakemake

        work = make_project(tmp_path_factory.mktemp(name), fixture)
        snakemake(work)
        _BUILDS[name] = work
    return _BUILDS[name]


def soup(work: Path) -> BeautifulSoup:
    return BeautifulSoup((work / "reports/summary.html").read_text(encoding="utf-8"),
                         "html.parser")


def numbers(work: Path) -> dict[str, dict[str, str]]:
    return {r["item_id"]: r for r in read_csv(work / "data/processed/report_numbers.csv")}


def passages(page: BeautifulSoup, anchor: str) -> list[str]:
    """Segment ids listed under an evidence anchor, in order (excerpts and compact lists)."""
    block = page.find(id=anchor)
    assert block is not None, f"no element with id {anchor}"
    ids = []
    for span in block.select("[data-segment], [data-segments]"):
        ids += span.get("data-segment", "").split() + span.get("data-segments", "").split()
    return ids


def pdf_text(path: Path) -> str | None:
    if not shutil.which("pdftotext"):
        return None
    # -layout keeps a hyphen that ends a line (the default mode joins "typst-" + "label").
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def squeeze(text: str) -> str:
    return "".join(text.split())
