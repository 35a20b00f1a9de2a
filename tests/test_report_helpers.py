"""Helpers for the report tests (no tests here): one build per fixture corpus per session,
and reading the evidence out of the HTML."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from bs4 import BeautifulSoup

from workflow_helpers import read_rows

ROOT = Path(__file__).resolve().parents[1]
INJECTION = ROOT / "tests" / "fixtures" / "injection"
SECTIONS = ["Overview", "How to read this report, and its limits", "Key findings", "Themes",
            "Stakeholders and areas", "Theme co-occurrence", "Key points and their evidence", "Consistency checks",
            "Uncoded segments", "Coding validity", "Provenance"]
_BUILDS: dict[str, Path] = {}


def build_once(name: str, fixture: Path, tmp_path_factory) -> Path:
    """The whole workflow run on `fixture`, once per test session (shared by modules)."""
    if name not in _BUILDS:
        from workflow_helpers import make_project, snakemake

        work = make_project(tmp_path_factory.mktemp(name), fixture)
        snakemake(work)
        _BUILDS[name] = work
    return _BUILDS[name]


def soup(work: Path, document: str = "summary") -> BeautifulSoup:
    return BeautifulSoup((work / f"reports/{document}.html").read_text(encoding="utf-8"),
                         "html.parser")


def evidence_item(href: str) -> str:
    """The item id a number's link opens: `evidence.html#ev-<id>` -> `<id>`."""
    assert href.startswith("evidence.html#ev-"), href
    return href.removeprefix("evidence.html#ev-")


def numbers(work: Path) -> dict[str, dict[str, str]]:
    return {r["item_id"]: r for r in read_rows(work / "data/processed/report_numbers.csv")}


def passages(page: BeautifulSoup, anchor: str) -> list[str]:
    """Segment ids listed under an evidence anchor (in the evidence document), in order
    (excerpts and compact lists). The anchor is the entry or its heading."""
    block = page.find(id=anchor)
    assert block is not None, f"no element with id {anchor}"
    if block.name in ("h4", "h3"):
        block = block.find_parent(class_="evidence")
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
    meanwhile) into `out`/{summary,evidence}.{html,pdf}; checks nothing is left beside."""
    import os

    import pytest

    from qualtrace.report.render import render_many, resolve

    reports = out / "reports"
    shutil.copytree(work / "reports", reports,
                    ignore=shutil.ignore_patterns("*.html", "*.pdf"))
    before = sorted(p.name for p in reports.iterdir())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{launcher.parent}{os.pathsep}{os.environ['PATH']}")
        engine = resolve("auto")
        assert engine.name == "quarto" and engine.versions["quarto"] == "1.7.34"
        # both documents in one Quarto run, as the render rule does
        render_many([(reports / f"{doc}.qmd", str(out / f"{doc}.html"), str(out / f"{doc}.pdf"))
                     for doc in ("summary", "evidence")], engine)
    # Nothing left behind: no .quarto/, summary_files/, summary.typ, no private folder.
    assert sorted(p.name for p in reports.iterdir()) == before
    return reports


_URI = re.compile(rb"/URI ?\(((?:[^()\\]|\\.)*)\)")
_DEST = re.compile(rb"\((ev-[A-Za-z0-9_.-]+)\)")


def pdf_links(path: Path) -> list[str]:
    """The URI link targets in a PDF (Typst writes them uncompressed)."""
    return [m.decode("latin-1") for m in _URI.findall(path.read_bytes())]


def assert_pdf_links_only_to_evidence(summary: Path, evidence: Path) -> None:
    """The body's PDF links go only to evidence.pdf entries that exist there (as named
    destinations); source text never becomes a link; the evidence PDF links only back to the
    body's sections."""
    links = pdf_links(summary)
    assert links and all(re.fullmatch(r"evidence\.pdf(#ev-[A-Za-z0-9_.-]+)?", u) for u in links), \
        [u for u in links if not u.startswith("evidence.pdf#ev-")][:5]
    named = {m.decode() for m in _DEST.findall(evidence.read_bytes())}
    assert {u.split("#", 1)[1] for u in links if "#" in u} <= named
    back = pdf_links(evidence)
    assert all(re.fullmatch(r"summary\.pdf(#[A-Za-z0-9_.-]+)?", u) for u in back), back[:5]


def section_of(page: BeautifulSoup, anchor: str) -> BeautifulSoup:
    """A section's content: the element with the id if it wraps it (Quarto's <section>), else
    its heading and everything up to the next heading of the same or a higher level."""
    head = page.find(id=anchor)
    assert head is not None, anchor
    if not re.fullmatch(r"h[1-6]", head.name):
        return head
    level = int(head.name[1])
    parts = [str(head)]
    for sib in head.find_next_siblings():
        if re.fullmatch(r"h[1-6]", sib.name or "") and int(sib.name[1]) <= level:
            break
        parts.append(str(sib))
    return BeautifulSoup("".join(parts), "html.parser")
