"""REFI-QDA project export: schema-valid, byte-stable, positions in code points; read back by
our reader and by a real importer (qualitative-coding's `qc`); a coder's project back to gold."""
from __future__ import annotations

import bisect
import json
import os
import re
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from qualtrace.coding.codebook import load_codebook
from qualtrace.exchange.codebook_formats import guid
from qualtrace.corpus.discovery import discover, doc_id_for
from qualtrace.common.io import InputError, sha256_bytes
from qualtrace.common.tables import write_table
from workflow_helpers import read_rows
from qualtrace.exchange.refiqda import export_qdpx, qdpx_to_gold, read_qdpx, validate_xml
from qualtrace.exchange.qdpx_export import build_project

from test_codebook_exchange import schema_dirs, tool_python

ROOT = Path(__file__).resolve().parents[1]
P = "{urn:QDA-XML:project:1.0}"

CODEBOOK = """\
codebook: refiqda-test
version: 1
themes:
  - {id: relationships, label: Relationships, definition: "Trust – “continuity” & <care>.", rules: []}
  - {id: resourcing, label: Resources, definition: "Funding and staff 𝒳.", rules: []}
facets:
  - id: stakeholder
    label: Stakeholder group
    definition: Whose views.
    values:
      - {id: client, label: Clients, definition: People using services.}
      - {id: jsw_professional, label: JSW professionals, definition: Staff.}
  - id: area
    label: Area setting
    definition: Where.
    values:
      - {id: rural, label: Rural, definition: Remote places.}
"""

# A BOM, CRLF line ends, non-BMP characters before and inside units, a form feed (not allowed
# in XML), markup characters, a quotation with its attribution, a unit too short to anchor.
RAW_A = ("\ufeffReport title\r\n\r\nKey points\r\n"
         "- Clients valued trust \U0001F600 and keeping the same worker, which built strong "
         "relationships over time.\r\n\r\n"
         "Staff said \U0001D4B3 funding & <workload> pressures\x0c limit \"what\" can be "
         "delivered in rural areas.\r\n\r\n"
         "\u201cI trusted her because she listened to me every single week, honestly.\u201d "
         "(Client interview 1)\r\n"
         "Short one.\r\n")
# Two units that share a long prefix (anchors must tell them apart), LF line ends.
RAW_B = ("Title B\n"
         "The service was good for clients in many respects, said staff in the north of it.\n"
         "The service was good for clients in many respects, said staff in the south of it.\n"
         "\u201cStaff funding never lasts long enough for the work we are asked to do.\u201d "
         "(Senior manager interview 2)\n")
FILES = {"a_bom_crlf.txt": RAW_A, "b plain.txt": RAW_B}

# (file, kind, text or its start, interview) in document order; codings per unit index.
UNITS = [
    ("a_bom_crlf.txt", "title", "\ufeffReport title", ""),
    ("a_bom_crlf.txt", "heading", "Key points", ""),
    ("a_bom_crlf.txt", "key_point", "- Clients valued", ""),
    ("a_bom_crlf.txt", "paragraph", "Staff said", ""),
    ("a_bom_crlf.txt", "quote", "\u201cI trusted", "client-01"),
    ("a_bom_crlf.txt", "paragraph", "Short one.", ""),
    ("b plain.txt", "title", "Title B", ""),
    ("b plain.txt", "paragraph", "The service was good for clients in many respects, said "
                                 "staff in the north", ""),
    ("b plain.txt", "paragraph", "The service was good for clients in many respects, said "
                                 "staff in the south", ""),
    ("b plain.txt", "quote", "\u201cStaff funding", "senior_manager_team_leader-02"),
]
THEMES = {2: [("relationships", "trust \U0001F600"), ("resourcing", "same worker")],
          3: [("resourcing", "\U0001D4B3 funding & <workload> pressures\x0c limit")],
          4: [("relationships", "trusted her")], 5: [("relationships", "Short")],
          7: [("resourcing", "service")], 9: [("resourcing", "Staff funding")]}
FACETS = {2: [("stakeholder", "client", "Clients")],
          3: [("stakeholder", "jsw_professional", "Staff"), ("area", "rural", "rural areas")],
          4: [("stakeholder", "client", "Client interview 1")],
          8: [("stakeholder", "client", "clients")],
          9: [("stakeholder", "jsw_professional", "Senior manager")]}


def make_corpus(base: Path) -> dict:
    """Raw files and tables in the documented shapes, as the pipeline would have made them."""
    raw_dir = base / "raw"
    raw_dir.mkdir(parents=True)
    for name, text in FILES.items():
        (raw_dir / name).write_bytes(text.encode("utf-8"))
    documents = [{"doc_id": doc_id_for(name), "path": str(raw_dir / name),
                  "sha256": sha256_bytes(text.encode("utf-8")), "n_chars": len(text),
                  "title": text.splitlines()[0].lstrip("\ufeff"), "chapter_number": str(i + 6),
                  "chapter_title": f"Chapter {name}", "source_name": name}
                 for i, (name, text) in enumerate(FILES.items())]
    segments, codings, facets = [], [], []
    counters: dict[str, int] = defaultdict(int)
    for i, (name, kind, begin, interview) in enumerate(UNITS):
        raw, doc_id = FILES[name], doc_id_for(name)
        start = raw.index(begin)
        end = start + len(re.split(r"\r?\n", raw[start:], maxsplit=1)[0])
        counters[doc_id] += 1
        seg_id = f"{doc_id}-{counters[doc_id]:04d}"
        attribution = re.search(r"\((.+)\)$", raw[start:end]) if kind == "quote" else None
        segments.append({
            "segment_id": seg_id, "doc_id": doc_id, "kind": kind, "section": "", "start": start,
            "end": end, "line": raw.count("\n", 0, start) + 1, "text": raw[start:end],
            "boilerplate": kind in ("title", "heading"), "repeated_across_documents": False,
            "speaker_group_raw": attribution.group(1) if attribution else "",
            "speaker_group": interview.rsplit("-", 1)[0], "interview_id": interview,
            "attribution_start": start + attribution.start() if attribution else None})
        for theme, evidence in THEMES.get(i, []):
            s = raw.index(evidence, start)
            codings.append({"segment_id": seg_id, "doc_id": doc_id, "theme": theme,
                            "evidence_start": s, "evidence_end": s + len(evidence),
                            "evidence_text": evidence, "rule": f"{theme}/test", "status": "auto"})
        for facet, value, evidence in FACETS.get(i, []):
            s = raw.index(evidence, start)
            facets.append({"segment_id": seg_id, "doc_id": doc_id, "facet": facet,
                           "value": value, "evidence_start": s, "evidence_end": s + len(evidence),
                           "evidence_text": evidence, "rule": f"{facet}/test", "status": "auto"})
    paths = {"codebook": base / "codebook.yaml"}
    paths["codebook"].write_text(CODEBOOK, encoding="utf-8")
    for key, rows in (("documents", documents), ("segments", segments),
                      ("codings", codings), ("facets", facets)):
        paths[key] = base / f"{key}.csv"
        write_table(rows, paths[key], key)
    return {"raw_dir": raw_dir, "paths": paths, "segments": segments, "codings": codings,
            "facets": facets, "documents": documents}


@pytest.fixture()
def corpus(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    data = make_corpus(tmp_path)
    data["qdpx"] = tmp_path / "out" / "qualtrace.qdpx"
    export_qdpx(data["qdpx"], **{k: v for k, v in data["paths"].items()})
    return data


def corpus_config(corpus) -> Path:
    """The repository's config with corpus.patterns naming the fixture's raw files."""
    path = corpus["raw_dir"].parent / "config.yaml"
    if not path.exists():
        config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
        config["corpus"]["patterns"] = [str(corpus["raw_dir"] / "*.txt")]
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def corpus_documents(corpus) -> dict[str, str]:
    return discover([str(corpus["raw_dir"] / "*.txt")])


def project_xml(qdpx: Path) -> ET.Element:
    with zipfile.ZipFile(qdpx) as archive:
        return ET.fromstring(archive.read("project.qde"))


# ------------------------------------------------------------------------------ the export
@pytest.mark.parametrize("schema_dir", schema_dirs(), ids=lambda p: p.parent.parent.name)
def test_export_is_valid_against_project_schema(corpus, schema_dir):
    with zipfile.ZipFile(corpus["qdpx"]) as archive:
        validate_xml(archive.read("project.qde"), "Project.xsd", schema_dir)


def test_archive_layout_is_fixed_and_sources_are_the_raw_bytes(corpus):
    with zipfile.ZipFile(corpus["qdpx"]) as archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        assert names[0] == "project.qde"
        expected = [f"sources/{guid('source:' + d['doc_id'])}.txt" for d in corpus["documents"]]
        assert names[1:] == expected  # flat, lower-case sources/, document order
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.external_attr >> 16 == 0o100644 and info.create_system == 3
        for name, doc in zip(expected, corpus["documents"]):
            assert archive.read(name) == Path(doc["path"]).read_bytes()  # BOM, CRLF kept
    root = project_xml(corpus["qdpx"])
    assert [child.tag[len(P):] for child in root] == [
        "Users", "CodeBook", "Variables", "Cases", "Sources", "Description"]
    assert all(len(child) or child.text for child in root.iter()
               if child.tag[len(P):] in ("Variables", "Cases", "Sets", "Sources", "Notes"))
    assert root.get("creationDateTime") is None  # no clock time without SOURCE_DATE_EPOCH


def test_every_selection_is_its_segment_span_in_code_points(corpus):
    root = project_xml(corpus["qdpx"])
    segments = {s["segment_id"]: s for s in corpus["segments"]}
    texts = {guid(f"source:{d['doc_id']}"): FILES[d["source_name"]] for d in corpus["documents"]}
    seen = 0
    for source in root.iter(f"{P}TextSource"):
        text = texts[source.get("guid")]
        assert source.get("plainTextPath") == f"internal://{source.get('guid')}.txt"
        line_ends = [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
        for sel in source.iter(f"{P}PlainTextSelection"):
            prefix, seg_id = sel.get("name").split(" ")
            seg = segments[seg_id]
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            assert (start, end) == (seg["start"], seg["end"])
            assert text[start:end] == seg["text"]  # code points: the emoji count as one
            assert prefix == f"line:{bisect.bisect_right(line_ends, start)}"
            seen += 1
    assert seen == len(corpus["codings"]) + len(corpus["facets"])
    # the emoji precede later units, so UTF-16 or byte offsets would be off
    assert any("\U0001F600" in FILES["a_bom_crlf.txt"][:s["start"]] for s in corpus["segments"])


def test_descriptions_carry_evidence_and_survive_xml(corpus):
    project = read_qdpx(corpus["qdpx"])
    described = {c.selection_guid: c.description for c in project.codings}
    for row in corpus["codings"]:
        text = described[guid(f"selection:{row['segment_id']}:{row['theme']}")]
        assert f"Evidence [{row['evidence_start']}:{row['evidence_end']}]" in text
        assert f"rule {row['rule']}" in text
    odd = described[guid(f"selection:{corpus['segments'][3]['segment_id']}:resourcing")]
    assert "& <workload> pressures\ufffd limit" in odd  # form feed replaced, markup escaped


def test_codes_variables_and_cases(corpus):
    root = project_xml(corpus["qdpx"])
    codes = {c.get("guid"): c for c in root.iter(f"{P}Code")}
    theme = codes[guid("code:relationships")]
    assert theme.get("name") == "Relationships"
    assert theme.find(f"{P}Description").text == "Trust – “continuity” & <care>."
    parent = codes[guid("code:facet:stakeholder")]
    assert parent.get("isCodable") == "false"
    assert [c.get("name") for c in parent.findall(f"{P}Code")] == ["Clients", "JSW professionals"]
    variables = {v.get("guid"): v.get("name") for v in root.iter(f"{P}Variable")}
    source = root.find(f"{P}Sources/{P}TextSource")
    values = {variables[v.find(f"{P}VariableRef").get("targetGUID")]: v[1].text
              for v in source.findall(f"{P}VariableValue")}
    assert values["Chapter number"] == "6" and values["qualtrace doc_id"] == "a_bom_crlf"
    cases = {c.get("name"): c for c in root.iter(f"{P}Case")}
    quote = corpus["segments"][4]["segment_id"]
    interview = {r.get("targetGUID") for r in cases["Interview client-01"].iter(f"{P}SelectionRef")}
    assert interview == {guid(f"selection:{quote}:relationships"),
                         guid(f"selection:{quote}:stakeholder/client")}
    clients = {r.get("targetGUID") for r in cases["Stakeholder group: Clients"].iter(
        f"{P}SelectionRef")}
    client_segments = {f["segment_id"] for f in corpus["facets"] if f["value"] == "client"}
    assert {guid(f"selection:{s}:stakeholder/client") for s in client_segments} <= clients


def test_export_is_byte_identical_across_builds(corpus, tmp_path):
    """Two builds in fresh interpreters with different hash seeds; SOURCE_DATE_EPOCH dates it."""
    args = [f"--{k}={v}" for k, v in corpus["paths"].items()]
    outputs = []
    for seed, epoch in (("1", ""), ("2", ""), ("3", "1700000000")):
        out = tmp_path / f"build{seed}.qdpx"
        env = dict(os.environ, PYTHONHASHSEED=seed, SOURCE_DATE_EPOCH=epoch)
        result = subprocess.run([sys.executable, "-m", "qualtrace", "export", "qdpx", *args,
                                 f"--output={out}"], capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr
        assert "valid against Project.xsd" in result.stdout
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == corpus["qdpx"].read_bytes()
    dated = tmp_path / "build3.qdpx"
    assert project_xml(dated).get("creationDateTime") == "2023-11-14T22:13:20Z"
    assert {i.date_time for i in zipfile.ZipFile(dated).infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_stale_or_foreign_tables_are_refused(tmp_path):
    data = make_corpus(tmp_path)
    cb = load_codebook(data["paths"]["codebook"])
    raws = {d["doc_id"]: FILES[d["source_name"]] for d in data["documents"]}
    args = (cb, data["documents"], data["segments"], data["codings"], data["facets"])
    changed = dict(raws, a_bom_crlf=raws["a_bom_crlf"].replace("Staff", "Staph"))
    with pytest.raises(InputError, match="has changed since it was ingested"):
        build_project(*args, changed)
    foreign = [dict(data["codings"][0], theme="unknown_theme")]
    with pytest.raises(InputError, match="theme 'unknown_theme' is not in the codebook"):
        build_project(cb, data["documents"], data["segments"], foreign, [], raws)


@pytest.mark.parametrize("case", ["no codings", "no facets, no interviews"])
def test_sparse_projects_stay_valid(tmp_path, case):
    """Empty containers are invalid: whatever is missing, what is written must validate."""
    from types import SimpleNamespace

    data = make_corpus(tmp_path)
    cb = load_codebook(data["paths"]["codebook"])
    raws = {d["doc_id"]: FILES[d["source_name"]] for d in data["documents"]}
    if case == "no codings":
        members = build_project(cb, data["documents"], data["segments"], [], [], raws)
    else:
        cb = SimpleNamespace(themes=cb.themes, facets=[])
        segments = [dict(s, interview_id="") for s in data["segments"]]
        members = build_project(cb, data["documents"], segments, data["codings"], [], raws)
        assert b"<Cases" not in members["project.qde"]
    for schema_dir in schema_dirs():
        validate_xml(members["project.qde"], "Project.xsd", schema_dir)


# ------------------------------------------------------------------------------ reading back
def test_reader_recovers_every_coding_at_its_segment(corpus):
    project = read_qdpx(corpus["qdpx"])
    assert [(s.name, s.text) for s in project.sources] == list(FILES.items())
    found = {(c.selection_name.split(" ")[1], c.code_guid, c.start, c.end, c.text)
             for c in project.codings}
    segments = {s["segment_id"]: s for s in corpus["segments"]}
    for row in corpus["codings"]:
        seg = segments[row["segment_id"]]
        assert (seg["segment_id"], guid(f"code:{row['theme']}"), seg["start"], seg["end"],
                seg["text"]) in found
    for row in corpus["facets"]:
        seg = segments[row["segment_id"]]
        assert (seg["segment_id"], guid(f"code:{row['facet']}/{row['value']}"), seg["start"],
                seg["end"], seg["text"]) in found
    assert len(found) == len(corpus["codings"]) + len(corpus["facets"]) and not project.warnings


def resolve_anchor(raw: str, anchor: str, segments) -> str:
    """SPEC: the unit is the segment containing the anchor's first occurrence."""
    begin = raw.find(anchor)
    assert begin >= 0 and len(anchor) >= 40
    return next(s["segment_id"] for s in segments
                if s["start"] <= begin and begin + len(anchor) <= s["end"])


def pipeline_labels(corpus) -> dict[str, dict[str, set]]:
    labels: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for row in corpus["codings"]:
        labels[row["segment_id"]]["themes"].add(row["theme"])
    for row in corpus["facets"]:
        key = {"stakeholder": "stakeholders", "area": "areas"}[row["facet"]]
        labels[row["segment_id"]][key].add(row["value"])
    return labels


def test_gold_round_trip_gives_back_the_pipeline_codings(corpus, tmp_path):
    out = tmp_path / "gold" / "export.jsonl"
    summary = qdpx_to_gold(corpus["qdpx"], corpus_documents(corpus), out,
                           codebook=corpus["paths"]["codebook"],
                           segments_csv=corpus["paths"]["segments"], all_units=True)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = pipeline_labels(corpus)
    coded_kinds = [s for s in corpus["segments"] if not s["boilerplate"]]
    short = corpus["segments"][5]["segment_id"]  # "Short one." cannot carry a 40+ anchor
    assert len(lines) == len(coded_kinds) - 1 == summary["units"]
    assert any(short in message for message in summary["skipped"])
    units = set()
    for line in lines:
        assert list(line) == ["doc", "anchor", "themes", "stakeholders", "areas"]
        segs = [s for s in corpus["segments"] if s["doc_id"] == doc_id_for(line["doc"])]
        unit = resolve_anchor(FILES[line["doc"]], line["anchor"], segs)
        units.add(unit)
        for key in ("themes", "stakeholders", "areas"):
            assert set(line[key]) == expected[unit][key], (unit, key)
    assert len(units) == len(lines)  # the two look-alike paragraphs got distinct anchors
    # the project's own gold loader agrees
    validation = pytest.importorskip("qualtrace.analysis.validation")
    cb = load_codebook(corpus["paths"]["codebook"])
    gold = validation.load_gold(
        [out], {n: t for n, t in FILES.items()}, corpus["segments"], corpus["documents"],
        {"themes": [t.id for t in cb.themes],
         "stakeholders": [v.id for v in cb.facets[0].values],
         "areas": [v.id for v in cb.facets[1].values]})
    assert {u.segment_id for u in gold} == units


def foreign_project(path: Path, corpus) -> None:
    """What another tool might write after a coder worked on our export: text with the BOM
    dropped and LF line ends, its own GUIDs, codes by label or `facet: value`, a code of its
    own and one nested under a theme, one selection inside a unit, one across two units, one on
    a heading only, another file name; and a second document whose text the coder edited."""
    text = RAW_A.lstrip("\ufeff").replace("\r\n", "\n")
    g = lambda: "{" + str(uuid.uuid4()).upper() + "}"  # noqa: E731
    codes = {k: g() for k in ("rel", "sub", "res", "parent", "client", "rural", "memo")}
    key_point = text.index("Clients valued")
    quote_end = text.index("(Client interview 1)")
    staff = text.index("Staff said")

    def selection(start, end, *codes_):
        codings = "".join(f'<Coding guid="{g()}" creatingUser="{user}"><CodeRef targetGUID='
                          f'"{c}"/></Coding>' for c in codes_)
        return (f'<PlainTextSelection guid="{g()}" startPosition="{start}" endPosition="{end}">'
                f"{codings}</PlainTextSelection>")

    user = g()
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="recoded">
<Users><User guid="{user}" name="coder"/></Users>
<CodeBook><Codes>
<Code guid="{codes['rel']}" name="relationships" isCodable="true">
<Code guid="{codes['sub']}" name="keeping the same worker" isCodable="true"/></Code>
<Code guid="{codes['res']}" name="RESOURCES" isCodable="true"/>
<Code guid="{codes['parent']}" name="Stakeholder group" isCodable="false">
<Code guid="{codes['client']}" name="Clients" isCodable="true"/></Code>
<Code guid="{codes['rural']}" name="Area setting: Rural" isCodable="true"/>
<Code guid="{codes['memo']}" name="Interesting" isCodable="true"/>
</Codes></CodeBook>
<Sources><TextSource guid="{g()}" name="Chapter A (recoded).txt" plainTextPath="internal://a.txt">
{selection(key_point + 15, key_point + 40, codes['rel'], codes['memo'])}
{selection(staff, quote_end, codes['res'], codes['client'])}
{selection(staff + 5, staff + 30, codes['rural'])}
{selection(quote_end - 20, quote_end, codes['sub'])}
{selection(0, 12, codes['rel'])}
</TextSource>
<TextSource guid="{g()}" name="b plain.txt" plainTextPath="internal://b.txt">
{selection(10, 60, codes['rel'])}
</TextSource></Sources></Project>"""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("Sources/a.txt", text.encode("utf-8"))  # upper case, as some tools do
        archive.writestr("Sources/b.txt", RAW_B.replace("north", "North-East").encode("utf-8"))


def test_gold_from_another_tools_project(corpus, tmp_path):
    recoded = tmp_path / "recoded.qdpx"
    foreign_project(recoded, corpus)
    out = tmp_path / "recoded.jsonl"
    summary = qdpx_to_gold(recoded, corpus_documents(corpus), out,
                           codebook=corpus["paths"]["codebook"],
                           segments_csv=corpus["paths"]["segments"])
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    segs = [s for s in corpus["segments"] if s["doc_id"] == "a_bom_crlf"]
    got = {resolve_anchor(RAW_A, line["anchor"], segs): line for line in lines}
    key_point, paragraph, quote = (s["segment_id"] for s in segs[2:5])
    assert set(got) == {key_point, paragraph, quote}
    assert all(line["doc"] == "a_bom_crlf.txt" for line in lines)  # matched by content
    assert got[key_point]["themes"] == ["relationships"]
    assert got[paragraph] == dict(got[paragraph], themes=["resourcing"],
                                  stakeholders=["client"], areas=["rural"])
    assert got[quote]["themes"] == ["relationships", "resourcing"]  # the sub-code counts
    assert got[quote]["stakeholders"] == ["client"]
    assert summary["codings"] == 6  # mapped codings on matched sources
    messages = "\n".join(summary["skipped"])
    assert "'Interesting' maps to no theme" in messages
    assert "covers only boilerplate" in messages  # the title is never coded
    assert "'b plain.txt': its text differs from b plain.txt" in messages


# ------------------------------------------------------------------------------ a real importer
QC_MAIN = "import sys; from qualitative_coding.cli import cli; sys.argv[0] = 'qc'; cli()"


def qc(python: str, cwd: Path, *args: str) -> str:
    env = dict(os.environ, PYTHONBREAKPOINT="0")  # qc 1.7.8 left a breakpoint() in its importer
    result = subprocess.run([python, "-c", QC_MAIN, *args], cwd=cwd, capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == 0, f"qc {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def check_qc_import(qdpx: Path, workdir: Path, codings, facets, segments, codebook) -> None:
    """`qc init --import`, then qc lists our codes and sources and counts our codings."""
    python = tool_python("qc", "qualitative_coding.refi_qda.reader")
    workdir.mkdir()  # qc imports only into an empty directory
    qc(python, workdir, "init", "--import", str(qdpx))
    assert (workdir / "settings.yaml").exists(), "qc reports some import errors with exit 0"
    listed = qc(python, workdir, "codes", "list")
    names = [t.label for t in codebook.themes] + [
        n for f in codebook.facets for n in [f.label] + [v.label for v in f.values]]
    # and the cases' codes (each case's text, as QualCoder and NVivo carry it), under "Cases"
    names += ["Cases"] + [case["name"] for case in read_qdpx(qdpx).cases]
    assert sorted(re.findall(r"^\s*- (.+)$", listed, re.M)) == sorted(names)
    sources = qc(python, workdir, "corpus", "list").splitlines()
    documents = {s["doc_id"] for s in segments}
    assert len(sources) == len(documents)
    stats = dict(line.rsplit(None, 1) for line in qc(python, workdir, "codes", "stats")
                 .splitlines()[2:] if line.strip())
    # qc counts coded lines: our selections land on the line where their segment starts
    segs = {s["segment_id"]: s for s in segments}
    for theme in codebook.themes:
        lines = {(segs[r["segment_id"]]["doc_id"], segs[r["segment_id"]]["line"])
                 for r in codings if r["theme"] == theme.id}
        assert int(stats.get(theme.label, 0)) == len(lines), theme.label
    return sources


def test_qc_imports_the_project(corpus, tmp_path):
    cb = load_codebook(corpus["paths"]["codebook"])
    segments = [dict(s, line=str(s["line"])) for s in corpus["segments"]]
    sources = check_qc_import(corpus["qdpx"], tmp_path / "qc", corpus["codings"],
                              corpus["facets"], segments, cb)
    assert sorted(sources) == sorted(FILES)


# ------------------------------------------------------------------------------ the workflow
EXPORTS = ["reports/qualtrace.qdpx", "reports/codebook.qdc", "reports/codebook_taguette.csv"]


@pytest.fixture(scope="module")
def mini_exports(tmp_path_factory):
    """The real Snakefile on the mini corpus, asked for the three exports."""
    from conftest import MINI
    from workflow_helpers import make_project, snakemake

    if not (ROOT / "config" / "codebook.yaml").exists():
        pytest.skip("config/codebook.yaml does not exist yet")
    work = make_project(tmp_path_factory.mktemp("exports"), MINI)
    snakemake(work, *EXPORTS)
    return work


@pytest.mark.slow
def test_workflow_exports_are_valid_and_byte_stable(mini_exports):
    from workflow_helpers import snakemake

    first = {t: (mini_exports / t).read_bytes() for t in EXPORTS}
    for schema_dir in schema_dirs():
        validate_xml(zipfile.ZipFile(mini_exports / EXPORTS[0]).read("project.qde"),
                     "Project.xsd", schema_dir)
        validate_xml(first[EXPORTS[1]], "Codebook.xsd", schema_dir)
    snakemake(mini_exports, "--forcerun", "refiqda_project", "refiqda_codebook",
              "taguette_codebook", *EXPORTS)
    assert {t: (mini_exports / t).read_bytes() for t in EXPORTS} == first


@pytest.mark.slow
def test_workflow_export_holds_every_pipeline_coding(mini_exports):
    """Every (segment, theme) row of codings.csv comes back at its segment's span and text."""
    codings = read_rows(mini_exports / "data/processed/codings.csv")
    by_id = {s["segment_id"]: s for s in read_rows(mini_exports / "data/processed/segments.csv")}
    project = read_qdpx(mini_exports / EXPORTS[0])
    found = {(c.selection_name.split(" ")[1], c.code_guid, c.start, c.end, c.text)
             for c in project.codings}
    assert codings
    for row in codings:
        seg = by_id[row["segment_id"]]
        assert (seg["segment_id"], guid(f"code:{row['theme']}"), int(seg["start"]),
                int(seg["end"]), seg["text"]) in found


@pytest.mark.slow
def test_qc_imports_the_workflow_export(mini_exports, tmp_path):
    cb = load_codebook(mini_exports / "config" / "codebook.yaml")
    sources = check_qc_import(mini_exports / EXPORTS[0], tmp_path / "qc",
                              read_rows(mini_exports / "data/processed/codings.csv"),
                              read_rows(mini_exports / "data/processed/facets.csv"),
                              read_rows(mini_exports / "data/processed/segments.csv"), cb)
    assert sorted(sources) == sorted(p.name for p in (mini_exports / "data/raw").iterdir())


def test_command_line_import_gold_and_validate(corpus, tmp_path):
    out = tmp_path / "gold.jsonl"
    run = [sys.executable, "-m", "qualtrace"]
    result = subprocess.run(run + ["--log", str(tmp_path / "import.log"), "import-gold",
                                   str(corpus["qdpx"]), "--config", str(corpus_config(corpus)),
                                   "--segments", str(corpus["paths"]["segments"]),
                                   "--codebook", str(corpus["paths"]["codebook"]),
                                   "--output", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr  # the unit too short to anchor is named
    # With --log the summary goes to the log (a rule's output), else to stdout.
    assert (tmp_path / "import.log").read_text().startswith(f"{out}: 6 units from 13 codings")
    assert len(out.read_text(encoding="utf-8").splitlines()) == 6
    result = subprocess.run(run + ["validate", str(corpus["qdpx"])], capture_output=True,
                            text=True)
    assert result.returncode == 0 and "valid against Project.xsd" in result.stdout
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(b"not a zip")
    result = subprocess.run(run + ["import-gold", str(bad), "--output", str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 2 and f"error: {bad}: not a ZIP archive" in result.stderr
