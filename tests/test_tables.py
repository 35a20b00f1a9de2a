"""qualtrace.common.tables: every processed table is a typed DataFrame, written validated,
sorted and byte-stable, and read back without pandas guessing a cell."""
from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualtrace import layout
from qualtrace.common import tables
from qualtrace.common.tables import TableError, read_table, records, table_bytes, write_table


def segment(seg_id="d1:p1", doc="d1", start=0, **extra):
    row = {"segment_id": seg_id, "doc_id": doc, "kind": "paragraph", "section": "Intro",
           "start": start, "end": start + 5, "line": 1, "text": "Hello", "boilerplate": False,
           "speaker_group_raw": "", "speaker_group": "", "interview_id": "",
           "attribution_start": None, "speaker_group_known": None,
           "repeated_across_documents": False}
    row.update(extra)
    return row


def test_every_layout_table_has_a_column_wise_schema_with_known_dtypes():
    for name in [*layout.TABLES, layout.by_facet_name("anything")]:
        spec = tables.schema(name)
        assert spec["additionalProperties"] is False
        assert set(tables.dtypes(name).values()) <= set(tables.DTYPES)
        assert tables.columns(name) == list(spec["properties"])


def test_written_cells_and_read_dtypes(tmp_path):
    path = tmp_path / "segments.csv"
    write_table([segment(start=7, attribution_start=3, speaker_group_known=True)], path)
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(tables.columns("segments"))
    assert text.splitlines()[1].split(",")[4:9] == ["7", "12", "1", "Hello", "false"]
    assert "\r" not in text
    data = read_table(path)
    assert str(data["start"].dtype) == "Int64" and str(data["boilerplate"].dtype) == "boolean"
    row = records(data)[0]
    assert row["start"] == 7 and row["boilerplate"] is False
    assert row["speaker_group_known"] is True and row["attribution_start"] == 3
    assert row["interview_id"] == ""  # empty text stays text, not missing


def test_missing_cells_read_as_missing(tmp_path):
    path = tmp_path / "segments.csv"
    write_table([segment()], path)
    row = records(read_table(path))[0]
    assert row["attribution_start"] is None and row["speaker_group_known"] is None


def test_rows_are_sorted_by_the_schema_and_writing_is_byte_stable(tmp_path):
    rows = [segment("d2:p1", "d2", 0), segment("d1:p2", "d1", 40), segment("d1:p1", "d1", 3)]
    first = table_bytes(rows, "segments")
    ids = [r["segment_id"] for r in csv.DictReader(io.StringIO(first.decode()))]
    assert ids == ["d1:p1", "d1:p2", "d2:p1"]  # start 3 < 40 numerically, not as text
    path = tmp_path / "segments.csv"
    path.write_bytes(first)
    assert table_bytes(read_table(path), "segments") == first


def test_floats_have_four_decimals_and_no_negative_zero():
    assert tables._float_text(0.5) == "0.5000"
    assert tables._float_text(-0.00001) == "0.0000"
    assert tables._float_text(-0.25) == "-0.2500"


def test_a_bad_cell_names_file_row_and_column_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "segments.csv"
    write_table([segment()], path)
    before = path.read_bytes()
    with pytest.raises(TableError, match=r"segments\.csv: row 2, column kind"):
        write_table([segment(), segment("d1:p2", start=9, kind="Not A Kind")], path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]  # no half-written temporary left behind


def test_unknown_or_missing_columns_are_refused():
    with pytest.raises(TableError, match="no column"):
        table_bytes([{**segment(), "extra": 1}], "segments")


@pytest.mark.parametrize("cell, message", [("yes", "true/false"), ("2.0", "a number")])
def test_reading_a_cell_that_does_not_convert_names_it(tmp_path, cell, message):
    path = tmp_path / "segments.csv"
    write_table([segment()], path)
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    column = 8 if message == "true/false" else 4
    cells[column] = cell
    path.write_text("\n".join([lines[0], ",".join(cells)]) + "\n", encoding="utf-8")
    with pytest.raises(TableError, match=rf"row 1, column \w+: '{cell}' is not {message}"):
        read_table(path)


def test_a_file_with_other_columns_is_refused_in_one_line(tmp_path):
    path = tmp_path / "codings.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(TableError) as err:
        read_table(path)
    assert "\n" not in str(err.value) and "codings.csv: columns a,b" in str(err.value)


def test_an_empty_file_is_an_empty_table(tmp_path):
    path = tmp_path / "codings.csv"
    path.write_text("", encoding="utf-8")
    data = read_table(path)
    assert list(data.columns) == tables.columns("codings") and len(data) == 0


def test_undecodable_bytes_are_one_line(tmp_path):
    path = tmp_path / "codings.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TableError, match="codings.csv: not a readable CSV table"):
        read_table(path)


# Source text is data: commas, quotes, CR/LF, leading formula characters and controls must
# come back exactly as written (the coding's evidence spans depend on it).
text_cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]),
                     max_size=40)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(text_cells, min_size=1, max_size=5))
def test_text_cells_round_trip_exactly(tmp_path_factory, texts):
    path = tmp_path_factory.mktemp("t") / "segments.csv"
    rows = [segment(f"d1:p{i}", start=i * 100, text=t, section=t) for i, t in enumerate(texts)]
    write_table(rows, path)
    back = records(read_table(path))
    assert [r["text"] for r in back] == texts and [r["section"] for r in back] == texts
    assert all(isinstance(r["start"], int) for r in back)
    assert pd.Series([r["start"] for r in back]).is_monotonic_increasing


def _column_properties():
    for name in [*layout.TABLES, layout.by_facet_name("x")]:
        for column, prop in tables.schema(name)["properties"].items():
            yield f"{name}.{column}", {k: v for k, v in prop.items() if k != "dtype"}


@settings(max_examples=40, deadline=None)
@given(cells=st.lists(st.one_of(text_cells, st.sampled_from(
    ["", "0", "7", "-1", "01", "true", "false", "auto", "a b", "x_1", "d1:p1", "0.5000"])),
    min_size=1, max_size=12))
def test_column_checks_agree_with_jsonschema(cells):
    """The column-at-a-time check finds exactly the cells jsonschema rejects, and the first."""
    from jsonschema.validators import validator_for

    series = pd.Series(cells, dtype="string")
    for where, prop in _column_properties():
        checker = validator_for(prop)(prop)
        failing = [i for i, cell in enumerate(cells) if not checker.is_valid(cell)]
        found = tables._first_bad(series, prop, validator_for(prop))
        assert found == (failing[0] if failing else None), where
