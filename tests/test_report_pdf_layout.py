"""The PDF reads cleanly: no word printed over another (ids that ran into the next column),
no table caption left at a page foot without its table. Word boxes are read back from the PDF
with poppler's `pdftotext -bbox-layout`; run on the seeds, the mini corpus (both engines) and
the hostile-text fixture."""
from __future__ import annotations

import re
import subprocess

import pytest

import pdf_layout
from test_report_helpers import INJECTION, build_once, pdf_text

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not pdf_layout.available(),
                                 reason="pdftotext (poppler-utils) is not installed")]
CAPTION = re.compile(r"^\s*Table \d+:")
LINE_END_HYPHEN = re.compile(r"(\w+)([-\u00ad])$")  # Typst's own hyphen is read back as U+00AD


@pytest.fixture(scope="module")
def injection(tmp_path_factory):
    return build_once("injection", INJECTION, tmp_path_factory)


def assert_not_hyphenated(pdf, qmd):
    """A line that ends in a hyphen ends a part the source itself hyphenates ("trauma-" of
    "trauma-informed"): Typst added no hyphen (no title, header or cell word cut in two)."""
    source = qmd.read_text(encoding="utf-8").replace("\\-", "-")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout  # reading order, one text line per line
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line, following in zip(lines, lines[1:]):
        found = LINE_END_HYPHEN.search(line)
        if found and following[:1].isalpha():  # (ids wrap after "-" before digits)
            part = found.group(1)
            assert found.group(2) == "-" and re.search(rf"\b{re.escape(part)}-\w", source), \
                f"hyphenated by the layout: {part}- / {following[:30]}"


def assert_clean(pdf):
    assert_not_hyphenated(pdf, pdf.with_suffix(".qmd") if pdf.with_suffix(".qmd").exists()
                          else pdf.parent / "reports" / pdf.with_suffix(".qmd").name)
    clashes = pdf_layout.overlapping(pdf)
    assert not clashes, [f"p.{a.page}: {a.text!r} over {b.text!r}" for a, b in clashes[:10]]
    for n, page in enumerate(pdf_text(pdf).split("\f"), start=1):
        lines = [line for line in page.splitlines() if line.strip()]
        body = lines[:-1] if lines and lines[-1].strip().isdigit() else lines  # page number
        assert not (body and CAPTION.match(body[-1])), f"p.{n}: caption without its table"


DOCUMENTS = pytest.mark.parametrize("doc", ["summary", "evidence"])


@DOCUMENTS
def test_seeds_pdf_has_no_overlapping_words(seeds_build, doc):
    assert_clean(seeds_build / f"reports/{doc}.pdf")


@DOCUMENTS
def test_mini_pdf_has_no_overlapping_words(mini_build, doc):
    assert_clean(mini_build / f"reports/{doc}.pdf")


@DOCUMENTS
def test_hostile_text_pdf_has_no_overlapping_words(injection, doc):
    assert_clean(injection / f"reports/{doc}.pdf")


@DOCUMENTS
def test_quarto_pdf_has_no_overlapping_words(quarto_mini, doc):
    assert_clean(quarto_mini / f"{doc}.pdf")


def test_overlap_check_finds_words_printed_over_each_other(tmp_path):
    """The check itself: a page with a long id run into the next column is caught."""
    import typst

    (tmp_path / "clash.typ").write_text(
        '#table(columns: (2cm, 4cm), stroke: none, [`000_fa96d3d651fb901c-0045`], '
        '[spellings of one group])\n', encoding="utf-8")
    (tmp_path / "clash.pdf").write_bytes(typst.compile(str(tmp_path / "clash.typ")))
    assert pdf_layout.overlapping(tmp_path / "clash.pdf")
    (tmp_path / "fine.typ").write_text("Two words.\n", encoding="utf-8")
    (tmp_path / "fine.pdf").write_bytes(typst.compile(str(tmp_path / "fine.typ")))
    assert not pdf_layout.overlapping(tmp_path / "fine.pdf")


def test_hyphenation_check_finds_a_word_cut_by_the_layout(tmp_path):
    import typst

    words = "internationalisation responsibilities characteristically " * 4
    (tmp_path / "cut.typ").write_text(
        '#set text(lang: "en", hyphenate: true)\n#set par(justify: true)\n'
        f"#block(width: 2.5cm)[{words}]\n", encoding="utf-8")
    (tmp_path / "cut.pdf").write_bytes(typst.compile(str(tmp_path / "cut.typ")))
    (tmp_path / "cut.qmd").write_text(words, encoding="utf-8")
    with pytest.raises(AssertionError, match="hyphenated by the layout"):
        assert_not_hyphenated(tmp_path / "cut.pdf", tmp_path / "cut.qmd")
