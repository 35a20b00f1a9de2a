"""Each check passes on consistent tables and fails on a deliberately broken one."""
from __future__ import annotations

import copy
import hashlib
from types import SimpleNamespace

import pytest

from qualtrace.analysis.breakdowns import build_tables
from qualtrace.checks import Tables, run_checks
from qualtrace.checks import content, counts, integrity
from qualtrace.common.tables import records
from qualtrace.corpus.gather import mark_repeated_text
from qualtrace.corpus.ingest import parse_document

CHAPTER = (
    "A Study of Services\n"
    "Shared preamble sentence about the study.\n"
    "3. Working together\n"
    "Key points\n"
    "- Partners valued joint working.\n"
    "- Staff said funding was short.\n"
    "Joint working\n"
    "Partners described joint working with the police as strong (see chapter 4 and p12).\n"
    "“We share everything.” (Senior managers / team leaders interview 2)\n"
    "“We share a lot.” (Senior manager / team leader interview 5)\n"
    "As discussed in chapter 3, staff felt stretched.\n"
)


def make_tables(themes_by_text: dict[str, list[str]] | None = None) -> Tables:
    from qualtrace.corpus.ingest import IngestRules

    rules = IngestRules.from_config({
        "key_point_headings": ["key points"],
        "speaker_groups": [{"id": "senior_manager_team_leader",
                            "pattern": "senior managers?|team leaders?"}]})
    parsed = parse_document(CHAPTER, "d1", rules)
    segments = mark_repeated_text([dict(s) for s in parsed.segments])  # typed, as read
    themes_by_text = themes_by_text or {"Partners valued": ["partnership"],
                                        "Partners described": ["partnership"],
                                        "Staff said funding": ["resourcing"],
                                        "As discussed": ["resourcing"]}
    codings = []
    for seg in segments:
        for prefix, themes in themes_by_text.items():
            if prefix in seg["text"]:
                start = seg["start"] + seg["text"].index(prefix)
                codings += [{"segment_id": seg["segment_id"], "doc_id": "d1", "theme": t,
                             "evidence_start": start, "evidence_end": start + len(prefix),
                             "evidence_text": prefix, "rule": f"{t}/r"} for t in themes]
    data = CHAPTER.encode("utf-8")
    documents = [{"doc_id": "d1", "path": "d1.txt", "sha256": hashlib.sha256(data).hexdigest(),
                  "n_chars": len(CHAPTER), "title": parsed.title,
                  "chapter_number": parsed.chapter_number, "chapter_title": parsed.chapter_title}]
    tables = build_tables(segments, codings, [], ["partnership", "resourcing"],
                          {"stakeholder": ["client", "partner"]})
    breakdowns = {name: records(rows) for name, rows in tables.items()}
    theme = lambda i, rules: SimpleNamespace(id=i, definition=f"about {i}", rules=rules,
                                             speaker_groups=[])
    codebook = SimpleNamespace(
        themes=[theme("partnership", ["partnership/r"]), theme("resourcing", ["resourcing/r"])],
        facets=[], rule_ids=lambda: ["partnership/r", "resourcing/r", "resourcing/unused"])
    return Tables(documents, segments, codings, [], breakdowns, {"d1": data}, {"d1": CHAPTER},
                  codebook)


def test_all_error_checks_pass_on_consistent_tables():
    checks, items, key_points, errors = run_checks(make_tables())
    assert errors == ""
    status = {c["check_id"]: c["status"] for c in checks}
    for check in ("span_integrity", "lossless", "quote_verbatim", "count_evidence",
                  "boilerplate", "key_point_support"):
        assert status[check] == "pass", (check, [i for i in items if i["check_id"] == check])
    assert {k["key_point_id"]: k["supported"] for k in key_points} == {
        "d1-0005": True, "d1-0006": True}


def test_span_integrity_catches_corrupted_span_and_changed_file():
    tables = make_tables()
    tables.codings[0]["evidence_start"] += 1
    result = integrity.span_integrity(tables)
    assert not result.passed and result.items[0].item.startswith("codings:")
    tables = make_tables()
    tables.raw_bytes["d1"] += b"edited\n"
    result = integrity.span_integrity(tables)
    assert not result.passed and "changed after ingestion" in result.items[0].detail


def test_error_check_failure_stops_with_the_check_named():
    tables = make_tables()
    tables.segments[4]["end"] -= 3
    *_, errors = run_checks(tables)
    assert "check span_integrity failed" in errors and "check lossless failed" in errors
    assert "segments:d1-0005" in errors


def test_quote_verbatim_catches_altered_quotation():
    tables = make_tables()
    quote = next(s for s in tables.segments if s["kind"] == "quote")
    quote["text"] = quote["text"].replace("everything", "nothing")
    result = integrity.quote_verbatim(tables)
    assert [i.segment_id for i in result.items] == [quote["segment_id"]]


def test_count_evidence_catches_count_that_disagrees_with_ids():
    tables = make_tables()
    row = tables.breakdowns["theme_summary"][0]
    row["n_segments"] += 1
    result = counts.count_evidence(tables)
    assert not result.passed and "theme_summary" in result.items[0].item
    tables = make_tables()
    cell = next(r for r in tables.breakdowns["theme_by_stakeholder"])
    cell.update(segment_ids="d1-0009", n_segments="1", n_documents="1")
    result = counts.count_evidence(tables)
    assert any("not in the theme total" in i.detail for i in result.items)


def test_key_point_without_support_is_listed_with_its_themes():
    tables = make_tables({"Partners valued": ["partnership"], "Staff said funding": ["resourcing"],
                          "Partners described": ["partnership"]})
    result, rows = content.key_point_support(tables)
    assert [i.segment_id for i in result.items] == ["d1-0006"]
    assert "resourcing" in result.items[0].detail
    assert {r["key_point_id"]: r["supported"] for r in rows} == {"d1-0005": True,
                                                                "d1-0006": False}


def test_unknown_chapter_and_page_references_are_listed():
    result = content.cross_references(make_tables())
    assert sorted(i.item for i in result.items) == ["chapter 4", "page 12"]
    assert "resolved" in result.detail and "chapter 4, page 12" in result.detail
    item = next(i for i in result.items if i.item == "chapter 4")
    assert CHAPTER[item.start:item.end] == "chapter 4"


def test_chapter_ranges_are_expanded():
    match = content.CHAPTER_REF.search("see chapters 2 to 4")
    assert content._chapter_numbers(match) == ["2", "3", "4"]
    match = content.CHAPTER_REF.search("in chapters 4 and 5")
    assert content._chapter_numbers(match) == ["4", "5"]


def test_attribution_spelling_variants_are_reported_with_places():
    result = content.attribution_labels(make_tables())
    spellings = sorted(i.item for i in result.items)
    assert spellings == ['senior_manager_team_leader: "Senior manager / team leader"',
                         'senior_manager_team_leader: "Senior managers / team leaders"']
    assert all("line" in i.detail for i in result.items)


def test_codebook_health_lists_rules_that_never_fire():
    result = content.codebook_health(make_tables())
    assert [i.item for i in result.items] == ["rule:resourcing/unused"]


def test_boilerplate_coded_is_an_error():
    tables = make_tables()
    tables.segments[1]["boilerplate"] = True
    tables.codings.append({**tables.codings[0], "segment_id": tables.segments[1]["segment_id"]})
    result = integrity.boilerplate(tables)
    assert not result.passed and "boilerplate" in result.items[0].detail


def test_unknown_severity_key_is_refused():
    from qualtrace.checks.runner import ChecksFailed

    with pytest.raises(ChecksFailed, match="unknown checks"):
        run_checks(make_tables(), {"span_integrty": "warning"})


def test_severity_override_turns_error_into_warning():
    tables = make_tables()
    tables.raw_bytes["d1"] = b"changed"
    checks, _, _, errors = run_checks(tables, {"span_integrity": "warning"})
    assert errors == ""
    assert next(c for c in checks if c["check_id"] == "span_integrity")["severity"] == "warning"


def test_unterminated_and_unattributed_quotations_are_warnings():
    tables = make_tables()
    quote = next(s for s in tables.segments if s["kind"] == "quote")
    quote.update(text="“We share everything", speaker_group_raw="", attribution_start="")
    result = content.quotation_shape(tables)
    assert [i.segment_id for i in result.items] == [quote["segment_id"]]
    assert "no closing quotation mark" in result.items[0].detail
    assert "no attribution" in result.items[0].detail


def test_document_without_structure_is_listed():
    tables = make_tables()
    for seg in tables.segments:
        if seg["kind"] in ("heading", "key_point", "chapter_heading"):
            seg["kind"] = "paragraph"
    result = content.document_structure(tables)
    assert "no chapter heading, no section headings, no key points" in result.items[0].detail
