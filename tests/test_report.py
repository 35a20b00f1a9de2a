"""The report end to end: every number opens the passages `trace` returns; HTML and PDF."""
from __future__ import annotations

import os
import re
import stat
import sys

import pytest

from test_report_helpers import (SECTIONS, assert_pdf_links_only_to_evidence, evidence_item,
                                 numbers, passages, pdf_text, section_of, soup, squeeze)
from workflow_helpers import read_rows, snakemake

pytestmark = pytest.mark.slow

TABLES = ["tbl-themes", "tbl-stakeholder", "tbl-area", "tbl-cooccurrence"]


@pytest.fixture(scope="module")
def page(mini_build):
    return soup(mini_build)


@pytest.fixture(scope="module")
def evidence(mini_build):
    return soup(mini_build, "evidence")


def test_source_is_a_quarto_document_with_numbers_computed(mini_build):
    qmd = (mini_build / "reports/summary.qmd").read_text(encoding="utf-8")
    front = qmd.split("\n---\n", 1)[0]
    for key in ("title:", "format:", "  html:", "    embed-resources: true", "    toc: true",
                "  typst:", "    include-in-header:", "    shift-heading-level-by: -1"):
        assert f"\n{key}" in front, key
    # Quarto drops raw blocks in a top-level header-includes (styles and Typst rules with it).
    assert "\nheader-includes:" not in front
    assert not re.search(r"^```\{(python|r|julia|ojs)", qmd, re.MULTILINE)  # no code cells
    assert "](evidence.html#ev-theme-" in qmd and "](#ev-" not in qmd


def test_every_table_number_opens_the_passages_trace_returns(mini_build, page, evidence):
    from qualtrace.audit.trace import trace

    rows = numbers(mini_build)
    segments = {s["segment_id"]: s for s in read_rows(mini_build / "data/processed/segments.csv")}
    checked = 0
    for table_id in TABLES:
        table = page.find("table", id=table_id)
        assert table is not None and table.find("thead"), table_id
        for cell in table.select("tbody td"):
            if not re.fullmatch(r"\s*\d+\s*", cell.get_text()):
                continue
            link = cell.find("a", class_="num")
            if link is None:  # a zero cell: nothing to land on, so no link and no entry
                assert cell.get_text().strip() == "0", f"{table_id}: unlinked {cell!s}"
                continue
            item = evidence_item(link["href"])
            listed = passages(evidence, f"ev-{item}")
            assert listed == rows[item]["segment_ids"].split(), item
            _, traced = trace([item], mini_build)
            assert [p.segment_id for p in traced] == listed, item
            assert all(p.ok for p in traced), item
            value = int(link.get_text())
            assert value == int(rows[item]["value"]), item
            kinds = [segments[s] for s in listed]
            if item.endswith("-documents"):
                assert value == len({s["doc_id"] for s in kinds})
            elif item.endswith("-interviews"):
                assert value == len({s["interview_id"] for s in kinds})
            else:
                assert value == len(listed), item
            checked += 1
    assert checked >= 4 * 5  # themes x measures, at least


def test_theme_table_agrees_with_theme_summary(mini_build, page):
    summary = {r["theme"]: r for r in read_rows(mini_build / "data/processed/theme_summary.csv")}
    for row in page.find("table", id="tbl-themes").select("tbody tr"):
        theme = row.find("a")["href"].removeprefix("#theme-")
        counts = [int(td.get_text()) for td in row.select("td")[1:6]]
        expected = [int(summary[theme][c]) for c in ("n_segments", "n_documents",
                                                     "n_key_points", "n_quotations",
                                                     "n_interviews")]
        assert counts == expected, theme


def test_every_number_link_has_its_anchor_and_every_item_is_shown(mini_build, page, evidence):
    rows = numbers(mini_build)
    links = page.select("a.num")
    anchors = {e["id"] for e in evidence.select(".evidence[id]")}
    # an entry per number with passages or read from an input file (external scores)
    with_passages = {f"ev-{i}" for i, r in rows.items() if r["segment_ids"] or r["source"]}
    assert {f"ev-{evidence_item(a['href'])}" for a in links} == anchors == with_passages
    assert len(with_passages) < len(rows)  # zero cells: in the CSV, not linked, not listed
    for a in links:
        assert a.get_text() == rows[evidence_item(a["href"])]["value"]
    for href in {a["href"] for a in page.select('a[href^="evidence.html#"]')}:
        assert evidence.find(id=href.split("#", 1)[1]) is not None, href
    for href in {a["href"] for a in page.select('a[href^="#"]')}:
        assert page.find(id=href[1:]) is not None, href
    for href in {a["href"] for a in evidence.select('a[href^="#"]')}:
        assert evidence.find(id=href[1:]) is not None, href


def test_report_numbers_follow_the_contract(mini_build):
    path = mini_build / "data/processed/report_numbers.csv"
    assert path.read_text(encoding="utf-8").splitlines()[0] == (
        "item_id,section,label,value,query,segment_ids,source")
    rows = read_rows(path)
    segments = {s["segment_id"] for s in read_rows(mini_build / "data/processed/segments.csv")}
    assert len({r["item_id"] for r in rows}) == len(rows)
    for r in rows:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", r["item_id"]), r["item_id"]
        ids = r["segment_ids"].split()
        assert ids == sorted(set(ids)) and set(ids) <= segments, r["item_id"]
        assert r["query"] and r["section"] and r["label"]
        # FILE:LINE:COLUMN of a number read from an input file, never with passages
        assert not r["source"] or (re.fullmatch(r".+:\d+:[a-z_0-9]+", r["source"])
                                   and not ids), r["item_id"]
    assert {"theme-resourcing-segments", "corpus-segments"} <= {r["item_id"] for r in rows}


def test_html_is_self_contained_and_readable(mini_build, page, evidence):
    for doc in (page, evidence):
        assert not doc.find_all(["script", "link", "iframe", "object", "embed"])
        for tag in doc.find_all(src=True):
            assert tag["src"].startswith("data:"), tag["src"][:80]
        for tag in doc.find_all(href=True):  # within the page, or between the two documents
            assert re.match(r"#|evidence\.html(#|$)|summary\.html(#|$)", tag["href"]), tag["href"]
    html = (mini_build / "reports/summary.html").read_text(encoding="utf-8")
    assert not re.search(r"https?://(?!www\.w3\.org/)", html.split("<body", 1)[1])
    assert "mathjax" not in html.lower()
    images = page.find_all("img")
    assert len(images) >= 5  # prevalence, two heatmaps, co-occurrence, rule graph
    assert all(len(img.get("alt", "")) > 20 for img in images)
    assert all(t.find("thead") for t in page.find_all("table"))
    assert 'name="viewport"' in html and "overflow-x: auto" in html


def test_report_says_which_engine_rendered_it(page):
    text = " ".join(page.get_text().split())
    assert re.search(r"Rendered from reports/summary\.qmd with pandoc \d+\.\d+", text)
    assert "Typst (typst Python package 0." in text


def test_pdf_has_every_section(mini_build):
    text = pdf_text(mini_build / "reports/summary.pdf")
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    lines = {line.strip() for line in text.splitlines()}
    for section in SECTIONS:
        assert section in lines, section
    assert_pdf_links_only_to_evidence(mini_build / "reports/summary.pdf",
                                      mini_build / "reports/evidence.pdf")


def test_quotations_are_verbatim_with_attribution(mini_build, page):
    raw = "".join(p.read_text(encoding="utf-8") for p in (mini_build / "data/raw").iterdir())
    quotes = page.select('section[id^="theme-"] blockquote, h3[id^="theme-"] ~ blockquote')
    assert quotes
    for quote in quotes:
        body, attribution = quote.find_all("p")[:2]
        assert squeeze(body.get_text()) in squeeze(raw)
        assert "interview" in attribution.get_text()


def test_rerender_is_byte_identical_elsewhere(mini_build, tmp_path):
    import shutil

    from qualtrace.report.render import render, resolve

    shutil.copytree(mini_build / "reports", tmp_path / "reports")
    for doc in ("summary", "evidence"):
        render(tmp_path / f"reports/{doc}.qmd", resolve("pandoc"),
               html=str(tmp_path / f"{doc}.html"), pdf=str(tmp_path / f"{doc}.pdf"))
        for fmt in ("html", "pdf"):
            assert (tmp_path / f"{doc}.{fmt}").read_bytes() == (
                mini_build / f"reports/{doc}.{fmt}").read_bytes(), (doc, fmt)
    assert not [p for p in (tmp_path / "reports").iterdir() if p.name.startswith(".")]


def test_validity_section_scores_the_seeds(seeds_build):
    page = soup(seeds_build)
    validity = page.find(id="validity")
    assert validity is not None
    text = " ".join(section_of(page, "key-findings").get_text().split())
    # the key finding quotes the never-tuned sets first, then the seeds (tuned on)
    assert re.search(r"Coding validity\. On gold text the rules were never tuned on, "
                     r"micro-F1 was themes 0\.\d\d\u20130\.\d\d", text), text
    held, tuned = text.split("On text they were tuned on", 1)
    assert "seeds" not in held.split("Coding validity.", 1)[1]
    assert "on this corpus's own gold (seeds)" in tuned.replace("\u2019", "'")
    for set_id in ("themes", "stakeholders", "areas"):
        assert page.find("table", id=f"tbl-validity-{set_id}") is not None
    assert soup(seeds_build, "evidence").find(id="ev-validity-themes-micro-kappa") is not None
    assert page.find(id="disagreements") is not None


def test_snakemake_report_has_captions(mini_build, tmp_path):
    out = tmp_path / "snakemake-report.html"
    result = snakemake(mini_build, "--report", str(out))
    assert out.is_file(), result.stderr
    html = out.read_text(encoding="utf-8", errors="replace")
    assert "report_numbers" in html and "self-contained" in html


def test_formats_choose_the_rendered_outputs(mini_build):
    dry = snakemake(mini_build, "--dry-run", "--forcerun", "render_report", "--config",
                    "render={engine: auto, formats: [html]}").stdout
    assert "reports/summary.html" in dry and "reports/summary.pdf" not in dry


def test_quarto_engine_is_required_when_asked_for(monkeypatch, tmp_path):
    from qualtrace.report.render import RenderError, resolve

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderError, match="no `quarto` binary is on PATH"):
        resolve("quarto")
    assert resolve("auto").name == "pandoc"


def test_quarto_renders_the_same_file_when_on_path(monkeypatch, tmp_path):
    """A stand-in `quarto` records how it is called; auto picks it and both formats use it."""
    from qualtrace.report.render import render, resolve

    _fake_quarto(tmp_path, monkeypatch,
                 'case "$4" in *html*) echo html > summary.html;; esac\n'
                 'case "$4" in *typst*) echo pdf > summary.pdf;; esac\n')
    engine = resolve("auto")
    assert engine.name == "quarto" and "Quarto 9.9.9" in engine.describe()
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "summary.qmd").write_text("---\ntitle: t\n---\n", encoding="utf-8")
    render(reports / "summary.qmd", engine, html=str(tmp_path / "out.html"),
           pdf=str(reports / "summary.pdf"))
    calls = (tmp_path / "calls").read_text().splitlines()
    private = reports / ".summary.quarto"  # a private copy, so nothing is left in reports/
    # one run for both formats (Quarto's start-up paid once); the filter acts on Typst only
    assert calls == [f"{private} render summary.qmd --to html,typst --lua-filter "
                     f"{render.__globals__['TYPST_LITERAL_FILTER']}"]
    assert (tmp_path / "out.html").read_text() == "html\n"
    assert (reports / "summary.pdf").read_text() == "pdf\n"
    assert sorted(p.name for p in reports.iterdir()) == ["summary.pdf", "summary.qmd"]


def _recording_quarto(tmp_path, monkeypatch):
    """A stand-in `quarto` that records each call (folder, arguments, project file) and writes
    every format of every document it is asked for (by name, or by the project's list)."""
    _fake_quarto(tmp_path, monkeypatch,
                 f'[ -f _quarto.yml ] && cat _quarto.yml >> {tmp_path}/calls\n'
                 'for q in *.qmd; do s=${q%.qmd}; echo "html $s" > $s.html;'
                 ' echo "pdf $s" > $s.pdf; done\n')


def _fake_quarto(tmp_path, monkeypatch, body: str) -> None:
    """Put a stand-in `quarto` first on PATH: it answers --version with 9.9.9, appends
    "folder arguments" of each call to tmp_path/calls, then runs `body` (shell)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "quarto"
    fake.write_text("#!/bin/sh\n"
                    'if [ "$1" = "--version" ]; then echo 9.9.9; exit 0; fi\n'
                    f'echo "$PWD $*" >> {tmp_path}/calls\n' + body)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_quarto_renders_several_documents_in_one_run(monkeypatch, tmp_path):
    """Quarto's start-up is paid once for the report's documents: one `quarto render` of a
    private project naming them; each output lands beside its .qmd; nothing is left behind."""
    from qualtrace.report.render import render, render_many, resolve

    _recording_quarto(tmp_path, monkeypatch)
    reports = tmp_path / "reports"
    reports.mkdir()
    for doc in ("summary", "evidence"):
        (reports / f"{doc}.qmd").write_text("---\ntitle: t\n---\n", encoding="utf-8")
    render_many([(reports / f"{doc}.qmd", str(reports / f"{doc}.html"),
                  str(reports / f"{doc}.pdf")) for doc in ("summary", "evidence")],
                resolve("auto"))
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == [f"{reports / '.summary+evidence.quarto'} render --to html,typst "
                     f"--lua-filter {render.__globals__['TYPST_LITERAL_FILTER']}",
                     "project:", "  type: default", "  render:",
                     '    - "summary.qmd"', '    - "evidence.qmd"']
    for doc in ("summary", "evidence"):
        assert (reports / f"{doc}.html").read_text() == f"html {doc}\n"
        assert (reports / f"{doc}.pdf").read_text() == f"pdf {doc}\n"
    assert sorted(p.name for p in reports.iterdir()) == [
        "evidence.html", "evidence.pdf", "evidence.qmd", "summary.html", "summary.pdf",
        "summary.qmd"]


def test_quarto_keeps_a_folders_own_project(monkeypatch, tmp_path):
    """A reports folder that is a Quarto project of its own is not overridden: each document
    is rendered by name in it, with its _quarto.yml."""
    from qualtrace.report.render import render_many, resolve

    _recording_quarto(tmp_path, monkeypatch)
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "_quarto.yml").write_text("project:\n  title: mine\n", encoding="utf-8")
    for doc in ("summary", "evidence"):
        (reports / f"{doc}.qmd").write_text("---\ntitle: t\n---\n", encoding="utf-8")
    render_many([(reports / f"{doc}.qmd", None, str(reports / f"{doc}.pdf"))
                 for doc in ("summary", "evidence")], resolve("auto"))
    calls = (tmp_path / "calls").read_text().splitlines()
    runs = sorted(line.split(" ", 1)[1] for line in calls if " render " in line)
    assert runs == [f"render {doc}.qmd --to typst --lua-filter "
                    f"{render_many.__globals__['TYPST_LITERAL_FILTER']}"
                    for doc in ("evidence", "summary")]
    assert calls.count("  title: mine") == 2
    assert sorted(p.name for p in reports.iterdir()) == [
        "_quarto.yml", "evidence.pdf", "evidence.qmd", "summary.pdf", "summary.qmd"]


def test_rule_graph_falls_back_to_dot_text_without_graphviz(mini_build, tmp_path, monkeypatch):
    from qualtrace.report import build_source, rulegraph
    from qualtrace.report.data import TABLES

    monkeypatch.setattr(rulegraph.shutil, "which", lambda name: None)
    assert rulegraph.dot_to_svg("digraph {}") is None
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures/rulegraph.svg").write_bytes(b"")
    (tmp_path / "rulegraph.dot").write_text('digraph snakemake_dag {\n 0[label = "all"];\n}\n')
    processed = mini_build / "data/processed"
    cwd = os.getcwd()
    os.chdir(mini_build)  # documents.csv paths are relative to the run directory
    try:
        build_source(tables={n: str(processed / f"{n}.csv") for n in TABLES},
                     by_facet={f: str(processed / f"theme_by_{f}.csv")
                               for f in ("stakeholder", "area")},
                     manifest=str(processed / "run_manifest.json"),
                     codebook=str(mini_build / "config/codebook.yaml"),
                     rulegraph_dot=str(tmp_path / "rulegraph.dot"),
                     rulegraph_svg=str(tmp_path / "figures/rulegraph.svg"),
                     qmd=str(tmp_path / "summary.qmd"), numbers=str(tmp_path / "numbers.csv"),
                     engine="pandoc")
    finally:
        os.chdir(cwd)
    qmd = (tmp_path / "summary.qmd").read_text(encoding="utf-8")
    assert "graphviz `dot` was not available" in qmd
    assert '```dot\ndigraph snakemake_dag {\n 0[label = "all"];\n}\n```' in qmd
    assert "rulegraph.svg" not in qmd


def test_lint_stays_clean_with_the_report_rules():
    import subprocess

    from workflow_helpers import ROOT

    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0 and "Lints for" not in result.stdout + result.stderr
