"""Breakdown tables: hand-checked counts, full grids, boilerplate exclusion, count == ids."""
from __future__ import annotations

import runpy
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings, strategies as st

from qualtrace import SCHEMA_DIR
from qualtrace.analysis import breakdowns as bd
from qualtrace.common import tables as typed
from qualtrace.common.tables import records

SCHEMAS = SCHEMA_DIR
THEMES = {"alpha": "Alpha theme", "beta": "Beta theme", "gamma": "Never coded"}
STAKEHOLDERS = ["client", "jsw_professional", "partner"]


def seg(sid, kind="paragraph", boilerplate=False, interview=""):
    return {"segment_id": sid, "doc_id": sid.rsplit("-", 1)[0], "kind": kind,
            "boilerplate": boilerplate, "interview_id": interview}


SEGMENTS = [
    seg("d1-0001", "title", boilerplate=True),
    seg("d1-0002"),
    seg("d1-0003", "quote", interview="client-01"),
    seg("d2-0001", "key_point"),
    seg("d2-0002", "quote", interview="client-01"),  # same interview cited in a second doc
    seg("d2-0003", "quote", interview="client-02"),
]
CODINGS = [{"segment_id": s, "theme": t} for s, t in [
    ("d1-0001", "alpha"),  # wrongly codes boilerplate: must not count
    ("d1-0002", "alpha"), ("d1-0002", "beta"),
    ("d1-0003", "alpha"),
    ("d2-0001", "beta"),
    ("d2-0002", "alpha"),
    ("d2-0003", "beta"),
    ("zz-0001", "alpha"),  # segment not in segments.csv
    ("d2-0003", "delta"),  # label not in the codebook
]]
FACETS = [{"segment_id": s, "facet": f, "value": v} for s, f, v in [
    ("d1-0001", "stakeholder", "client"),
    ("d1-0002", "stakeholder", "client"), ("d1-0002", "area", "rural"),
    ("d1-0003", "stakeholder", "client"),
    ("d2-0001", "stakeholder", "jsw_professional"),
    ("d2-0002", "stakeholder", "client"),
    ("d2-0003", "stakeholder", "client"),
]]


def by_key(rows, *keys):
    return {tuple(r[k] for k in keys): r for r in rows}


def test_theme_by_facet_hand_counts_and_full_grid():
    rows = records(bd.theme_by_facet(SEGMENTS, CODINGS, FACETS, "stakeholder", THEMES,
                                     STAKEHOLDERS))
    # full grid in codebook order, then value order
    assert [(r["theme"], r["value"]) for r in rows] == [
        (t, v) for t in THEMES for v in STAKEHOLDERS]
    grid = by_key(rows, "theme", "value")
    alpha_client = grid["alpha", "client"]
    # d1-0002, d1-0003, d2-0002 (d1-0001 is boilerplate, zz-0001 unknown)
    assert alpha_client["segment_ids"] == "d1-0002 d1-0003 d2-0002"
    assert (alpha_client["n_segments"], alpha_client["n_documents"],
            alpha_client["n_interviews"]) == (3, 2, 1)
    assert alpha_client["interview_ids"] == "client-01"
    assert grid["beta", "client"]["segment_ids"] == "d1-0002 d2-0003"
    assert grid["beta", "jsw_professional"]["segment_ids"] == "d2-0001"
    zero = grid["gamma", "partner"]
    assert (zero["n_segments"], zero["n_documents"], zero["n_interviews"],
            zero["segment_ids"]) == (0, 0, 0, "")


def test_boilerplate_never_counted_and_exclusions_reported():
    tables = bd.build_tables(SEGMENTS, CODINGS, FACETS, THEMES,
                             {"stakeholder": STAKEHOLDERS, "area": ["rural", "urban"]})
    for rows in tables.values():
        for row in records(rows):
            assert "d1-0001" not in row.get("segment_ids", "").split()
    excluded = bd.exclusions(SEGMENTS, CODINGS, FACETS, THEMES,
                             {"stakeholder": STAKEHOLDERS})
    assert {(r["table"], r["segment_id"], r["label"], r["reason"]) for r in excluded} == {
        ("codings", "d1-0001", "alpha", "boilerplate"),
        ("codings", "zz-0001", "alpha", "unknown_segment"),
        ("codings", "d2-0003", "delta", "unknown_label"),
        ("facets:stakeholder", "d1-0001", "client", "boilerplate"),
    }


def test_theme_summary_counts_kinds():
    rows = records(bd.theme_summary(SEGMENTS, CODINGS, THEMES))
    assert [r["theme"] for r in rows] == list(THEMES)
    alpha, beta, gamma = rows
    assert alpha["label"] == "Alpha theme"
    assert (alpha["n_segments"], alpha["n_documents"], alpha["n_key_points"],
            alpha["n_quotations"], alpha["n_interviews"]) == (3, 2, 0, 2, 1)
    assert alpha["quotation_ids"] == "d1-0003 d2-0002"
    assert (beta["n_segments"], beta["n_key_points"], beta["n_quotations"],
            beta["n_interviews"]) == (3, 1, 1, 1)
    assert beta["key_point_ids"] == "d2-0001"
    assert gamma["n_segments"] == 0 and gamma["segment_ids"] == ""


def test_theme_cooccurrence_pairs_and_diagonal():
    rows = records(bd.theme_cooccurrence(SEGMENTS, CODINGS, THEMES))
    # 3 themes: 3 diagonal + 3 off-diagonal pairs, a <= b in codebook order
    assert [(r["theme_a"], r["theme_b"]) for r in rows] == [
        ("alpha", "alpha"), ("alpha", "beta"), ("alpha", "gamma"),
        ("beta", "beta"), ("beta", "gamma"), ("gamma", "gamma")]
    pairs = by_key(rows, "theme_a", "theme_b")
    assert pairs["alpha", "beta"]["segment_ids"] == "d1-0002"
    assert pairs["alpha", "alpha"]["n_segments"] == 3
    assert pairs["beta", "gamma"]["n_segments"] == 0


def test_verify_counts_accepts_sound_tables_and_catches_tampering():
    tables = bd.build_tables(SEGMENTS, CODINGS, FACETS, THEMES, {"stakeholder": STAKEHOLDERS})
    for name, rows in tables.items():
        assert bd.verify_table(rows, name) == [], name
    rows = records(tables["theme_summary"])
    rows[0]["n_segments"] = 4
    assert bd.verify_counts(rows, "n_segments", "segment_ids") == [
        "row 1: n_segments=4 but segment_ids lists 3 ids"]
    rows[0]["n_segments"] = 3
    rows[0]["segment_ids"] = "d2-0002 d1-0002 d1-0003"
    assert bd.verify_counts(rows, "n_segments", "segment_ids")  # unsorted ids are flagged


@pytest.mark.parametrize("table, schema", [
    ("theme_summary", "theme_summary"), ("theme_cooccurrence", "theme_cooccurrence"),
    ("theme_by_stakeholder", "theme_by_facet")])
def test_rows_match_schema(table, schema):
    tables = bd.build_tables(SEGMENTS, CODINGS, FACETS, THEMES, {"stakeholder": STAKEHOLDERS})
    spec = yaml.safe_load((SCHEMAS / f"{schema}.schema.yaml").read_text(encoding="utf-8"))
    assert list(tables[table].columns) == spec["required"]
    assert {c: str(t) for c, t in tables[table].dtypes.items()} == typed.dtypes(table)
    spec = {k: v for k, v in spec.items() if k != "sort_by"}  # qualtrace's own keyword
    for row in records(typed.cells(tables[table], table)):  # the cells as written
        jsonschema.validate(row, spec)


def test_codebook_labels_accepts_list_and_mapping_forms():
    as_lists = {"themes": [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}],
                "facets": [{"id": "area", "values": [{"id": "rural"}, {"id": "urban"}]}]}
    as_maps = {"themes": {"a": {"label": "A"}, "b": {"label": "B"}},
               "facets": {"area": {"values": {"rural": {}, "urban": {}}}}}
    expected = ({"a": "A", "b": "B"}, {"area": ["rural", "urban"]})
    assert bd.codebook_labels(as_lists) == expected
    assert bd.codebook_labels(as_maps) == expected


ids = st.sampled_from([f"d{d}-{n:04d}" for d in (1, 2) for n in range(1, 7)])


@settings(max_examples=60, deadline=None)
@given(codings=st.lists(st.tuples(ids, st.sampled_from(list(THEMES)))),
       facets=st.lists(st.tuples(ids, st.sampled_from(STAKEHOLDERS))),
       boiler=st.sets(ids))
def test_counts_match_brute_force(codings, facets, boiler):
    segments = [seg(f"d{d}-{n:04d}", boilerplate=f"d{d}-{n:04d}" in boiler,
                    interview=f"i{n % 3}" if n % 2 else "")
                for d in (1, 2) for n in range(1, 7)]
    coding_rows = [{"segment_id": s, "theme": t} for s, t in codings]
    facet_rows = [{"segment_id": s, "facet": "stakeholder", "value": v} for s, v in facets]
    rows = bd.theme_by_facet(segments, coding_rows, facet_rows, "stakeholder", THEMES,
                             STAKEHOLDERS)
    assert bd.verify_table(rows, "theme_by_stakeholder") == []
    for row in records(rows):
        expected = {s for s, t in codings if t == row["theme"] and s not in boiler} & {
            s for s, v in facets if v == row["value"]}
        assert row["segment_ids"].split() == sorted(expected)


def test_notebook_runs_standalone(tmp_path, monkeypatch):
    from qualtrace.common.tables import write_table

    processed = tmp_path / "data" / "processed"
    evidence = {"doc_id": "d", "evidence_start": 0, "evidence_end": 1, "evidence_text": "x",
                "rule": "r", "status": "auto"}
    write_table([{**s, "start": i, "end": i + 1, "line": 1, "text": "x",
                  "repeated_across_documents": False} for i, s in enumerate(SEGMENTS)],
                processed / "segments.csv")
    write_table([{**evidence, **c} for c in CODINGS], processed / "codings.csv")
    write_table([{**evidence, **f} for f in FACETS], processed / "facets.csv")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "codebook.yaml").write_text(yaml.safe_dump({
        "themes": [{"id": k, "label": v} for k, v in THEMES.items()],
        "facets": {"stakeholder": {"values": [{"id": v} for v in STAKEHOLDERS]},
                   "area": {"values": [{"id": "rural"}, {"id": "urban"}]}}}))
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(Path(__file__).resolve().parents[1] / "analysis" / "breakdowns.py"))
    from workflow_helpers import read_rows
    grid = read_rows(processed / "theme_by_area.csv")
    assert len(grid) == 3 * 2
    assert by_key(grid, "theme", "value")["alpha", "rural"]["segment_ids"] == "d1-0002"
    assert len(read_rows(processed / "theme_cooccurrence.csv")) == 6
