"""The same .qmd through a real `quarto render` (Quarto 1.7.34 from ../shared/tools/quarto/):
HTML and Typst PDF with the pandoc render's structure, styles and page rules, a fixed date,
byte-identical on a second render, nothing left beside the document.

Quarto is found at $QUALTRACE_QUARTO (the launcher .ci/run installs) or on PATH. Without it
these tests skip, unless QUALTRACE_REQUIRE_QUARTO=1 (CI), where they fail. Other tests keep the
pandoc path: Quarto is on PATH only while these render.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from test_report_helpers import (INJECTION, SECTIONS, assert_pdf_links_only_to_evidence,
                                 build_once, pdf_text, quarto_render_copy, require_quarto, soup,
                                 squeeze)
from test_report_injection import LITERALS

pytestmark = pytest.mark.slow


def _structure(page: BeautifulSoup) -> dict:
    """What both engines must agree on: headings, tables and their rows, number links, styles."""
    headings = [(h.name, h.get("id") or h.find_parent("section", id=True).get("id"),
                 " ".join(h.get_text().split()))
                for h in page.find_all(["h2", "h3"]) if h.get("id") != "toc-title"]
    tables = {}
    for holder in page.select('[id^="tbl-"]'):  # pandoc: the <table>; Quarto: a div around it
        table = holder if holder.name == "table" else holder.find("table")
        if table is not None:
            tables[holder["id"]] = len(table.select("tbody tr"))
    links = sorted(a["href"] for a in page.select("a.num"))
    css = " ".join(s.get_text() for s in page.find_all("style"))
    return {"headings": headings, "tables": tables, "links": links,
            "css": "max-width: 60em" in css and ".evidence:target" in css}


def test_quarto_html_has_the_pandoc_structure_and_styles(quarto_mini, mini_build):
    pandoc = _structure(soup(mini_build))
    quarto = _structure(BeautifulSoup((quarto_mini / "summary.html").read_text("utf-8"),
                                      "html.parser"))
    assert pandoc["css"] and quarto["css"]
    assert quarto["headings"] == pandoc["headings"]
    assert quarto["tables"] == pandoc["tables"] and len(quarto["tables"]) >= 4
    assert quarto["links"] == pandoc["links"] and len(quarto["links"]) > 50
    evidence = {doc: BeautifulSoup(path.read_text("utf-8"), "html.parser") for doc, path in
                (("pandoc", mini_build / "reports/evidence.html"),
                 ("quarto", quarto_mini / "evidence.html"))}
    entries = {doc: sorted(e["id"] for e in page.select(".evidence[id]"))
               for doc, page in evidence.items()}
    assert entries["quarto"] == entries["pandoc"]
    assert {h.split("#", 1)[1] for h in quarto["links"]} == set(entries["quarto"])
    assert _structure(evidence["quarto"])["css"]


def test_quarto_html_is_self_contained(quarto_mini):
    for doc in ("summary", "evidence"):
        page = BeautifulSoup((quarto_mini / f"{doc}.html").read_text("utf-8"), "html.parser")
        assert not page.find_all(["script", "link", "iframe", "object", "embed"])
        assert all(t["src"].startswith("data:") for t in page.find_all(src=True))
        assert all(re.match(r"#|evidence\.html(#|$)|summary\.html(#|$)", t["href"])
                   for t in page.find_all(href=True))
    assert_pdf_links_only_to_evidence(quarto_mini / "summary.pdf", quarto_mini / "evidence.pdf")


def pdf_info(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return dict(line.split(":", 1) for line in out.stdout.splitlines() if ":" in line)


def test_quarto_pdf_has_the_pandoc_sections_headings_and_date(quarto_mini, mini_build):
    if pdf_text(mini_build / "reports/summary.pdf") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    quarto, pandoc = (pdf_info(p) for p in (quarto_mini / "summary.pdf",
                                            mini_build / "reports/summary.pdf"))
    # The date is the qmd's own (from SOURCE_DATE_EPOCH when it was written), never the clock.
    assert quarto.get("CreationDate") == pandoc.get("CreationDate")
    # Same page rules (A4, a page per section): page counts within a few pages.
    assert quarto["Page size"].strip() == pandoc["Page size"].strip()
    assert abs(int(quarto["Pages"]) - int(pandoc["Pages"])) <= max(3, int(pandoc["Pages"]) // 10)
    text = pdf_text(quarto_mini / "summary.pdf")
    lines = {line.strip() for line in text.splitlines()}
    for section in SECTIONS:
        assert section in lines, section
    # Page 1 holds the contents and the overview in both renders (no page per section).
    for render in (quarto_mini / "summary.pdf", mini_build / "reports/summary.pdf"):
        first = {line.strip() for line in pdf_text(render).split("\f")[0].splitlines()}
        assert {"Contents", "Overview"} <= first, render


def test_quarto_render_is_byte_identical_twice(quarto_mini, tmp_path):
    quarto_render_copy(quarto_mini, tmp_path, require_quarto())  # its reports/ copy, rendered again elsewhere
    for name in ("summary.html", "summary.pdf", "evidence.html", "evidence.pdf"):
        assert (tmp_path / name).read_bytes() == (quarto_mini / name).read_bytes(), name


def test_quarto_prints_hostile_source_text_literally(tmp_path_factory, tmp_path):
    launcher = require_quarto()
    built = build_once("injection", INJECTION, tmp_path_factory)
    quarto_render_copy(built, tmp_path, launcher)
    html_text = pdf = ""
    for doc in ("summary", "evidence"):
        page = BeautifulSoup((tmp_path / f"{doc}.html").read_text("utf-8"), "html.parser")
        assert not page.find_all(["script", "iframe", "object", "embed", "link", "math"])
        html_text += squeeze(page.get_text())
        pdf += squeeze(pdf_text(tmp_path / f"{doc}.pdf") or "")
    for literal in LITERALS:
        assert squeeze(literal) in html_text, literal
        if pdf:
            assert squeeze(literal) in pdf, literal
