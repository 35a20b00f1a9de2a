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


def quarto_launcher() -> Path | None:
    """A real Quarto: $QUALTRACE_QUARTO (what .ci/run installs from the kit) or PATH's."""
    import os

    found = os.environ.get("QUALTRACE_QUARTO") or shutil.which("quarto")
    return Path(found) if found and Path(found).is_file() else None


def require_quarto() -> Path:
    """The launcher, or skip (fail when QUALTRACE_REQUIRE_QUARTO=1, as in CI)."""
    import os

    import pytest

    launcher = quarto_launcher()
    if launcher is None:
        if os.environ.get("QUALTRACE_REQUIRE_QUARTO") == "1":
            pytest.fail("QUALTRACE_REQUIRE_QUARTO=1 but no Quarto: set QUALTRACE_QUARTO to the "
                        "kit's bin/quarto (bash ../shared/tools/quarto/setup.sh PREFIX)")
        pytest.skip("no Quarto (set QUALTRACE_QUARTO or put quarto on PATH)")
    return launcher


def quarto_render_copy(work: Path, out: Path, launcher: Path) -> Path:
    """Render a copy of `work`'s reports/ with Quarto (engine `auto`, Quarto on PATH only
    meanwhile) into `out`/summary.{html,pdf}; checks nothing is left beside the .qmd."""
    import os

    import pytest

    from qualtrace.report.render import render, resolve

    reports = out / "reports"
    shutil.copytree(work / "reports", reports,
                    ignore=shutil.ignore_patterns("summary.html", "summary.pdf"))
    before = sorted(p.name for p in reports.iterdir())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{launcher.parent}{os.pathsep}{os.environ['PATH']}")
        engine = resolve("auto")
        assert engine.name == "quarto" and engine.versions["quarto"] == "1.7.34"
        render(reports / "summary.qmd", engine, html=str(out / "summary.html"),
               pdf=str(out / "summary.pdf"))
    # Nothing left behind: no .quarto/, summary_files/, summary.typ, no private folder.
    assert sorted(p.name for p in reports.iterdir()) == before
    return reports
