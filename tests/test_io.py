import pytest

from qualtrace.common.io import InputError, decode_raw, read_csv, write_csv


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
    assert read_csv(path) == [{"a": 'x, "y"\r\nz', "b": "true"}, {"a": "", "b": ""}]
    assert not list(tmp_path.glob(".*tmp")), "no temporary file left behind"


def test_read_csv_gives_what_dictreader_gives(tmp_path):
    import csv

    text = ('a,b,c\r\n1,2,3\r\n\r\n"x\r\ny",,\r\nshort\r\n4,5,6,7,8\r\n,,\r\n"q""uote",b,c\r\n')
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode("utf-8"))
    with open(path, encoding="utf-8", newline="") as handle:
        expected = list(csv.DictReader(handle))
    assert read_csv(path) == expected
    assert len(expected) == 6 and expected[2] == {"a": "short", "b": None, "c": None}
    assert expected[3][None] == ["7", "8"]
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert read_csv(empty) == []
