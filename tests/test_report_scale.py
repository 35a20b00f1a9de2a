"""The report stays a bounded summary as the corpus grows, and every number stays traceable.

Builds reports/summary.qmd in memory from synthetic processed tables (no pipeline run, no
rendering), for a small corpus and for two large ones.
"""
from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import pytest

from qualtrace.coding.codebook import load_codebook
from qualtrace.common.tables import frame, records
from qualtrace.report import limits
from qualtrace.report.data import ReportData
from qualtrace.report.document import Context, build

ROOT = Path(__file__).resolve().parents[1]
GROUPS = [("client", "Client"), ("justice_social_worker", "Justice social worker"),
          ("senior_manager_team_leader", "Senior manager / team leader")]
WORDS = ("resourcing partnership services clients workers support rural urban funding "
         "national consistency relationships").split()


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(ROOT / "config" / "codebook.yaml")


def _segment(doc: str, n: int, kind: str, line: int, text: str, at: int, **extra) -> dict:
    row = {"segment_id": f"{doc}-{n:04d}", "doc_id": doc, "kind": kind, "section": "Body",
           "start": str(at), "end": str(at + len(text)), "line": str(line), "text": text,
           "boilerplate": "false", "speaker_group_raw": "", "speaker_group": "",
           "interview_id": "", "attribution_start": "", "speaker_group_known": "",
           "repeated_across_documents": "false"}
    row.update(extra)
    return row


def synthetic(codebook, n_docs: int) -> ReportData:
    """Processed tables of `n_docs` documents, consistent with each other."""
    themes = [t.id for t in codebook.themes]
    facets = {f.id: [v.id for v in f.values] for f in codebook.facets}
    documents, segments, codings, facet_rows, support, check_items = [], [], [], [], [], []
    for i in range(1, n_docs + 1):
        doc = f"doc_{i:05d}"
        documents.append({"doc_id": doc, "path": f"data/raw/{doc}.txt", "sha256": "0" * 64,
                          "n_chars": "9000", "title": "A synthetic study",
                          "chapter_number": str(i), "chapter_title": f"Topic {i % 7}",
                          "source_name": f"{doc}.txt"})
        at, rows = 0, []
        rows.append(_segment(doc, 1, "chapter_heading", 1, f"{i}. Topic {i % 7}", at))
        for n in range(2, 18):
            kind = "key_point" if n < 5 else "quote" if n > 14 else "paragraph"
            words = " ".join(WORDS[(i * n + k) % len(WORDS)] for k in range(45))
            text = (f"- Key point {n} of {doc}: {words}." if kind == "key_point" else
                    f"\u201c{words}.\u201d (Client interview {i % 30})" if kind == "quote" else
                    f"Paragraph {n} of {doc}: {words}.")
            extra = {}
            if kind == "quote":
                group, raw = GROUPS[(i + n) % len(GROUPS)]
                extra = {"speaker_group": group, "speaker_group_raw": f"{raw} interview {i % 30}",
                         "interview_id": f"{group}-{i % 30:02d}", "speaker_group_known": "true",
                         "attribution_start": str(at + text.index("(Client"))}
            at += len(text) + 1
            rows.append(_segment(doc, n, kind, n, text, at - len(text) - 1, **extra))
        segments += rows
        for n, seg in enumerate(rows[1:], start=2):
            chosen = {themes[(i + n) % len(themes)], themes[(i * 3 + n) % len(themes)]}
            if n == 3:
                chosen = set()  # a key point with no theme: not supported
            start = int(seg["start"]) + 5
            for t in sorted(chosen):
                codings.append({"segment_id": seg["segment_id"], "doc_id": doc, "theme": t,
                                "evidence_start": str(start), "evidence_end": str(start + 8),
                                "evidence_text": seg["text"][5:13], "rule": f"{t}/r1"})
            for facet, values in facets.items():
                facet_rows.append({"segment_id": seg["segment_id"], "doc_id": doc,
                                   "facet": facet, "value": values[(i + n) % len(values)],
                                   "evidence_start": "", "evidence_end": "",
                                   "evidence_text": "", "rule": f"{facet}/fallback"})
    themes_of: dict[str, set] = {}
    for c in codings:
        themes_of.setdefault(c["segment_id"], set()).add(c["theme"])
    by_seg = {s["segment_id"]: s for s in segments}
    paragraphs: dict[str, list[str]] = {}
    for s in segments:
        if s["kind"] == "paragraph":
            paragraphs.setdefault(s["doc_id"], []).append(s["segment_id"])
    for seg in segments:
        if seg["kind"] != "key_point":
            continue
        own = sorted(themes_of.get(seg["segment_id"], ()))
        body = [s for s in paragraphs.get(seg["doc_id"], [])
                if themes_of.get(s, set()) & set(own)]
        ok = bool(own) and bool(body)
        support.append({"key_point_id": seg["segment_id"], "doc_id": seg["doc_id"],
                        "themes": " ".join(own), "supported": "true" if ok else "false",
                        "supporting_segment_ids": " ".join(body),
                        "shared_themes": " ".join(own if body else [])})
        if not ok:
            check_items.append({"check_id": "key_point_support", "item": seg["segment_id"],
                                "doc_id": seg["doc_id"], "segment_id": seg["segment_id"],
                                "start": seg["start"], "end": seg["end"],
                                "detail": "no body segment backs it " + "x " * 300})

    def ids_with(pred):
        return sorted(s for s, ts in themes_of.items() if pred(s, ts))

    summary = []
    for t in themes:
        segs = ids_with(lambda s, ts: t in ts)
        kinds = {k: [s for s in segs if by_seg[s]["kind"] == k] for k in ("key_point", "quote")}
        summary.append({
            "theme": t, "label": t, "n_segments": str(len(segs)),
            "n_documents": str(len({by_seg[s]["doc_id"] for s in segs})),
            "n_key_points": str(len(kinds["key_point"])),
            "n_quotations": str(len(kinds["quote"])),
            "n_interviews": str(len({by_seg[s]["interview_id"] for s in kinds["quote"]})),
            "segment_ids": " ".join(segs), "doc_ids": "",
            "key_point_ids": " ".join(kinds["key_point"]),
            "quotation_ids": " ".join(kinds["quote"]), "interview_ids": ""})
    value_of = {(r["segment_id"], r["facet"]): r["value"] for r in facet_rows}
    by_facet = {}
    for facet, values in facets.items():
        by_facet[facet] = []
        for t in themes:
            for v in values:
                segs = ids_with(lambda s, ts: t in ts and value_of.get((s, facet)) == v)
                by_facet[facet].append({"theme": t, "value": v, "n_segments": str(len(segs)),
                                        "n_documents": "", "n_interviews": "",
                                        "segment_ids": " ".join(segs), "doc_ids": "",
                                        "interview_ids": ""})
    pairs = []
    for a, b in combinations(themes, 2):
        segs = ids_with(lambda s, ts: a in ts and b in ts)
        if segs:
            pairs.append({"theme_a": a, "theme_b": b, "n_segments": str(len(segs)),
                          "segment_ids": " ".join(segs)})
    checks = [{"check_id": "span_integrity", "severity": "error", "status": "pass",
               "n_items": "0", "detail": "every span verified"},
              {"check_id": "key_point_support", "severity": "warning", "status": "fail",
               "n_items": str(len(check_items)),
               "detail": "unsupported: " + " ".join(r["item"] for r in check_items)}]
    tables = {"documents": documents, "segments": segments, "codings": codings,
              "facets": facet_rows, "theme_summary": summary, "theme_cooccurrence": pairs,
              "coding_validation": [], "coding_disagreements": [], "checks": checks,
              "check_items": check_items, "key_point_support": support}
    manifest = {"inputs": [{"doc_id": d["doc_id"], "path": d["path"], "sha256": d["sha256"]}
                           for d in documents]}
    # typed as read_table gives them to the report
    tables = {name: records(frame(name, rows)) for name, rows in tables.items()}
    by_facet = {f: records(frame("theme_by_facet", rows)) for f, rows in by_facet.items()}
    return ReportData(codebook=codebook, manifest=manifest, tables=tables, by_facet=by_facet)


def report(codebook, n_docs: int):
    data = synthetic(codebook, n_docs)
    context = Context(renderer="Rendered by the test.", versions={}, rulegraph_svg=None,
                      rulegraph_dot="digraph {}", environ={})
    summary, evidence, rows = build(data, context)
    return data, summary + "\n" + evidence, {r["item_id"]: r for r in rows}


def assert_traceable(data, text, rows):
    """Every number with passages links to an evidence entry that exists, and every such item
    has its entry; numbers without passages are neither linked nor listed."""
    anchors = set(re.findall(r"^#### .* \{#ev-(\S+)\}$", text, re.MULTILINE))
    links = set(re.findall(r"\]\(evidence\.html#ev-([^)]+)\)\{\.num\}", text))
    assert anchors == {i for i, r in rows.items() if r["segment_ids"]} == links
    content = [s["segment_id"] for s in data.countable()]
    assert rows["corpus-segments"]["segment_ids"].split() == sorted(content)  # never capped


def test_small_corpus_lists_everything(codebook):
    data, text, rows = report(codebook, 4)
    assert_traceable(data, text, rows)
    assert "{#key-points-doc_00004}" in text  # key points listed per document
    assert "keypoint-doc_00004-0002-support" in rows  # a number per key point
    assert "of its passages with excerpts" not in text  # no excerpt cap
    assert "more in" not in text and "the first 25 of" not in text


def test_report_size_is_bounded_as_the_corpus_grows(codebook):
    sizes = {}
    for n in (400, 1600):
        data, text, rows = report(codebook, n)
        assert_traceable(data, text, rows)
        sizes[n] = len(text.encode("utf-8"))
        excerpts = text.count(" .excerpt data-segment=")  # each passage's excerpt, once
        with_passages = sum(1 for r in rows.values() if r["segment_ids"])
        assert excerpts <= max(limits.PASSAGE_BUDGET, limits.MIN_PASSAGES * with_passages)
        # Left out, and said where the rest is.
        assert "`data/processed/key_point_support.csv`" in text
        assert f"the first {limits.DOCUMENT_ROWS} of {n}" in text
        assert "{#key-points-doc_" not in text and "{#tbl-key-points}" in text
        assert "`data/processed/report_numbers.csv` (column `segment_ids`)" in text
        assert f"The first {limits.INPUT_ROWS} of {n} input files are listed" in text
        assert "cut at" in text  # the long check details
        assert rows["keypoints-all"]["value"] == str(3 * n)
    # Four times the documents, the same report (the caps have all bitten by 400 documents).
    assert sizes[1600] < 1.05 * sizes[400], sizes
    assert sizes[1600] < 1_500_000, sizes


def test_passage_cap_keeps_small_numbers_whole():
    assert limits.passage_cap([3, 10, 50]) == limits.MAX_PASSAGES
    cap = limits.passage_cap([5] * 10 + [10_000] * 100)
    assert limits.MIN_PASSAGES <= cap < limits.MAX_PASSAGES
    assert 50 + 100 * cap <= limits.PASSAGE_BUDGET
    assert limits.passage_cap([10_000] * 1000) == limits.MIN_PASSAGES
    assert limits.spread(list(range(10)), 20) == list(range(10))
    assert limits.spread(list(range(100)), 4) == [0, 25, 50, 75]
