"""`qualtrace trace` where it meets a terminal (issue 13 faults 7 and 15): source text is shown
as data, never terminal control; any locale, a closed pipe, a deleted raw file and an ambiguous
query give an answer, not a traceback. A small hand-made run directory, no workflow run."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qualtrace.common.tables import write_table

# An ESC title sequence (OSC 0 ... BEL), clear screen (CSI 2J), a C1 CSI, a bidi override, a
# curly quote and an ellipsis that an ASCII terminal cannot encode.
HOSTILE = ("Careful \x1b]0;owned\x07 reader \x1b[2J cleared \x9b31m red \u202eesrever\u202c "
           "and a \u201ccurly\u201d quote\u2026 with \U0001F600.")
RAW = f"Title\n\n{HOSTILE}\n"
CONTROLS = ["\x1b", "\x07", "\x9b", "\u202e", "\u202c"]


@pytest.fixture()
def run_dir(tmp_path) -> Path:
    raw = tmp_path / "data" / "raw" / "doc.txt"
    raw.parent.mkdir(parents=True)
    raw.write_bytes(RAW.encode("utf-8"))
    processed = tmp_path / "data" / "processed"
    write_table([{"doc_id": "doc", "path": "data/raw/doc.txt",
                  "sha256": hashlib.sha256(RAW.encode("utf-8")).hexdigest(),
                  "n_chars": len(RAW), "source_name": "doc.txt"}], processed / "documents.csv")
    start = RAW.index("Careful")
    flags = {"boilerplate": False, "repeated_across_documents": False}
    write_table([
        {"segment_id": "doc-0001", "doc_id": "doc", "kind": "title", "start": 0, "end": 5,
         "line": 1, "text": "Title", **flags},
        {"segment_id": "doc-0002", "doc_id": "doc", "kind": "paragraph", "start": start,
         "end": start + len(HOSTILE), "line": 3, "text": HOSTILE, **flags}],
        processed / "segments.csv")
    return tmp_path


def trace(run_dir, *args, env=None, **kwargs):
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.run([sys.executable, "-m", "qualtrace", "trace", *args, "--directory",
                           str(run_dir)], env=env, timeout=120, **kwargs)


def test_trace_shows_control_characters_escaped(run_dir):
    result = trace(run_dir, "doc-0002")
    out = result.stdout.decode("utf-8")
    assert result.returncode == 0, result.stderr
    assert "verified" in out and "NOT VERIFIED" not in out
    for char in CONTROLS:
        assert char not in out, repr(char)
    assert "\\x1b]0;owned\\x07 reader \\x1b[2J cleared \\x9b31m red \\u202eesrever" in out
    assert "\u201ccurly\u201d quote\u2026 with \U0001F600." in out  # printable text stays
    # --json is data for programs: the exact text, escaped by JSON itself
    result = trace(run_dir, "doc-0002", "--json")
    assert json.loads(result.stdout)["passages"][0]["text"] == HOSTILE
    assert b"\x1b" not in result.stdout


def test_trace_under_a_non_utf8_locale(run_dir):
    """C locale without UTF-8 mode: stdout is ASCII. Exit 0 (verified), not 1 by an
    UnicodeEncodeError, and --json stays valid JSON with the exact text."""
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    env.pop("PYTHONIOENCODING", None)
    result = trace(run_dir, "doc-0002", env=env)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode("ascii")
    assert "verified" in out and "\\u201ccurly\\u201d" in out and "Traceback" not in out
    result = trace(run_dir, "doc-0002", "--json", env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(result.stdout.decode("ascii"))["passages"][0]["text"] == HOSTILE


def test_trace_into_a_closed_pipe(run_dir):
    """`qualtrace trace ... | head`: the reader went away; no BrokenPipeError traceback, and
    the exit status still says whether the passages verified."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = trace(run_dir, "doc-0002", stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert result.returncode == 0 and result.stderr == b"", result.stderr


def test_trace_with_the_raw_file_deleted(run_dir):
    (run_dir / "data" / "raw" / "doc.txt").unlink()
    result = trace(run_dir, "doc-0002")
    out = result.stdout.decode("utf-8")
    assert result.returncode == 1, result.stderr
    assert "data/raw/doc.txt is missing" in out
    assert "sha256" not in out and "no longer the recorded text" not in out
    assert "doc.txt:1:1" not in out  # no line:column made up from an empty text
    passage = json.loads(trace(run_dir, "doc-0002", "--json").stdout)["passages"][0]
    assert passage["line"] is None and passage["column"] is None


@pytest.mark.parametrize("words", [["theme=a", "theme=b"],
                                   ["theme=a", "stakeholder=x", "stakeholder=y"]])
def test_trace_refuses_a_key_given_twice(run_dir, words):
    result = trace(run_dir, *words)
    err = result.stderr.decode()
    assert result.returncode == 2 and len(err.strip().splitlines()) == 1, err
    key = words[-1].split("=")[0]
    assert f"{key} is given twice" in err
