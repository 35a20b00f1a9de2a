"""Source text is data: a hostile chapter, built end to end, prints literally in HTML and PDF."""
from __future__ import annotations

import re

import pytest

from test_report_helpers import (INJECTION, assert_pdf_links_only_to_evidence, build_once,
                                 numbers, pdf_text, soup, squeeze)

pytestmark = pytest.mark.slow

# Exactly as in tests/fixtures/injection/data/raw/ch09_hostile.txt.
LITERALS = [
    '<script>alert("kp-script")</script>',
    "{{< include /etc/passwd >}}",
    "$x^2 + y_1$",
    "@smith2020",
    '<img src=x onerror=alert("img-onerror")>',
    "**bold claims** with *emphasis* and `code`",
    "`<b>raw-html</b>`{=html}",
    "```{=html}",
    '<iframe src="https://evil.example/frame"></iframe>',
    "<style>body{display:none}</style>",
    "#set page(fill: red)",
    '#link("https://evil.example")[typst-link]',
    "<typst-label> and = Not a heading",
    r"\textbf{latex-bold} 100% & costs_up ~ 5^2 \\ {braces}",
    "[a link](https://evil.example/md)",
    "<https://evil.example/auto>",
    "&amp; &lt;b&gt;",
    "| a | b |",
    "^[hidden note]",
    "<!-- hidden comment -->",
    "{{< meta title >}}",
    "{{< pagebreak >}}",
    "$$E = mc^2$$",
    "[@doe2021]",
    "<script>alert('quote-script')</script>",
    "#1 problem is ::: {.callout} and <div>staffing</div>",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_once("injection", INJECTION, tmp_path_factory)


def test_fixture_holds_every_literal():
    raw = (INJECTION / "data/raw/ch09_hostile.txt").read_text(encoding="utf-8")
    for literal in LITERALS:
        assert literal in raw, literal


def test_html_shows_source_markup_as_text(built):
    text = ""
    for page in (soup(built), soup(built, "evidence")):  # the body and its evidence
        assert not page.find_all(["script", "iframe", "div"], string=re.compile("alert|staffing"))
        assert not page.find_all(["script", "iframe", "object", "embed", "link", "math"])
        assert all(img["src"].startswith("data:image/svg+xml") for img in page.find_all("img"))
        assert all(re.match(r"#|evidence\.html(#|$)|summary\.html(#|$)", a["href"])
                   for a in page.find_all("a", href=True))
        styles = page.find_all("style")  # pandoc's and the report's own, in <head> only
        assert styles and all(style.find_parent("head") for style in styles)
        assert all("display:none" not in style.get_text() for style in styles)
        text += squeeze(page.get_text())
    for literal in LITERALS:
        assert squeeze(literal) in text, literal


def test_pdf_shows_source_markup_as_text(built):
    text = pdf_text(built / "reports/summary.pdf")
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    squeezed = squeeze(text) + squeeze(pdf_text(built / "reports/evidence.pdf"))
    for literal in LITERALS:
        assert squeeze(literal) in squeezed, literal
    assert_pdf_links_only_to_evidence(built / "reports/summary.pdf",
                                      built / "reports/evidence.pdf")


def test_hostile_attribution_gets_a_safe_item_id(built):
    ids = numbers(built)
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+", i) for i in ids)
    groups = [i for i in ids if i.startswith("group-") and "third_sector" in i]
    assert groups, sorted(ids)
    page = soup(built)
    assert "Third-sector *partner*" in page.get_text()
