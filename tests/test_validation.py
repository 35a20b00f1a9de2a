"""Gold scoring: hand-computed metrics, textbook agreement values, loader errors."""
from __future__ import annotations

import json
import re
import runpy
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from qualtrace import SCHEMA_DIR
from qualtrace.analysis import validation as v
from qualtrace.analysis.validation import GoldError, GoldUnit
from qualtrace.common.tables import cells, frame, records

SCHEMAS = SCHEMA_DIR


# --- agreement statistics against published values ---------------------------------------

def test_cohen_kappa_textbook():
    # Wikipedia "Cohen's kappa" worked example: 50 proposals; both yes 20, A yes/B no 5,
    # A no/B yes 10, both no 15. p_o = 0.7, p_e = 0.5*0.6 + 0.5*0.4 = 0.5, kappa = 0.4.
    a = ["y"] * 20 + ["y"] * 5 + ["n"] * 10 + ["n"] * 15
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert v.cohen_kappa(a, b) == pytest.approx(0.4)
    assert v.cohen_kappa([1, 1, 1], [1, 1, 1]) is None  # chance agreement 1: undefined


# Krippendorff (2011) "Computing Krippendorff's alpha-reliability", example C: 4 observers,
# 12 units, missing values; nominal alpha = 0.743.
EXAMPLE_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
# Same paper, example A: binary, 2 observers, 10 units; alpha = 0.095.
EXAMPLE_A = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]


def test_nominal_alpha_published_values():
    assert v.nominal_alpha(EXAMPLE_C) == pytest.approx(0.743, abs=5e-4)
    assert v.nominal_alpha(EXAMPLE_A) == pytest.approx(0.095, abs=5e-4)
    assert v.nominal_alpha([[1, 1], [1, 1]]) is None


def test_package_alpha_agrees_with_own_implementation(monkeypatch):
    krippendorff = pytest.importorskip("krippendorff")
    import numpy as np
    data = [[np.nan if x is None else x for x in row] for row in EXAMPLE_C]
    assert krippendorff.alpha(reliability_data=data, level_of_measurement="nominal") == (
        pytest.approx(v.nominal_alpha(EXAMPLE_C)))
    with_package = v.krippendorff_alpha(*EXAMPLE_A)
    monkeypatch.setitem(sys.modules, "krippendorff", None)  # makes `import` raise
    assert v.krippendorff_alpha(*EXAMPLE_A) == pytest.approx(with_package)
    assert with_package == pytest.approx(0.0952, abs=1e-4)


# --- scoring on a hand-computed example ------------------------------------------------------

LABELS = {"themes": ["x", "y", "z"], "stakeholders": ["client"], "areas": ["rural"]}
FACET_SETS = {"stakeholder": "stakeholders", "area": "areas"}  # facet id -> its label set


def unit(i, themes=(), stakeholders=(), areas=()):
    labels = {"themes": frozenset(themes), "stakeholders": frozenset(stakeholders),
              "areas": frozenset(areas)}
    return GoldUnit(f"d-000{i}", "d", f"gold.jsonl:{i}", f"anchor {i} " * 5, labels)


# gold  x: u1 u2 u5      pred x: u1 u3 u5  -> TP u1,u5  FN u2  FP u3  TN u4
# gold  y: -             pred y: -         -> all TN: scores 0 (zero_division), kappa undefined
# gold  z: u5            pred z: -         -> FN u5, TN 4
UNITS = [unit(1, "x"), unit(2, "x"), unit(3), unit(4), unit(5, "xz")]
PREDICTED = {"themes": {"d-0001": {"x"}, "d-0003": {"x"}, "d-0005": {"x"}}}
CODINGS = [{"segment_id": s, "theme": "x", "rule": "x_rule", "evidence_text": f"ev {s}"}
           for s in ("d-0001", "d-0003", "d-0005")]


def written(rows, table):
    """Rows as the table's CSV cells (four-decimal floats, true/false, "" when undefined)."""
    return records(cells(frame(table, rows), table))


def themes_rows():
    return {r["label"]: r for r in written(v.score(UNITS, PREDICTED, LABELS), "coding_validation")
            if r["label_set"] == "themes"}


def test_per_label_scores_by_hand():
    rows = themes_rows()
    x = rows["x"]
    assert (x["tp"], x["fp"], x["fn"], x["tn"]) == ("2", "1", "1", "1")
    assert (x["tp_ids"], x["fp_ids"], x["fn_ids"]) == ("d-0001 d-0005", "d-0003", "d-0002")
    # P = R = F1 = 2/3
    assert (x["precision"], x["recall"], x["f1"]) == ("0.6667", "0.6667", "0.6667")
    # p_o = 3/5 = 0.6; p_e = 0.6*0.6 + 0.4*0.4 = 0.52; kappa = 0.08/0.48 = 0.1667
    assert x["kappa"] == "0.1667"
    # n = 10 values: n_0 = 4, n_1 = 6; 2 disagreeing units -> sum o_01 + o_10 = 4;
    # alpha = 1 - (n-1) * 4 / (2 * n_0 * n_1) = 1 - 36/48 = 0.25
    assert x["alpha"] == "0.2500"
    y = rows["y"]
    assert (y["precision"], y["recall"], y["f1"], y["kappa"], y["alpha"]) == (
        "0.0000", "0.0000", "0.0000", "", "")
    z = rows["z"]
    # p_o = 0.8, p_e = 0.2*0 + 0.8*1 = 0.8 -> kappa 0; alpha = 1 - 9*2/(2*9*1) = 0
    assert (z["tp"], z["fn"], z["f1"], z["kappa"], z["alpha"]) == ("0", "1", "0.0000",
                                                                   "0.0000", "0.0000")


def test_macro_and_micro_by_hand():
    rows = themes_rows()
    macro, micro = rows[v.MACRO], rows[v.MICRO]
    # macro over active labels x and z (y never occurs): F1 = (2/3 + 0)/2
    assert (macro["n_labels"], macro["f1"], macro["precision"]) == ("2", "0.3333", "0.3333")
    assert macro["kappa"] == ""
    # micro: TP 2, FP 1, FN 2, TN 10; P = 2/3, R = 1/2, F1 = 4/7
    assert (micro["tp"], micro["fp"], micro["fn"], micro["tn"]) == ("2", "1", "2", "10")
    assert (micro["precision"], micro["recall"], micro["f1"]) == ("0.6667", "0.5000", "0.5714")
    # 15 decisions: p_o = 12/15 = 0.8; gold yes 4, pred yes 3;
    # p_e = (4*3 + 11*12)/225 = 0.64; kappa = 0.16/0.36 = 0.4444
    assert micro["kappa"] == "0.4444"
    # n = 30: n_1 = 7, n_0 = 23, 3 disagreeing decisions -> 6; alpha = 1 - 29*6/(2*23*7)
    assert micro["alpha"] == "0.4596"


def test_rows_match_schemas_and_are_deterministic():
    rows = v.score(UNITS, PREDICTED, LABELS)
    assert rows == v.score(UNITS, PREDICTED, LABELS)
    dis = v.disagreements(UNITS, PREDICTED, CODINGS, [], LABELS, FACET_SETS)
    for rows_, fields, name in ((rows, v.VALIDATION_FIELDS, "coding_validation"),
                                (dis, v.DISAGREEMENT_FIELDS, "coding_disagreements")):
        spec = yaml.safe_load((SCHEMAS / f"{name}.schema.yaml").read_text(encoding="utf-8"))
        assert fields == spec["required"]
        spec = {k: v for k, v in spec.items() if k != "sort_by"}  # qualtrace's own keyword
        for row in written(rows_, name):
            jsonschema.validate(row, spec)


def test_disagreements_list_each_mismatch_with_rule():
    dis = written(v.disagreements(UNITS, PREDICTED, CODINGS, [], LABELS, FACET_SETS),
                  "coding_disagreements")
    assert [(d["segment_id"], d["label"], d["error"]) for d in dis] == [
        ("d-0002", "x", "false_negative"), ("d-0003", "x", "false_positive"),
        ("d-0005", "z", "false_negative")]
    fp = dis[1]
    assert (fp["in_gold"], fp["in_pipeline"], fp["rule"], fp["evidence_text"]) == (
        "false", "true", "x_rule", "ev d-0003")
    assert fp["gold_source"] == "gold.jsonl:3"


def test_predicted_labels_reads_codings_and_facets():
    facets = [{"segment_id": "s1", "facet": "stakeholder", "value": "client"},
              {"segment_id": "s1", "facet": "area", "value": "rural"},
              {"segment_id": "s1", "facet": "other", "value": "ignored"}]
    pred = v.predicted_labels([{"segment_id": "s1", "theme": "x"}], facets, FACET_SETS)
    assert pred["themes"]["s1"] == {"x"}
    assert pred["stakeholders"]["s1"] == {"client"}
    assert pred["areas"]["s1"] == {"rural"}


# --- loading gold --------------------------------------------------------------------------

RAW = ("A heading that nobody codes\n\n"
       "The first paragraph talks about relationships with workers at some length.\n"
       "The second paragraph is about resources, staffing and caseloads in rural areas.\n")
FIRST = "The first paragraph talks about relationships"
SECOND = "The second paragraph is about resources, staffing"


def corpus():
    starts = [0, RAW.index("The first"), RAW.index("The second")]
    ends = [RAW.index("\n"), RAW.index("\nThe second"), len(RAW) - 1]
    segments = [{"segment_id": f"doc-000{i + 1}", "doc_id": "doc", "start": s, "end": e}
                for i, (s, e) in enumerate(zip(starts, ends))]
    documents = [{"doc_id": "doc", "path": "data/raw/doc.txt"}]
    return {"doc.txt": RAW}, segments, documents


def gold_line(anchor=FIRST, doc="doc.txt", **labels):
    obj = {"doc": doc, "anchor": anchor, "themes": [], "stakeholders": [], "areas": []}
    obj.update(labels)
    return json.dumps(obj)


def load(tmp_path, *lines):
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw, segments, documents = corpus()
    return path, lambda: v.load_gold([path], raw, segments, documents, LABELS)


def test_load_gold_maps_anchors_to_segments(tmp_path):
    _, run = load(tmp_path, gold_line(SECOND, themes=["y"], areas=["rural"]), "",
                  gold_line(FIRST, themes=["x"]), gold_line(FIRST, themes=["x"]))
    units = run()
    assert [(u.segment_id, sorted(u.labels["themes"])) for u in units] == [
        ("doc-0002", ["x"]), ("doc-0003", ["y"])]
    assert units[0].source.endswith("gold.jsonl:3")  # blank line 2 still counts as a line


@pytest.mark.parametrize("bad_line, message", [
    ('{"doc": "doc.txt", "anchor": ', "invalid JSON"),
    ('["not", "an", "object"]', "expected a JSON object"),
    (json.dumps({"doc": "doc.txt", "anchor": FIRST, "themes": []}),
     "missing key(s) stakeholders, areas"),
    (gold_line(doc="other.txt"), "unknown doc 'other.txt'"),
    (gold_line(anchor="This sentence does not occur anywhere in the document."),
     "anchor not found"),
    (gold_line(anchor="short anchor"), "40+ characters"),
    (gold_line(anchor="workers at some length.\nThe second paragraph is"),
     "anchor straddles segments"),
    (gold_line(anchor="\n\nThe first paragraph talks about relationships"),
     "starts in no segment"),
    (gold_line(themes=["x", "nonsense"]), "unknown themes label(s) nonsense"),
    (gold_line(stakeholders="client"), "stakeholders must be a list"),
])
def test_load_gold_errors_name_file_and_line(tmp_path, bad_line, message):
    path, run = load(tmp_path, gold_line(SECOND), bad_line)
    with pytest.raises(GoldError, match=re.escape(f"{path}:2: ") + ".*" + re.escape(message)):
        run()


def test_load_gold_rejects_conflicting_duplicate(tmp_path):
    path, run = load(tmp_path, gold_line(themes=["x"]), gold_line(SECOND),
                     gold_line("paragraph talks about relationships with workers", themes=["y"]))
    with pytest.raises(GoldError, match=re.escape(f"{path}:3: unit doc-0002 is already coded "
                                                  f"with different labels at {path}:1")):
        run()


def test_no_gold_gives_empty_tables():
    raw, segments, documents = corpus()
    assert v.validate([], raw, segments, documents, CODINGS, [], LABELS,
                      FACET_SETS) == ([], [])


def test_notebook_runs_standalone_without_gold(tmp_path, monkeypatch):
    from qualtrace.common.tables import write_table
    from workflow_helpers import read_rows
    raw, segments, documents = corpus()
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "doc.txt").write_text(RAW, encoding="utf-8")
    processed = tmp_path / "data" / "processed"
    write_table([{**d, "sha256": "0" * 64, "n_chars": len(RAW), "source_name": "doc.txt"}
                 for d in documents], processed / "documents.csv")
    write_table([{**s, "kind": "paragraph", "line": 1, "text": RAW[s["start"]:s["end"]],
                  "boilerplate": False, "repeated_across_documents": False}
                 for s in segments], processed / "segments.csv")
    write_table([], processed / "codings.csv")
    write_table([], processed / "facets.csv")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "codebook.yaml").write_text(yaml.safe_dump({
        "codebook": "t", "version": 1,
        "themes": [{"id": "x", "label": "X", "definition": "x", "rules": []}],
        "facets": [{"id": f, "label": f, "definition": f,
                    "values": [{"id": value, "label": value, "definition": value}]}
                   for f, value in (("stakeholder", "client"), ("area", "rural"))]}))
    monkeypatch.chdir(tmp_path)
    notebook = Path(__file__).resolve().parents[1] / "analysis" / "validation.py"
    runpy.run_path(str(notebook))
    text = (processed / "coding_validation.csv").read_text(encoding="utf-8")
    assert text == ",".join(v.VALIDATION_FIELDS) + "\n"
    assert read_rows(processed / "coding_disagreements.csv") == []
    # with a gold file the same run scores it
    (tmp_path / "data" / "gold").mkdir()
    (tmp_path / "data" / "gold" / "g.jsonl").write_text(gold_line(themes=["x"]) + "\n")
    runpy.run_path(str(notebook))
    rows = read_rows(processed / "coding_validation.csv")
    assert [(r["label_set"], r["label"], r["fn"]) for r in rows][:3] == [
        ("themes", "x", "1"), ("themes", v.MACRO, "1"), ("themes", v.MICRO, "1")]


def test_label_sets_follow_the_codebook_s_facets_and_their_plurals(tmp_path):
    from qualtrace.coding.codebook import load_codebook

    fixture = Path(__file__).resolve().parent / "fixtures" / "otherfacets"
    codebook = load_codebook(fixture / "config" / "codebook.yaml", terms=False)
    label_sets = v.label_sets_from_codebook(codebook)
    assert label_sets == {"themes": ["opening_hours", "digital_access", "staffing"],
                          "speaker_roles": ["resident", "librarian", "volunteer"],
                          "settings": ["branch", "mobile", "remote"],
                          "media": ["print", "digital"]}
    assert v.facet_sets_from_codebook(codebook) == {
        "speaker_role": "speaker_roles", "setting": "settings", "medium": "media"}
    # a gold line of this study must carry this study's keys, not another's
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({"doc": "doc.txt", "anchor": FIRST, "themes": [],
                                "stakeholders": [], "areas": []}) + "\n", encoding="utf-8")
    raw, segments, documents = corpus()
    with pytest.raises(GoldError, match=re.escape(
            f"{path}:1: missing key(s) speaker_roles, settings, media")):
        v.load_gold([path], raw, segments, documents, label_sets)
