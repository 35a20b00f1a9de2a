"""Which raw files may be read (issue 13, faults 1, 10, 14): never through a symbolic link or
outside the project, never a name Snakemake reads as a wildcard, and the same text in two
Unicode normal forms is one document."""
from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest

from qualtrace.checks.load import load_tables
from qualtrace.corpus.discovery import discover, refuse_duplicate_files, same_text_key
from qualtrace.corpus.gather import refuse_duplicates
from qualtrace.corpus.ingest import IngestRules, ingest_file
from qualtrace.common.io import InputError, raw_path_problem, read_raw, read_raw_bytes
from qualtrace.common.tables import write_table
from qualtrace.audit.trace import _read

SECRET = "root:x:0:0:the secret outside the project\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project with one real raw file, a secret outside it, and the project as cwd."""
    work = tmp_path / "project"
    (work / "data" / "raw").mkdir(parents=True)
    (work / "data" / "raw" / "a.txt").write_text("Title\n\nA finding.\n", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(SECRET, encoding="utf-8")
    monkeypatch.chdir(work)
    return work


def test_a_symlinked_raw_file_is_refused_by_name(project):
    os.symlink(project.parent / "outside" / "passwd", "data/raw/zz.txt")
    with pytest.raises(InputError, match=r"^data/raw/zz\.txt: is a symbolic link \(to "):
        discover(["data/raw/*.txt"])


def test_a_link_inside_the_project_is_refused_too(project):
    os.symlink("a.txt", "data/raw/b.txt")  # a second name for one document, through a link
    with pytest.raises(InputError, match=r"^data/raw/b\.txt: is a symbolic link"):
        discover(["data/raw/*.txt"])


def test_a_dangling_link_is_refused_not_skipped(project):
    os.symlink("/nonexistent/file.txt", "data/raw/gone.txt")
    with pytest.raises(InputError, match=r"^data/raw/gone\.txt: is a symbolic link"):
        discover(["data/raw/*.txt"])


def test_a_linked_folder_is_refused(project):
    os.symlink(project.parent / "outside", "data/raw/more")
    with pytest.raises(InputError, match=r"^data/raw/more/passwd: lies under a symbolic link, "
                                         r"data/raw/more"):
        discover(["data/raw/*.txt", "data/raw/*/*"])


@pytest.mark.parametrize("pattern", ["../outside/*", "data/raw/../../../outside/*", "{outside}/*"])
def test_a_pattern_reaching_outside_the_project_is_refused(project, pattern):
    pattern = pattern.replace("{outside}", str(project.parent / "outside"))
    with pytest.raises(InputError, match=r"passwd: (its folder resolves to .*, )?(is )?outside "
                                         r"the project"):
        discover([pattern], root=str(project))  # as the workflow calls it
    if not pattern.startswith("/"):  # climbing out of the working directory: refused anyway
        with pytest.raises(InputError, match="outside the project"):
            discover([pattern])


def test_every_reader_goes_through_the_guard(project):
    os.symlink(project.parent / "outside" / "passwd", "data/raw/zz.txt")
    for read in (read_raw, read_raw_bytes):
        with pytest.raises(InputError, match=r"^data/raw/zz\.txt: is a symbolic link"):
            read("data/raw/zz.txt")
    with pytest.raises(InputError, match="symbolic link"):  # ingestion
        ingest_file("data/raw/zz.txt", "zz", IngestRules.from_config({}))
    # trace: not verified, saying why, and the target's text is not shown
    why, hash_ok, text = _read("data/raw/zz.txt", "0" * 64, project)
    assert why.startswith("data/raw/zz.txt: is a symbolic link") and (hash_ok, text) == (False, "")
    # checks: unread, so span_integrity reports the file instead of checking the target
    write_table([{"doc_id": "zz", "path": "data/raw/zz.txt", "sha256": "0" * 64,
                  "n_chars": 1, "source_name": "zz.txt"}], "documents.csv")
    for name in ("segments", "codings", "facets"):
        write_table([], f"{name}.csv")
    tables = load_tables("documents.csv", "segments.csv", "codings.csv", "facets.csv", [])
    assert tables.raw_bytes == {} and tables.raw_texts == {}


def test_a_fifo_is_refused_not_waited_on(project):
    os.mkfifo("data/raw/pipe.txt")
    assert raw_path_problem("data/raw/pipe.txt") == "is not a regular file"
    with pytest.raises(InputError, match="not a regular file"):
        read_raw_bytes("data/raw/pipe.txt")


def test_a_regular_file_reads(project):
    assert read_raw("data/raw/a.txt").startswith("Title")
    assert discover(["data/raw/*.txt"]) == {"a": "data/raw/a.txt"}


@pytest.mark.parametrize("name", ["notes {draft}.txt", "x{a,b}.md", "{ y }.txt"])
def test_a_name_snakemake_reads_as_a_wildcard_is_refused_by_name(project, name):
    Path("data/raw", name).write_text("Text.\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"^data/raw/{__import__('re').escape(name)}: the "
                                         r"name contains .*wildcard; rename the file"):
        discover(["data/raw/*.txt", "data/raw/*.md"])


@pytest.mark.parametrize("name", ["notes {}.txt", "a}b{.txt", "{a b}.txt"])
def test_other_braces_are_accepted(project, name):
    Path("data/raw", name).write_text("Other text.\n", encoding="utf-8")
    assert f"data/raw/{name}" in discover(["data/raw/*.txt"]).values()


CAFE = "Caf\u00e9 culture: re\u0301sume\u0301 of the Ko\u0308ln \u212bngstr\u00f6m findings.\n"


def test_nfc_and_nfd_copies_are_one_document(project):
    nfc, nfd = (unicodedata.normalize(form, CAFE) for form in ("NFC", "NFD"))
    assert nfc.encode() != nfd.encode()
    Path("data/raw/a.txt").write_text(nfc, encoding="utf-8")
    Path("data/raw/b.txt").write_text(nfd.replace("\n", "\r\n"), encoding="utf-8")
    docs = discover(["data/raw/*.txt"])
    with pytest.raises(InputError, match=r"^data/raw/b\.txt: has the same text as "
                                         r"data/raw/a\.txt"):
        refuse_duplicate_files(docs)
    # ...and ingestion's content key agrees, so the gather refuses them too
    rules = IngestRules.from_config({})
    parsed = [ingest_file(path, doc_id, rules)["document"] for doc_id, path in docs.items()]
    with pytest.raises(InputError, match="has the same text as"):
        refuse_duplicates(parsed)


def test_different_texts_stay_different():
    assert same_text_key("re\u0301sume\u0301".encode()) == same_text_key(
        "r\u00e9sum\u00e9".encode())
    assert same_text_key("resume".encode()) != same_text_key("r\u00e9sum\u00e9".encode())
    assert same_text_key(b"\xef\xbb\xbfa  b\r\n") == same_text_key(b"a b")
    assert same_text_key(b"caf\xe9") != same_text_key(b"cafe")  # not UTF-8: kept apart
