import pytest

from qualtrace.common.io import InputError, decode_raw, write_csv
from workflow_helpers import read_rows


def test_windows_1252_names_file_and_byte_offset():
    data = "Caf\u00e9 said \u201cno\u201d".encode("cp1252")
    with pytest.raises(InputError) as err:
        decode_raw(data, "data/raw/ch9.txt")
    message = str(err.value)
    assert message.startswith("data/raw/ch9.txt:")
    assert "byte offset 3" in message and "UTF-8" in message


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"  \n\t\r\n ", "only whitespace"),
    (b"\xef\xbb\xbf \n", "only whitespace"),
    (b"abc\x00def", "NUL byte at byte offset 3"),
])
def test_refused_inputs_name_the_file(data, words):
    with pytest.raises(InputError, match=words) as err:
        decode_raw(data, "x/odd name.txt")
    assert str(err.value).startswith("x/odd name.txt:")


def test_bom_is_character_zero():
    text = decode_raw(b"\xef\xbb\xbfTitle\r\nBody.", "a.txt")
    assert text[0] == "\ufeff" and text[1:6] == "Title"


def test_csv_round_trip_keeps_newlines_and_quotes(tmp_path):
    rows = [{"a": 'x, "y"\r\nz', "b": True}, {"a": "", "b": None}]
    path = tmp_path / "t.csv"
    write_csv(path, ["a", "b"], rows)
    assert read_rows(path) == [{"a": 'x, "y"\r\nz', "b": "true"}, {"a": "", "b": ""}]
    assert not list(tmp_path.glob(".*tmp")), "no temporary file left behind"


def test_csv_text_quotes_a_lone_carriage_return(tmp_path):
    from qualtrace.common.io import csv_text

    text = csv_text(["a", "b"], [{"a": "one\rtwo", "b": "x"}])
    assert text == 'a,b\n"one\rtwo",x\n'  # bare, every reader would split the row there
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8", newline="")
    assert read_rows(path) == [{"a": "one\rtwo", "b": "x"}]
