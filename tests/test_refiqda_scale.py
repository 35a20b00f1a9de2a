"""REFI-QDA export at scale (issue 8): the streaming writer gives the bytes the DOM writer gave;
libxml2's schema validation (lxml, streamed) accepts what we write, refuses invalid project and
codebook files naming the schema, the line and the reason, has no element limit and fetches
nothing; an invalid export fails loudly and leaves nothing behind."""
from __future__ import annotations

import io
import itertools
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from qualtrace.coding.codebook import load_codebook
from qualtrace.exchange.codebook_formats import codebook_qdc, guid
from qualtrace.cli.main import main
from qualtrace.exchange.refiqda import export_qdpx
from qualtrace.exchange.qdpx_export import (ProjectXml, XsdValidationError, _guid, _write_zip,
                                      build_project, validate_xml, write_project, zip_bytes)

from test_codebook_exchange import schema_dirs, small_codebook
from test_refiqda import FILES, make_corpus


@pytest.fixture()
def data(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    made = make_corpus(tmp_path)
    made["cb"] = load_codebook(made["paths"]["codebook"])
    made["raws"] = {d["doc_id"]: FILES[d["source_name"]] for d in made["documents"]}
    return made


def project_of(data, **kwargs) -> ProjectXml:
    return ProjectXml(data["cb"], data["documents"], data["segments"], data["codings"],
                      data["facets"], data["raws"], **kwargs)


def test_fast_guid_is_uuid5():
    keys = ["", "selection:a-0001:theme", "coding:\u00e9\U0001F600", *map(str, range(500))]
    assert [_guid(k) for k in keys] == [guid(k) for k in keys]


def test_streamed_archive_is_the_in_memory_one(data, tmp_path):
    """write_project (chunks, a compressing thread, validation of what was written) gives byte
    for byte what build_project + zip_bytes give, with and without a date."""
    for epoch in (None, 1700000000):
        members = build_project(data["cb"], data["documents"], data["segments"],
                                data["codings"], data["facets"], data["raws"], epoch=epoch)
        out = tmp_path / f"streamed-{epoch}.qdpx"
        write_project(out, project_of(data, epoch=epoch))
        assert out.read_bytes() == zip_bytes(members, epoch)
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_chunking_does_not_change_the_zip():
    """Deflate output does not depend on how the input is cut into chunks."""
    rnd = random.Random(7)
    xml = "".join(f"<a n=\"{rnd.random()}\">{'x' * rnd.randrange(300)}</a>\n"
                  for _ in range(2000)).encode()
    expected = zip_bytes({"project.qde": xml, "sources/a.txt": b"abc"})
    for size in (97, 4096, 65536, 1 << 20):
        buffer = io.BytesIO()
        chunks = (xml[i:i + size] for i in range(0, len(xml), size))
        _write_zip(buffer, [("project.qde", chunks), ("sources/a.txt", b"abc")],
                   (1980, 1, 1, 0, 0, 0))
        assert buffer.getvalue() == expected


# ------------------------------------------------------------------------------ the validator
def project_qde(data) -> str:
    return build_project(data["cb"], data["documents"], data["segments"], data["codings"],
                         data["facets"], data["raws"], epoch=1700000000)["project.qde"].decode()


def line_of(text: str, needle: str, after: str = "") -> int:
    """The line (1-based) of the first `needle` after the first `after`."""
    return text.count("\n", 0, text.index(needle, text.index(after) if after else 0)) + 1


def project_variants(xml: str) -> dict:
    """label -> (invalid document, pattern its message must match, line of the problem)."""
    sel = re.search(r"<PlainTextSelection [^>]*>", xml).group(0)
    no_guid = re.sub(r' guid="[^"]*"', "", sel)
    bad_guid = re.sub(r' guid="[^"]*"', ' guid="not-a-guid"', sel)
    swapped = re.sub(r"(<Description>[^<]*</Description>)(\s*)(<Coding .*?</Coding>)",
                     r"\3\2\1", xml, count=1, flags=re.S)
    no_ref = re.sub(r"(<Coding [^>]*>)\s*<CodeRef [^>]*/>", r"\1", xml, count=1)
    position = re.sub(r'startPosition="(\d+)"', r'startPosition="\1.5"', xml, count=1)
    colour = re.sub(r'color="#[0-9A-F]+"', 'color="#12"', xml, count=1)
    empty_sets = xml.replace("</Sources>", "</Sources>\n  <Sets />", 1)
    truncated = xml[:xml.index("</Sources>")]
    return {
        "unknown element": (xml.replace("</Users>", "<Extra />\n  </Users>", 1),
                            r"'\{urn:QDA-XML:project:1.0\}Extra': This element is not expected",
                            line_of(xml, "</Users>")),
        "missing required attribute": (xml.replace(sel, no_guid, 1),
                                       r"PlainTextSelection': The attribute 'guid' is required",
                                       line_of(xml, sel)),
        "bad GUID": (xml.replace(sel, bad_guid, 1),
                     r"attribute 'guid': \[facet 'pattern'\] The value 'not-a-guid'",
                     line_of(xml, sel)),
        "wrong order": (swapped, r"'\{urn:QDA-XML:project:1.0\}Description': This element is "
                                 r"not expected. Expected is one of .*Coding",
                        line_of(swapped, "<Description>", after="</Coding>")),
        "missing child": (no_ref, r"Coding': Missing child element\(s\). Expected is .*CodeRef",
                          line_of(no_ref, "</Coding>")),
        "bad integer": (position, r"startPosition': '\d+\.5' is not a valid value of the atomic "
                                  r"type 'xs:integer'", line_of(position, ".5\"")),
        "bad colour": (colour, r"color': \[facet 'pattern'\] The value '#12'",
                       line_of(colour, 'color="#12"')),
        "empty container": (empty_sets, r"Sets': Missing child element",
                            line_of(empty_sets, "<Sets />")),
        "unknown attribute": (xml.replace("<User ", "<User x=\"1\" ", 1),
                              r"attribute 'x': The attribute 'x' is not allowed",
                              line_of(xml, "<User ")),
        "wrong namespace": (xml.replace("urn:QDA-XML:project:1.0", "urn:other", 1),
                            r"'\{urn:other\}Project': No matching global declaration", 2),
        "not well-formed": (xml.replace("</Users>", "</User>", 1),
                            r"not well-formed XML: Opening and ending tag mismatch: Users",
                            line_of(xml, "</Users>")),
        "truncated": (truncated, r"not well-formed XML: Premature end of data",
                      truncated.count("\n") + 1),
    }


@pytest.mark.parametrize("schema_dir", schema_dirs(), ids=lambda p: p.parent.parent.name)
def test_what_we_write_is_valid(data, schema_dir):
    validate_xml(project_qde(data).encode("utf-8"), "Project.xsd", schema_dir)
    validate_xml(codebook_qdc(small_codebook()), "Codebook.xsd", schema_dir)
    validate_xml(codebook_qdc(data["cb"]), "Codebook.xsd", schema_dir)


@pytest.mark.parametrize("schema_dir", schema_dirs(), ids=lambda p: p.parent.parent.name)
def test_invalid_projects_are_refused_naming_the_problem(data, schema_dir):
    xml = project_qde(data)
    for label, (doc, pattern, line) in project_variants(xml).items():
        assert doc != xml, label
        raw = doc.encode("utf-8")
        for source in (raw, io.BufferedReader(io.BytesIO(raw))):  # bytes, a file object
            with pytest.raises(XsdValidationError) as err:
                validate_xml(source, "Project.xsd", schema_dir)
            message = str(err.value)
            assert message.startswith(f"is not valid against Project.xsd at line {line}: "), \
                (label, message)
            assert re.search(pattern, message), (label, message)


@pytest.mark.parametrize("schema_dir", schema_dirs(), ids=lambda p: p.parent.parent.name)
def test_invalid_codebooks_are_refused_naming_the_problem(schema_dir):
    qdc = codebook_qdc(small_codebook()).decode("utf-8")
    code = re.search(r"<Code [^>]*>", qdc).group(0)
    variants = {
        "bad boolean": (qdc.replace('isCodable="true"', 'isCodable="maybe"', 1),
                        r"isCodable': 'maybe' is not a valid value of the atomic type "
                        r"'xs:boolean'", line_of(qdc, code)),
        "missing required attribute": (qdc.replace(code, re.sub(r' name="[^"]*"', "", code), 1),
                                       r"Code': The attribute 'name' is required but missing",
                                       line_of(qdc, code)),
        "bad GUID": (qdc.replace(code, re.sub(r'guid="[^"]*"', 'guid="{123}"', code), 1),
                     r"\[facet 'pattern'\] The value '\{123\}'", line_of(qdc, code)),
        "unknown element": (qdc.replace("<Codes>", "<Codes>\n    <Memo />", 1),
                            r"Memo': This element is not expected", line_of(qdc, "<Codes>") + 1),
        "wrong order": (qdc.replace("<Codes>", "<Sets />\n  <Codes>", 1),
                        r"Sets': This element is not expected. Expected is .*Codes",
                        line_of(qdc, "<Codes>")),
        "no codes": (re.sub(r"<Codes>.*</Codes>", "<Codes />", qdc, flags=re.S),
                     r"Codes': Missing child element", line_of(qdc, "<Codes>")),
    }
    for label, (doc, pattern, line) in variants.items():
        assert doc != qdc, label
        with pytest.raises(XsdValidationError) as err:
            validate_xml(doc.encode("utf-8"), "Codebook.xsd", schema_dir)
        message = str(err.value)
        assert message.startswith(f"is not valid against Codebook.xsd at line {line}: "), \
            (label, message)
        assert re.search(pattern, message), (label, message)


def test_nothing_is_fetched(data, tmp_path):
    """No DTD, no external entity: a document that declares a DOCTYPE is refused, unread
    (issue 13: libxml2 crashed the interpreter on internal entities while validating)."""
    xml = project_qde(data)
    secret = tmp_path / "entity.txt"
    secret.write_text("fetched", encoding="utf-8")
    doctype = (f"<!DOCTYPE Project [<!ENTITY e SYSTEM \"{secret.as_uri()}\">\n"
               "<!ENTITY n SYSTEM \"http://127.0.0.1:9/e\">]>\n")
    for entity in ("e", "n"):
        doc = xml.replace("<Project ", doctype + "<Project ", 1).replace(
            "</Description>", f"&{entity};</Description>", 1)
        with pytest.raises(XsdValidationError, match="declares a DOCTYPE"):
            validate_xml(doc.encode("utf-8"), "Project.xsd")
    # nor an external DTD (it would add an attribute the schema does not allow)
    dtd = tmp_path / "p.dtd"
    dtd.write_text("<!ATTLIST Users bogus CDATA #FIXED 'x'>", encoding="utf-8")
    with pytest.raises(XsdValidationError, match="declares a DOCTYPE"):
        validate_xml(xml.replace("<Project ", f"<!DOCTYPE Project SYSTEM \"{dtd.as_uri()}\">\n"
                                 "<Project ", 1).encode("utf-8"), "Project.xsd")


class _Generated(io.RawIOBase):
    """A read-only, unseekable stream of the chunks of a generator."""

    def __init__(self, chunks):
        self.chunks, self.pending = chunks, b""

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self.pending:
            self.pending = next(self.chunks, b"")
            if not self.pending:
                return 0
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


def big_project(n_refs: int):
    """A valid project.qde with one case holding `n_refs` selection references, in chunks."""
    user = _guid("user")
    yield (f"<?xml version='1.0' encoding='utf-8'?>\n<Project xmlns=\"urn:QDA-XML:project:1.0\" "
           f"name=\"big\">\n<Users><User guid=\"{user}\" /></Users>\n<Cases>\n"
           f"<Case guid=\"{_guid('case')}\">\n").encode()
    ref = b'<SelectionRef targetGUID="%s" />\n' % _guid("selection").encode()
    for _ in range(n_refs // 10000):
        yield ref * 10000
    yield b"</Case>\n</Cases>\n</Project>\n"


def test_no_element_limit():
    """More than a million elements (xmlschema's MAX_XML_ELEMENTS stopped the 1,000-document
    export at one million), streamed in, in little memory."""
    script = (
        "import io, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from test_refiqda_scale import _Generated, big_project\n"
        "from qualtrace.exchange.qdpx_export import validate_xml\n"
        "validate_xml(io.BufferedReader(_Generated(big_project(1_010_000))), 'Project.xsd')\n"
        # VmHWM, not getrusage's ru_maxrss: that one keeps the forking pytest process's size
        # across exec, so it would measure the test run, not this validation
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))\n")
    result = subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) < 200_000, f"peak RSS {result.stdout.strip()} KB"  # KB on Linux
    # a stream that cannot be read again: the reason, without a line
    chunks = big_project(1_010_000)
    bad = itertools.chain([next(chunks), next(chunks)],
                          [b'<SelectionRef targetGUID="x" />\n'], chunks)
    with pytest.raises(XsdValidationError, match=r"^is not valid against Project.xsd: .*"
                                                 r"targetGUID': \[facet 'pattern'\] The value 'x'"):
        validate_xml(io.BufferedReader(_Generated(bad)), "Project.xsd")


# ------------------------------------------------------------------------------ failing loudly
class BrokenProject(ProjectXml):
    """A project whose XML is not valid (a user GUID the schema refuses)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = "not-a-guid"


def test_invalid_export_fails_and_writes_nothing(data, tmp_path):
    project = BrokenProject(data["cb"], data["documents"], data["segments"], data["codings"],
                            data["facets"], data["raws"])
    out = tmp_path / "out" / "qualtrace.qdpx"
    with pytest.raises(XsdValidationError, match=r"not valid against Project.xsd at line 2: .*"
                                                 r"creatingUserGUID.*'not-a-guid'"):
        write_project(out, project)
    assert not out.exists() and list(out.parent.iterdir()) == []  # no temporary file either
    # an earlier export at the path stays as it was
    write_project(out, project_of(data))
    before = out.read_bytes()
    with pytest.raises(XsdValidationError):
        write_project(out, project)
    assert out.read_bytes() == before and [p.name for p in out.parent.iterdir()] == [out.name]


def test_command_line_reports_an_invalid_export(data, tmp_path, monkeypatch, capsys):
    import qualtrace.exchange.refiqda as refiqda

    monkeypatch.setattr(refiqda, "ProjectXml", BrokenProject)
    out = tmp_path / "bad.qdpx"
    log = tmp_path / "export.log"
    args = [f"--{k}={v}" for k, v in data["paths"].items()]
    assert main(["--log", str(log), "export", "qdpx", *args, f"--output={out}"]) == 2
    message = capsys.readouterr().err
    assert "error:" in message and "not valid against Project.xsd" in message
    assert "nothing was written" in message and not out.exists()
    assert "not valid against Project.xsd" in log.read_text()


def test_export_summary_and_validate_command(data, tmp_path, capsys):
    out = tmp_path / "ok.qdpx"
    summary = export_qdpx(out, **data["paths"])
    assert summary == (f"{out}: 2 sources, {len(data['codings']) + len(data['facets'])} "
                       "selections; valid against Project.xsd")
    assert main(["validate", str(out)]) == 0
    assert "valid against Project.xsd" in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        assert archive.read("project.qde").count(b"<PlainTextSelection ") == \
            len(data["codings"]) + len(data["facets"])
    # validate names the file and the line of what is wrong
    bad = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(out) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members["project.qde"] = members["project.qde"].replace(b"</Users>", b"<Extra /></Users>")
    bad.write_bytes(zip_bytes(members))
    qdc = tmp_path / "bad.qdc"
    qdc.write_bytes(codebook_qdc(small_codebook()).replace(b'isCodable="true"', b'isCodable="1.0"'))
    assert main(["validate", str(out), str(bad)]) == 2
    message = capsys.readouterr().err
    assert f"{bad}: project.qde is not valid against Project.xsd at line 5: " in message
    assert main(["validate", str(qdc)]) == 2
    assert f"{qdc}: is not valid against Codebook.xsd at line 4: " in capsys.readouterr().err


def test_codebook_command_refuses_an_invalid_qdc(tmp_path, monkeypatch, capsys):
    import qualtrace.exchange.refiqda as refiqda

    data = make_corpus(tmp_path)
    monkeypatch.setattr(refiqda, "codebook_qdc", lambda cb: b"<CodeBook />")
    out = tmp_path / "codebook.qdc"
    assert main(["export", "qdc", f"--codebook={data['paths']['codebook']}", f"--output={out}"]) == 2
    assert f"{out}: not written, it is not valid against Codebook.xsd at line 1: " in \
        capsys.readouterr().err
    assert not out.exists()


def test_failed_export_leaves_no_file(data, tmp_path):
    """An export that stops early (stale tables) leaves nothing behind."""
    raw = data["raw_dir"] / "b plain.txt"
    raw.write_bytes(raw.read_bytes().replace(b"north", b"NORTH"))
    out = tmp_path / "stale.qdpx"
    with pytest.raises(Exception, match="has changed since it was ingested"):
        export_qdpx(out, **data["paths"])
    assert not out.exists() and list(tmp_path.glob(".stale.qdpx.*")) == []
