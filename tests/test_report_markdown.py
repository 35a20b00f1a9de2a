"""Source text is data: md_literal makes any text literal in pandoc Markdown (HTML and Typst)."""
from __future__ import annotations

import shutil
import string
import subprocess

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from qualtrace.report.markdown import excerpt, md_literal, strip_bullet, table
from qualtrace.report.numbers import Registry

pypandoc = pytest.importorskip("pypandoc")

HOSTILE = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    "{{< include /etc/passwd >}}",
    "{{< meta title >}}",
    "`<b>raw</b>`{=html}",
    "```{=html}",
    "$x^2$ and $$E = mc^2$$",
    "@smith2020 and [@doe, p. 3]",
    "*emph* **strong** _under_ ~~strike~~",
    "# not a heading",
    "1. not a list",
    "- not a bullet",
    "> not a quote",
    "back\\slash \\\\ double \\",
    "#set page(fill: red) #let x = 1",
    "<label> and @label and = heading",
    '#link("https://evil.example")[x]',
    "\\textbf{x} % & _ ~ ^ { }",
    "[a link](https://evil.example) <https://evil.example>",
    "&amp; &lt;b&gt; &#x41;",
    "| a | b |",
    "^[footnote] and H~2~O and 2^10^",
    "<!-- comment -->",
    "::: {.callout}",
    "term\n:   definition",
    "line one\nline two\r\nline three",
    "    four spaces of indent",
    "\\",
    "trailing backslash \\",
    "quote \"marks\" and 'single' and -- dashes ... dots",
    "Typst shorthands: a...b, soft-?hyphen, x ~ y, a // comment, /* block */",
]


def normal(text: str) -> str:
    return " ".join(text.split())


def to_html(markdown: str) -> str:
    return pypandoc.convert_text(markdown, "html5", format="markdown")


def paragraphs(texts: list[str]) -> list[str]:
    """Each text through md_literal and pandoc: the text of each resulting paragraph."""
    html = to_html("\n\n".join(md_literal(t) for t in texts))
    soup = BeautifulSoup(html, "html.parser")
    children = [c for c in soup.children if getattr(c, "name", None)]
    assert all(c.name == "p" for c in children), html
    assert not soup.find_all(["script", "img", "a", "em", "strong", "code", "span", "math",
                              "sup", "sub", "del", "h1", "li", "blockquote", "table", "div"])
    return [normal(c.get_text()) for c in children]


def test_hostile_text_prints_literally_in_html():
    assert paragraphs(HOSTILE) == [normal(t) for t in HOSTILE]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(alphabet=string.printable + "\u201c\u201d\u2026\u00e9\u2028",
                        min_size=1).filter(lambda t: t.strip()), min_size=1, max_size=8))
def test_any_text_prints_literally_in_html(texts):
    expected = [normal(md_literal_plain(t)) for t in texts]
    assert paragraphs(texts) == expected


def md_literal_plain(text: str) -> str:
    """What a reader should see: the text with line breaks and controls as spaces."""
    return "".join(" " if (c.isspace() or ord(c) < 32 or c == "\x7f") else c for c in text)


def test_escaped_text_has_no_markup_characters_left_bare():
    out = md_literal("".join(string.punctuation))
    assert out == "".join("\\" + c for c in string.punctuation)
    assert md_literal("a\nb\r\nc\td") == "a b c d"


def test_hostile_text_prints_literally_in_typst_and_pdf(tmp_path):
    pytest.importorskip("typst")
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    from qualtrace.report.render import pandoc_pdf

    qmd = tmp_path / "t.qmd"
    qmd.write_text("\n\n".join(md_literal(t) for t in HOSTILE), encoding="utf-8")
    (tmp_path / "t.pdf").write_bytes(pandoc_pdf(qmd, reader="markdown"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.pdf", "t.qmd"]  # no leftovers
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "t.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    squeezed = "".join(text.split())
    for t in HOSTILE:
        assert "".join(t.split()) in squeezed, t


def test_excerpt_windows_and_highlights_the_evidence():
    text = "x" * 50 + " " + "word " * 100 + "resourcing, and " + "more " * 100
    at = text.index("resourcing")
    out = excerpt(text, 120, (at, at + len("resourcing")))
    assert "[resourcing]{.mark}\\," in out
    assert out.startswith("\u2026 ") and out.endswith(" \u2026")
    assert len(out) < 200
    html = to_html(out)
    assert "<mark>resourcing</mark>," in html


def test_excerpt_of_short_text_is_whole_and_escaped():
    assert excerpt("A *b* <c>", 300) == "A \\*b\\* \\<c\\>"
    assert excerpt("", 300) == ""


def test_excerpt_highlight_keeps_edge_spaces_outside():
    out = excerpt("see  the funding  gap", 300, (4, 17))
    assert "[the funding]{.mark}" in out


def test_table_has_a_header_row_and_escaped_cells():
    md = table(["A", "B"], [[md_literal("x|y"), "1"]], "lr", caption="Cap")
    html = to_html(md)
    soup = BeautifulSoup(html, "html.parser")
    assert [th.get_text() for th in soup.select("thead th")] == ["A", "B"]
    assert [td.get_text() for td in soup.select("tbody td")] == ["x|y", "1"]


def test_strip_bullet():
    assert strip_bullet("- Point") == "Point"
    assert strip_bullet("\u2022 Point") == "Point"
    assert strip_bullet("  * Point - with a dash") == "Point - with a dash"


def test_registry_reuses_an_item_and_refuses_a_changed_one():
    reg = Registry()
    reg.section = "Themes"
    first = reg.link("theme-x-segments", 2, "X", "q", ["d-0002", "d-0001"])
    assert first == "[2](#ev-theme-x-segments){.num}"
    assert reg.link("theme-x-segments", 2, "X", "q", ["d-0001", "d-0002"]) == first
    with pytest.raises(ValueError, match="two different values"):
        reg.link("theme-x-segments", 3, "X", "q", ["d-0001"])
    assert reg.rows() == [{"item_id": "theme-x-segments", "section": "Themes", "label": "X",
                           "value": "2", "query": "q", "segment_ids": "d-0001 d-0002",
                           "source": ""}]


def test_series_joins_words_as_prose():
    from qualtrace.report.markdown import series

    assert series([]) == ""
    assert series(["themes"]) == "themes"
    assert series(["speaker roles", "settings"]) == "speaker roles and settings"
    assert series(["a", "b", "c"], "or") == "a, b or c"
