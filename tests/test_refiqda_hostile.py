"""REFI-QDA files from outside (issue 13): a `.qdpx` or `.qdc` someone sends us is refused in
one line naming the file and the member, with exit 2; nothing crashes, hangs or blows up."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import qualtrace.exchange.qdpx_read as refiqda_read
from qualtrace.cli.main import main
from qualtrace.exchange.refiqda import qdpx_to_gold, read_qdpx, validate_xml
from qualtrace.exchange.qdpx_export import XsdValidationError

from test_refiqda import (FILES, RAW_A, corpus, corpus_config,  # noqa: F401 (a fixture)
                          corpus_documents)

ROOT = Path(__file__).resolve().parents[1]
GUID = "11111111-1111-1111-1111-111111111111"


def qdpx(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def refiqda(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qualtrace", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def assert_one_line_refusal(result, *names: str) -> str:
    """Exit 2, one line on stderr that names every one of `names`, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def gold_args(corpus, qdpx_path, out):  # noqa: F811
    return ["import-gold", str(qdpx_path), "--config", str(corpus_config(corpus)),
            "--segments", str(corpus["paths"]["segments"]),
            "--codebook", str(corpus["paths"]["codebook"]), "--output", str(out)]


# ------------------------------------------------------------------ fault 2: DOCTYPE, entities
PROJECT_BODY = ('<Project xmlns="urn:QDA-XML:project:1.0" name="x"><CodeBook><Codes>'
                f'<Code guid="{GUID}" name="a" isCodable="true">&e;</Code>'
                '</Codes></CodeBook></Project>')
DOCTYPES = {
    # libxml2 (lxml) crashed the interpreter on this one while validating against the schema
    "internal entity": '<!DOCTYPE Project [<!ENTITY e "hello">]>',
    "external entity": '<!DOCTYPE Project [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    "parameter entity": '<!DOCTYPE Project [<!ENTITY % p "x"> <!ENTITY e "y">]>',
    "after a comment": '<!-- made by a tool --><?pi x?>\n<!DOCTYPE Project [<!ENTITY e "h">]>',
    "external DTD": '<!DOCTYPE Project SYSTEM "http://example.org/p.dtd">',
}


def doctype_project(doctype: str, encoding: str = "utf-8") -> bytes:
    text = f'<?xml version="1.0" encoding="{encoding}"?>\n{doctype}\n{PROJECT_BODY}\n'
    return text.encode(encoding)


@pytest.mark.parametrize("doctype", DOCTYPES.values(), ids=list(DOCTYPES))
def test_validate_refuses_a_doctype_instead_of_crashing(tmp_path, doctype):
    archive = qdpx(tmp_path / "p.qdpx", {"project.qde": doctype_project(doctype)})
    line = assert_one_line_refusal(refiqda("validate", archive), f"{archive}: project.qde",
                                   "DOCTYPE")
    assert line.startswith("qualtrace: error: ")
    qdc = tmp_path / "c.qdc"
    qdc.write_bytes(doctype_project(doctype).replace(b"Project", b"CodeBook"))
    assert_one_line_refusal(refiqda("validate", qdc), str(qdc), "DOCTYPE")


def test_a_doctype_is_refused_in_any_encoding_and_when_reading(tmp_path, corpus):  # noqa: F811
    doc = doctype_project(DOCTYPES["internal entity"], "utf-16")
    with pytest.raises(XsdValidationError, match="DOCTYPE"):
        validate_xml(doc, "Project.xsd")
    archive = qdpx(tmp_path / "p.qdpx", {"project.qde": doc})
    with pytest.raises(refiqda_read.QdpxError, match=r"p.qdpx: project.qde: .*DOCTYPE"):
        read_qdpx(archive)
    assert_one_line_refusal(refiqda(*gold_args(corpus, archive, tmp_path / "g.jsonl")),
                            f"{archive}: project.qde", "DOCTYPE")
    assert not (tmp_path / "g.jsonl").exists()


PROLOG_PARTS = st.sampled_from([
    "", "\n", "<!-- c -->", "<?pi data?>", '<!DOCTYPE Project [<!ENTITY e "x">]>',
    "<!DOCTYPE Project>", '<!DOCTYPE Project [<!ENTITY e "&#60;">]>', "<!DOCTYPE", "<",
    "]>", "&e;", "\ufeff", "<!ENTITY e 'x'>"])
BODIES = st.sampled_from([PROJECT_BODY, PROJECT_BODY.replace("&e;", ""), "<Project/>", "",
                          "<a>&e;</a>", "<Project xmlns='urn:QDA-XML:project:1.0'>&e;"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prolog=st.lists(PROLOG_PARTS, max_size=4), body=BODIES,
       declaration=st.booleans())
def test_no_document_crashes_the_validator(prolog, body, declaration):
    """Whatever the prolog holds, validation answers (valid or XsdValidationError); an
    interpreter crash would take this test with it."""
    text = ('<?xml version="1.0"?>' if declaration else "") + "".join(prolog) + body
    try:
        validate_xml(text.encode("utf-8"), "Project.xsd")
    except XsdValidationError as err:
        assert "\n" not in str(err).strip()
    if "DOCTYPE" in text and "<!DOCTYPE Project" in "".join(prolog):
        with pytest.raises(XsdValidationError):
            validate_xml(text.encode("utf-8"), "Project.xsd")


# ------------------------------------------------------------------ fault 3: zip bombs
def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path, corpus):  # noqa: F811
    """A 1 MB archive whose member inflates to 1 GiB: refused from the directory, fast."""
    bomb = tmp_path / "bomb.qdpx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", '<Project xmlns="urn:QDA-XML:project:1.0"/>')
        with archive.open("sources/a.txt", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(1024):
                member.write(block)
    assert bomb.stat().st_size < 2 << 20
    for args in (gold_args(corpus, bomb, tmp_path / "g.jsonl"), ["validate", bomb]):
        line = assert_one_line_refusal(refiqda(*args), f"{bomb}: sources/a.txt")
        assert "limit" in line or "inflates" in line


def test_archive_limits_count_size_and_ratio(tmp_path, monkeypatch):
    many = qdpx(tmp_path / "many.qdpx", {f"sources/{i}.txt": "x" for i in range(6)})
    monkeypatch.setattr(refiqda_read, "MAX_MEMBERS", 5)
    with pytest.raises(refiqda_read.QdpxError, match=r"many.qdpx: has 6 members; .* 5"):
        read_qdpx(many)
    monkeypatch.setattr(refiqda_read, "MAX_MEMBERS", 100)
    text = "".join(f"{i} words of varied text\n" for i in range(60000)).encode()
    big = qdpx(tmp_path / "big.qdpx", {"project.qde": "<Project/>", "sources/b.txt": text})
    monkeypatch.setattr(refiqda_read, "MAX_MEMBER_BYTES", 1 << 20)
    with pytest.raises(refiqda_read.QdpxError, match=r"big.qdpx: sources/b.txt: inflates to "):
        read_qdpx(big)
    monkeypatch.setattr(refiqda_read, "MAX_MEMBER_BYTES", 1 << 30)
    monkeypatch.setattr(refiqda_read, "MAX_TOTAL_BYTES", 1 << 20)
    with pytest.raises(refiqda_read.QdpxError, match=r"big.qdpx: .*in all"):
        read_qdpx(big)


def test_a_member_larger_than_its_header_says_is_refused(tmp_path):
    """zipfile stops at the declared size; the CRC then tells the lie."""
    text = "<Project>" + "x" * 5000 + "</Project>"
    path = qdpx(tmp_path / "lie.qdpx", {"project.qde": text})
    data = bytearray(path.read_bytes())
    real = len(text).to_bytes(4, "little")
    assert data.count(real) == 2
    for at in [i for i in range(len(data)) if data[i:i + 4] == real]:
        data[at:at + 4] = (100).to_bytes(4, "little")  # uncompressed size in both headers
    path.write_bytes(bytes(data))
    with pytest.raises(refiqda_read.QdpxError, match=r"lie.qdpx: project.qde: "):
        read_qdpx(path)


# ------------------------------------------------------------------ fault 4: CRLF mapping
def test_offset_mapping_through_line_ends_is_linear():
    """Positions that fall between a CR and its LF used to cost a scan of the whole text each
    (5,000 selections: 26 s instead of 0.3 s). Counted in Python calls, not timed."""
    n = 400
    raw = "".join(f"line {i}\r\n" for i in range(n))
    tool = raw.replace("\r\n", "\n")
    omap = refiqda_read.offset_map(raw, tool)  # the tool's text has CRLF, the file LF
    between = [m + 1 for m in range(len(raw)) if raw.startswith("\r\n", m)]
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        mapped = [omap(pos) for pos in between]
    finally:
        sys.setprofile(None)
    assert calls < 20 * n, calls  # was ~n*n
    # between CR and LF: the position before the line end (the nearest, earlier on a tie)
    assert mapped == [tool.index("\n", tool.index(f"line {i}")) for i in range(n)]
    assert omap(0) == 0 and omap(len(raw)) == len(tool)


# ------------------------------------------------------------------ fault 11: past the end
def selection_project(text: str, selections: list[tuple[int | str | None, int | str | None]],
                      code_attrs: str = f'guid="{GUID}" name="Relationships"') -> bytes:
    sels = []
    for i, (start, end) in enumerate(selections):
        attrs = "".join(f' {k}="{v}"' for k, v in (("startPosition", start),
                                                   ("endPosition", end)) if v is not None)
        sels.append(f'<PlainTextSelection guid="2222222{i}-2222-2222-2222-222222222222" '
                    f'name="sel {i}"{attrs}><Coding guid="3333333{i}-3333-3333-3333-333333333333">'
                    f'<CodeRef targetGUID="{GUID}"/></Coding></PlainTextSelection>')
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" '
            f'name="x"><CodeBook><Codes><Code {code_attrs} isCodable="true"/></Codes></CodeBook>'
            f'<Sources><TextSource guid="44444444-4444-4444-4444-444444444444" '
            f'name="a_bom_crlf.txt" plainTextPath="internal://a.txt">{"".join(sels)}</TextSource></Sources></Project>'
            ).encode("utf-8")


def test_selections_past_the_end_are_skipped_by_name(tmp_path, corpus):  # noqa: F811
    key_point = RAW_A.index("Clients valued")
    n = len(RAW_A)
    archive = qdpx(tmp_path / "far.qdpx", {
        "project.qde": selection_project(RAW_A, [(key_point, key_point + 20), (key_point, n + 5000),
                                                 (n + 1, n + 9), (40, 30)]),
        "sources/a.txt": RAW_A.encode("utf-8")})
    out = tmp_path / "far.jsonl"
    summary = qdpx_to_gold(archive, corpus_documents(corpus), out,
                           codebook=corpus["paths"]["codebook"],
                           segments_csv=corpus["paths"]["segments"])
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 1 and lines[0]["anchor"].startswith("Clients valued")
    warnings = "\n".join(summary["skipped"])
    for i, (start, end) in ((1, (key_point, n + 5000)), (2, (n + 1, n + 9)), (3, (40, 30))):
        assert f"selection 'sel {i}'" in warnings and f"[{start}:{end}]" in warnings
    assert f"its text has {n} characters" in warnings
    assert summary["codings"] == 1


# ------------------------------------------------------------------ fault 12: one line each
def patch_member(path: Path, member: str, local_at: int, central_at: int, value: int,
                 bits: bool = False) -> Path:
    """Set a two-byte field of `member` in its local header and its directory entry."""
    data, name = bytearray(path.read_bytes()), member.encode()
    for signature, field_at, name_at in ((b"PK\x03\x04", local_at, 30),
                                         (b"PK\x01\x02", central_at, 46)):
        at = data.find(signature)
        while at >= 0:
            if data[at + name_at:at + name_at + len(name)] == name:
                old = int.from_bytes(data[at + field_at:at + field_at + 2], "little")
                new = old | value if bits else value
                data[at + field_at:at + field_at + 2] = new.to_bytes(2, "little")
            at = data.find(signature, at + 1)
    path.write_bytes(bytes(data))
    return path


def encrypted(path: Path) -> Path:
    """Marked as encrypted (bit 0 of the flags), as a password-protected export is."""
    qdpx(path, {"project.qde": selection_project(RAW_A, []), "sources/a.txt": RAW_A})
    return patch_member(path, "project.qde", 6, 8, 0x1, bits=True)


def unsupported_compression(path: Path, member: str) -> Path:
    """Marked as Deflate64 (method 9), which zipfile cannot inflate."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", selection_project(RAW_A, []))
        archive.writestr("sources/a.txt", RAW_A.encode("utf-8"))
    return patch_member(path, member, 8, 10, 9)


BROKEN = {
    "malformed XML": lambda p: qdpx(p, {"project.qde": "<Project><Sources></Project>"}),
    "Code without guid": lambda p: qdpx(p, {"project.qde": selection_project(
        RAW_A, [(0, 10)], code_attrs='name="Relationships"'), "sources/a.txt": RAW_A}),
    "selection without positions": lambda p: qdpx(p, {"project.qde": selection_project(
        RAW_A, [(0, None)]), "sources/a.txt": RAW_A}),
    "position not a number": lambda p: qdpx(p, {"project.qde": selection_project(
        RAW_A, [("ten", 20)]), "sources/a.txt": RAW_A}),
    "source not UTF-8": lambda p: qdpx(p, {"project.qde": selection_project(RAW_A, []),
                                           "sources/a.txt": b"caf\xe9"}),
    "no project.qde": lambda p: qdpx(p, {"other.xml": "<x/>"}),
    "not a ZIP": lambda p: (p.write_bytes(b"not a zip"), p)[1],
    "encrypted member": encrypted,
    "unsupported compression": lambda p: unsupported_compression(p, "project.qde"),
    "unsupported compression of a source": lambda p: unsupported_compression(p,
                                                                             "sources/a.txt"),
}
MEMBER = {"not a ZIP": "", "no project.qde": "project.qde",
          "source not UTF-8": "sources/a.txt",
          "unsupported compression of a source": "sources/a.txt"}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_project_is_refused_in_one_line(tmp_path, corpus, case, capsys):  # noqa: F811
    path = BROKEN[case](tmp_path / "broken.qdpx")
    out = tmp_path / "broken.jsonl"
    assert main(gold_args(corpus, path, out)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    member = MEMBER.get(case, "project.qde")
    assert err.startswith(f"qualtrace: error: {path}: {member}"), err
    assert not out.exists()


def test_qualtrace_import_gold_exits_2_without_a_traceback(tmp_path, corpus):  # noqa: F811
    path = BROKEN["Code without guid"](tmp_path / "broken.qdpx")
    args = gold_args(corpus, path, tmp_path / "g.jsonl")
    result = subprocess.run([sys.executable, "-m", "qualtrace", *args], capture_output=True,
                            text=True, timeout=300)
    line = assert_one_line_refusal(result, f"{path}: project.qde", "has no guid")
    assert "Relationships" in line


# ------------------------------------------------------------------ fault 13: the same corpus
def test_import_gold_reads_the_corpus_the_workflow_reads(tmp_path, corpus):  # noqa: F811
    """Files the build ignores (`.gitkeep`, a `.docx`) are not read; the corpus is what
    config corpus.patterns matches, through the workflow's own discovery."""
    work = tmp_path / "project"
    (work / "data" / "raw").mkdir(parents=True)
    shutil.copytree(ROOT / "config", work / "config")
    for name in FILES:
        shutil.copy(corpus["raw_dir"] / name, work / "data" / "raw" / name)
    (work / "data" / "raw" / ".gitkeep").write_bytes(b"")
    (work / "data" / "raw" / "notes.docx").write_bytes(b"PK\x03\x04\x00\xff binary")
    (work / "data" / "raw" / "draft.txt.bak").write_bytes(b"\xff\xfe")
    result = refiqda("import-gold", corpus["qdpx"], "--segments", corpus["paths"]["segments"],
                     "--codebook", corpus["paths"]["codebook"], "--output", "gold.jsonl",
                     cwd=work)
    assert result.returncode == 0, result.stderr
    assert "6 units from 13 codings" in result.stdout
    assert len((work / "gold.jsonl").read_text(encoding="utf-8").splitlines()) == 6


# ------------------------------------------------------------------ any project: 0 or 2
ATTRIBUTE_VALUES = st.one_of(st.none(), st.sampled_from([GUID, "", "{" + GUID.upper() + "}",
                                                         "0", "-1", "5", "40", "99999", "x",
                                                         "1.5", "a_bom_crlf.txt",
                                                         "internal://a.txt", "Relationships"]))
TAGS = ["Project", "CodeBook", "Codes", "Code", "Sources", "TextSource", "PlainTextSelection",
        "Coding", "CodeRef", "PlainTextContent", "Description", "Cases", "Case",
        "SelectionRef"]
ATTRIBUTES = ["guid", "name", "startPosition", "endPosition", "targetGUID", "plainTextPath"]


@st.composite
def elements(draw, depth=0):
    tag = draw(st.sampled_from(TAGS))
    attrs = ""
    for attr in draw(st.lists(st.sampled_from(ATTRIBUTES), unique=True, max_size=4)):
        value = draw(ATTRIBUTE_VALUES)
        if value is not None:
            attrs += f' {attr}="{value}"'
    children = draw(st.lists(elements(depth + 1), max_size=3)) if depth < 4 else []
    text = draw(st.sampled_from(["", "text", "&amp;", "&#x1b;"]))
    return f"<{tag}{attrs}>{text}{''.join(children)}</{tag}>"


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(body=st.lists(elements(), min_size=1, max_size=4), with_source=st.booleans(),
       truncate=st.integers(min_value=0, max_value=3))
def test_any_project_is_imported_or_refused_in_one_line(tmp_path, corpus, capsys, body,  # noqa: F811
                                                        with_source, truncate):
    qde = ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0">'
           + "".join(body) + "</Project>")
    if truncate:
        qde = qde[:len(qde) * truncate // 4]
    members = {"project.qde": qde}
    if with_source:
        members["sources/a.txt"] = RAW_A
    path = qdpx(tmp_path / "fuzz.qdpx", members)
    code = main(gold_args(corpus, path, tmp_path / "fuzz.jsonl"))
    err = capsys.readouterr().err
    assert code in (0, 2)
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and f"{path}: " in err, err


def test_a_code_tree_nested_deeper_than_the_stack_is_read(tmp_path):
    depth = 5000
    codes = "".join(f'<Code guid="{i:08x}-1111-1111-1111-111111111111" name="c{i}">'
                    for i in range(depth)) + "</Code>" * depth
    path = qdpx(tmp_path / "deep.qdpx", {"project.qde": '<Project xmlns="urn:QDA-XML:project:'
                                         f'1.0"><CodeBook><Codes>{codes}</Codes></CodeBook>'
                                         "</Project>"})
    project = read_qdpx(path)
    assert len(project.codes) == depth
    assert max(len(c.path) for c in project.codes.values()) == depth


def test_messages_under_a_non_utf8_locale(tmp_path, corpus):  # noqa: F811
    """The summary, warnings and errors name what they name (accents, curly quotes) under an
    ASCII locale too, escaped, instead of dying of UnicodeEncodeError after the work is done.
    (A guard: stderr escapes by default and file names come back as their bytes.)"""
    import os

    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    env.pop("PYTHONIOENCODING", None)
    n = len(RAW_A)
    far = qdpx(tmp_path / "café.qdpx", {
        "project.qde": selection_project(RAW_A, [(n + 1, n + 9)]).replace(
            b'name="sel 0"', 'name="sélection \u201c0\u201d"'.encode()),
        "sources/a.txt": RAW_A.encode("utf-8")})
    out = tmp_path / "gold-\u00e9t\u00e9.jsonl"
    args = [sys.executable, "-m", "qualtrace", *gold_args(corpus, far, out)]
    result = subprocess.run(args, capture_output=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    assert b"s\\xe9lection \\u201c0\\u201d" in result.stderr
    assert b"0 units from 0 codings; 1 warning(s)" in result.stdout
    broken = BROKEN["Code without guid"](tmp_path / "d\u00e9j\u00e0.qdpx")
    args = [sys.executable, "-m", "qualtrace", *gold_args(corpus, broken, tmp_path / "h.jsonl")]
    result = subprocess.run(args, capture_output=True, env=env, timeout=300)
    err = result.stderr.decode("ascii")
    assert result.returncode == 2 and len(err.strip().splitlines()) == 1, err
    assert "has no guid" in err and "Traceback" not in err


def test_validate_names_a_missing_project_and_finds_it_in_any_case(tmp_path, corpus):  # noqa: F811
    empty = qdpx(tmp_path / "empty.qdpx", {"sources/a.txt": "x"})
    assert_one_line_refusal(refiqda("validate", empty), f"{empty}: project.qde: not in the "
                                                        "archive")
    upper = tmp_path / "upper.qdpx"
    with zipfile.ZipFile(corpus["qdpx"]) as ours, zipfile.ZipFile(upper, "w") as archive:
        for name in ours.namelist():
            archive.writestr("Project.QDE" if name == "project.qde" else name, ours.read(name))
    result = refiqda("validate", upper)
    assert result.returncode == 0 and "valid against Project.xsd" in result.stdout, result.stderr
