"""Cases in our .qdpx carry their text the way QualCoder's REFI-QDA import reads it.

QualCoder (src/qualcoder/refi.py, `parse_cases` + `clean_up_case_codes_and_case_text`) ignores a
Case's SelectionRef elements: it links text to a case only through a Code in the CodeBook with
the case's GUID, whose codings on PlainTextSelections become the case's text (the convention
NVivo exports). This test replays that reading on the exported project."""
from __future__ import annotations

import zipfile
from collections import defaultdict

from lxml import etree

NS = {"q": "urn:QDA-XML:project:1.0"}


def case_texts_as_qualcoder_reads_them(qdpx) -> tuple[dict, dict]:
    """(case GUID -> {(source GUID, start, end)} linked as case text, case GUID -> the spans its
    SelectionRefs name)."""
    with zipfile.ZipFile(qdpx) as archive:
        root = etree.fromstring(archive.read("project.qde"))
        texts = {name: archive.read(name).decode("utf-8") for name in archive.namelist()
                 if name.startswith("sources/")}
    code_guids = {c.get("guid") for c in root.iterfind(".//q:CodeBook//q:Code", NS)}
    cases = {c.get("guid") for c in root.iterfind("q:Cases/q:Case", NS) if c.get("name")}
    linked, selected = defaultdict(set), defaultdict(set)
    span_of = {}
    for source in root.iterfind("q:Sources/q:TextSource", NS):
        text = texts["sources/" + source.get("plainTextPath").removeprefix("internal://")]
        for sel in source.iterfind("q:PlainTextSelection", NS):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            assert 0 <= start < end <= len(text)
            span = (source.get("guid"), start, end)
            span_of[sel.get("guid")] = span
            for ref in sel.iterfind("q:Coding/q:CodeRef", NS):
                target = ref.get("targetGUID")
                assert target in code_guids  # every coding resolves to a code
                if target in cases:
                    linked[target].add(span)
    for case in root.iterfind("q:Cases/q:Case", NS):
        for ref in case.iterfind("q:SelectionRef", NS):
            selected[case.get("guid")].add(span_of[ref.get("targetGUID")])
    assert cases <= code_guids, "a case without a code of its GUID gets no text in QualCoder"
    return linked, selected


def test_every_case_has_its_text_linked(mini_build):
    linked, selected = case_texts_as_qualcoder_reads_them(mini_build / "reports" /
                                                          "qualtrace.qdpx")
    assert selected and any(selected.values())
    for case, spans in selected.items():
        assert linked[case] == spans, case  # the same segments, once each


def test_case_codes_are_not_read_back_as_codings(mini_build):
    from qualtrace.exchange.qdpx_read import read_qdpx

    project = read_qdpx(mini_build / "reports" / "qualtrace.qdpx")
    cases = {case["guid"] for case in project.cases}
    assert cases and not [c for c in project.codings if c.code_guid in cases]
