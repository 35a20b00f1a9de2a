"""Styles carried inside the .qmd, so Quarto and pandoc see the same ones.

They are written per format as `include-in-header: text:` (Quarto reads that; it drops raw
blocks in a top-level `header-includes`), and the pandoc path passes the same text with `-H`
(render.pandoc_options). Typst headings are shifted up one level in both engines (Quarto does
that for a document without level-1 headings), so a section (`##`) is a Typst level-1 heading.

HTML: readable on a laptop and a phone (a measure of ~60em, tables that scroll sideways on a
narrow screen, figures that scale), an evidence block that lights up when a number is clicked.
Typst: dates only from SOURCE_DATE_EPOCH, long tables and figures may break across pages.
No fonts, scripts or stylesheets are fetched from anywhere.
"""
from __future__ import annotations

import datetime as _dt

CSS = """
body { max-width: 60em; line-height: 1.5; }
a { color: #1f4e79; }
a:visited { color: #5a3d7a; }
h1.title { font-size: 1.9em; }
table { display: block; max-width: 100%; overflow-x: auto; border-collapse: collapse;
  font-size: 0.92em; margin: 1em 0 1.5em; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.4em; }
th, td { padding: 0.3em 0.6em; border-bottom: 1px solid #d7d7d7; vertical-align: top; }
thead th { border-bottom: 2px solid #555; }
td { overflow-wrap: anywhere; }
td:first-child { min-width: 10em; }
a.num { font-variant-numeric: tabular-nums; text-decoration-style: dotted; }
figure { margin: 1.5em 0; }
figure img, img { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #444; }
blockquote { margin: 1em 0; padding: 0.2em 0 0.2em 1em; border-left: 3px solid #b9c7d6;
  color: #222; }
.evidence { border-left: 3px solid #c9d6e3; margin: 1.2em 0; padding: 0.1em 0 0.1em 0.9em;
  font-size: 0.92em; scroll-margin-top: 0.5em; }
.evidence:target { background: #fff6d5; border-left-color: #d4a000; }
.evidence ol { padding-left: 1.6em; }
.passage code, td code { font-size: 0.85em; }
mark { background: #ffe58a; padding: 0 0.1em; }
@media (max-width: 640px) {
  body { padding: 12px; font-size: 16px; }
  h1.title { font-size: 1.5em; }
  th, td { padding: 0.25em 0.4em; }
  td:first-child { min-width: 8em; }
}
@media print { .evidence:target { background: none; } }
""".strip()


def html_header() -> str:
    return f"<style>\n{CSS}\n</style>"


def typst_header(date: _dt.date | None) -> str:
    """Typst rules for the PDF, the same in both engines.

    Tables: smaller text, ragged right (a justified narrow cell is all gaps), no hyphenation
    (headers stay whole words; a path breaks only at its slashes). Inline code (segment ids,
    item ids) may break after `_` and `-`, so an id wraps inside its cell instead of running
    over the next column. A table's caption stays on the page of its table.
    """
    document_date = (f"datetime(year: {date.year}, month: {date.month}, day: {date.day})"
                     if date else "none")
    return "\n".join([
        f"#set document(date: {document_date})",
        "#show figure: set block(breakable: true)",
        "#show figure.caption: it => block(sticky: true, it)",
        "#show table: set text(size: 8.5pt, hyphenate: false)",
        "#show table: set par(justify: false)",
        "#show heading: set text(hyphenate: false)",
        "#show raw: set text(size: 8pt)",
        "#show raw.where(block: false): it => { show regex(\"[_-]\"): m => m + sym.zws; it }",
        "#show link: set text(fill: rgb(\"#1f4e79\"))",
    ])


def source_date(environ) -> _dt.date | None:
    """The build date from SOURCE_DATE_EPOCH, or None: the report never reads the clock.

    An epoch of 0 means "no date" (the workflow's value when there is no commit to date from).
    """
    epoch = environ.get("SOURCE_DATE_EPOCH", "")
    if not epoch.isdigit() or int(epoch) == 0:
        return None
    return _dt.datetime.fromtimestamp(int(epoch), tz=_dt.timezone.utc).date()
