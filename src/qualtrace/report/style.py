"""Styles carried inside each .qmd, so Quarto and pandoc see the same ones.

The styles themselves are designer-editable files in `templates/`: `style.css` (HTML: readable
on a laptop and a phone, tables that scroll sideways on a narrow screen, an evidence entry that
lights up when a number is clicked) and `style.typ.j2` (Typst rules for the PDF). They are
written per format as `include-in-header: text:` (Quarto reads that; it drops raw blocks in a
top-level `header-includes`), and the pandoc path passes the same text with `-V header-includes`
(render.pandoc_options). Typst headings are shifted up one level in both engines (Quarto does
that for a document without level-1 headings), so a section (`##`) is a Typst level-1 heading.
"""
from __future__ import annotations

import datetime as _dt

from .templates import render_template, template_text

EVIDENCE_HTML = "evidence.html"
SUMMARY_HTML = "summary.html"
DOCUMENTS = ("summary", "evidence")  # the report's two documents, linked to each other


def html_header() -> str:
    return f"<style>\n{template_text('style.css').strip()}\n</style>"


def typst_header(date: _dt.date | None) -> str:
    document_date = (f"datetime(year: {date.year}, month: {date.month}, day: {date.day})"
                     if date else "none")
    return render_template("style.typ.j2", typst_date=document_date,
                           documents=DOCUMENTS).strip()


def source_date(environ) -> _dt.date | None:
    """The build date from SOURCE_DATE_EPOCH, or None: the report never reads the clock.

    An epoch of 0 means "no date" (the workflow's value when there is no commit to date from).
    """
    epoch = environ.get("SOURCE_DATE_EPOCH", "")
    if not epoch.isdigit() or int(epoch) == 0:
        return None
    return _dt.datetime.fromtimestamp(int(epoch), tz=_dt.timezone.utc).date()
