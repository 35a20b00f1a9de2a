"""Scores measured on other gold corpora (config validity.external_scores): the strict reader,
held-out sets before tuned ones, the codebook they were measured with, and (end to end on the
mini corpus) key findings that quote the held-out numbers as registered, traceable numbers."""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest

from qualtrace.analysis.gold_scores import SCORE_FIELDS, read_scores, record
from qualtrace.common.io import InputError
from qualtrace.report import validity
from qualtrace.report.numbers import Registry
from test_report_helpers import evidence_item, numbers, section_of, soup
from workflow_helpers import ROOT, make_project, planned_jobs, read_rows, snakemake

HASH_A, HASH_B = "a" * 64, "b" * 64
MINI = ROOT / "tests" / "fixtures" / "mini"


def _row(gold_set, tuned, label_set, p, r, f1, sha=HASH_A, n="10"):
    return [gold_set, tuned, label_set, n, p, r, f1, sha, f"python score {gold_set}"]


def _write(path, rows, header=SCORE_FIELDS):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


# ---------------------------------------------------------------------------- the reader
def test_reader_keeps_file_order_and_lines(tmp_path):
    path = _write(tmp_path / "s.csv", [_row("t", "true", "themes", "0.9", "0.8", "0.85"),
                                       _row("h", "false", "themes", "0.6", "", "")])
    found = read_scores(path)
    assert [(s.gold_set, s.tuned, s.line) for s in found] == [("t", True, 2), ("h", False, 3)]
    assert found[1].recall == "" and found[1].f1 == ""  # undefined is kept as undefined


@pytest.mark.parametrize("bad, where", [
    (_row("h", "maybe", "themes", "0.6", "0.5", "0.55"), "column tuned"),
    (_row("h", "false", "Themes!", "0.6", "0.5", "0.55"), "column label_set"),
    (_row("h", "false", "themes", "1.6", "0.5", "0.55"), "column precision"),
    (_row("h", "false", "themes", "0.6", "nan", "0.55"), "column recall"),
    (_row("h", "false", "themes", "0.6", "0.5", "x"), "column f1"),
    (_row("h", "false", "themes", "0.6", "0.5", "0.55", n="0"), "column n_units"),
    (_row("h", "false", "themes", "0.6", "0.5", "0.55", sha="abc"), "column codebook_sha256"),
    (_row("", "false", "themes", "0.6", "0.5", "0.55"), "column gold_set"),
    (_row("h", "false", "themes", "0.6", "0.5", "0.55")[:8], "8 cells"),
    (_row("ok", "false", "themes", "0.6", "0.5", "0.55"), "again (first on line 2)"),
])
def test_a_malformed_row_is_one_line_naming_file_and_line(tmp_path, bad, where):
    path = _write(tmp_path / "s.csv", [_row("ok", "false", "themes", "0.6", "0.5", "0.55"),
                                       bad])
    with pytest.raises(InputError) as err:
        read_scores(path)
    message = str(err.value)
    assert message.startswith(f"{path}:3: ") and where in message and "\n" not in message


def test_a_malformed_file_is_named(tmp_path):
    old = _write(tmp_path / "old.csv", [], header=SCORE_FIELDS[:-2] + ["command"])
    with pytest.raises(InputError, match=r"old\.csv:1: missing column\(s\) codebook_sha256"):
        read_scores(old)
    with pytest.raises(InputError, match=r"empty\.csv:2: no scores"):
        read_scores(_write(tmp_path / "empty.csv", []))
    with pytest.raises(InputError, match=r"gone\.csv: the scores file does not exist"):
        read_scores(tmp_path / "gone.csv")
    (tmp_path / "bin.csv").write_bytes(b"gold_set\n\xff\xfe\n")
    with pytest.raises(InputError, match=r"bin\.csv: not valid UTF-8"):
        read_scores(tmp_path / "bin.csv")


def test_record_replaces_one_set_and_sorts_held_out_first(tmp_path):
    path = tmp_path / "s.csv"
    micro = [{"label_set": "themes", "n_units": "5", "precision": "0.5", "recall": "0.5",
              "f1": "0.5"}]
    record(path, "tuned_set", micro, True, HASH_A, "cmd t")
    record(path, "held_set", micro, False, HASH_A, "cmd h")
    record(path, "tuned_set", [dict(micro[0], f1="0.9")], True, HASH_B, "cmd t2")
    found = read_scores(path)
    assert [(s.gold_set, s.f1, s.codebook_sha256) for s in found] == [
        ("held_set", "0.5", HASH_A), ("tuned_set", "0.9", HASH_B)]


# ------------------------------------------------------------------- the report's wording
def _data(tmp_path, rows, build_hash=HASH_A, note=""):
    path = _write(tmp_path / "scores.csv", rows)
    return SimpleNamespace(
        tables={"coding_validation": [], "coding_validation_by_set": [],
                "coding_disagreements": []},
        gold_units=[], theme_label=lambda t: t, codebook=SimpleNamespace(facets=[]),
        manifest={"codebook": {"sha256": build_hash}}, external_path=str(path),
        external=read_scores(path), external_note=note)


ROWS = [_row("written_on", "true", "themes", "0.95", "0.93", "0.94"),
        _row("unseen_b", "false", "themes", "0.70", "0.48", "0.57"),
        _row("unseen_b", "false", "sites", "0.90", "0.90", "0.90"),
        _row("unseen_a", "false", "themes", "0.72", "0.77", "0.74")]


def test_held_out_sets_come_first_and_the_key_finding_quotes_them(tmp_path):
    reg = Registry()
    data = _data(tmp_path, ROWS)
    text = validity.section(reg, data)
    held, tuned = text.index("{#validity-held-out}"), text.index("{#validity-tuned}")
    assert held < text.index("unseen\\_b") < text.index("unseen\\_a") < tuned
    assert tuned < text.index("written\\_on")
    assert "not a guarantee" in text and "rules' output" in text
    finding = validity.summary(reg, data)
    plain = re.sub(r"\[([^\]]*)\]\([^)]*\)(\{\.num\})?", r"\1", finding)
    # never-tuned first, as a range over the sets, with the weaker of precision and recall
    assert plain.index("never tuned") < plain.index("0.57\u20130.74") < plain.index("0.94")
    assert "recall, 0.48\u20130.77, is the weaker part; precision 0.70\u20130.72" in plain
    assert "sites 0.90" in plain and "optimistic" in plain
    # every number quoted is registered with the file, line and column it was read from
    for item_id in re.findall(r"\(#ev-([^)]+)\)", finding):
        item = reg.items[item_id]
        path, line, column = item.source.rsplit(":", 2)
        assert path == data.external_path
        row = next(s for s in data.external if s.line == int(line))
        assert f"{float(getattr(row, column)):.2f}" == item.value


def test_scores_of_another_codebook_are_said_to_be_from_an_earlier_version(tmp_path):
    same = validity.section(Registry(), _data(tmp_path, ROWS, build_hash=HASH_A))
    assert "with the codebook of this build" in same and "earlier version" not in same
    other = _data(tmp_path, ROWS, build_hash=HASH_B)
    text = validity.section(Registry(), other)
    assert "measured with an earlier version of the codebook" in text
    assert HASH_A in text and HASH_B in text
    assert "earlier version of the codebook" in validity.summary(Registry(), other)


def test_without_a_scores_file_the_report_says_none_was_given():
    data = SimpleNamespace(
        tables={"coding_validation": [], "coding_validation_by_set": [],
                "coding_disagreements": []},
        gold_units=[], theme_label=lambda t: t, codebook=SimpleNamespace(facets=[]),
        manifest={}, external_path="", external=[], external_note="")
    text = validity.section(Registry(), data)
    assert "No scores measured on other gold corpora were given" in text
    assert "validity.external\\_scores" in text or "validity.external_scores" in text
    assert validity.summary(Registry(), data) == ""
    assert "not measured" in validity.gold_sets_context(Registry(), data)["sentence"]


# ------------------------------------------------------------------------ the workflow
def test_a_malformed_scores_file_stops_the_build_naming_file_and_line(tmp_path):
    work = make_project(tmp_path, MINI)
    path = work / "docs" / "gold_set_scores.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace(",false,", ",no,", 1)
    path.write_text("".join(lines), encoding="utf-8")
    result = snakemake(work, "--dry-run", check=False)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "qualtrace: error" in line]
    assert errors == ["qualtrace: error: docs/gold_set_scores.csv:3: column tuned: 'no' is "
                      "not true or false"]
    assert "Traceback" not in result.stderr


def test_config_validity_section_is_schema_checked(tmp_path):
    from qualtrace.common.config import ConfigError, validate_config_file

    config = (ROOT / "config" / "config.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "config.yaml"
    bad.write_text(config.replace("  external_scores:", "  external_score:"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.yaml:\d+:\d+: .*external_score"):
        validate_config_file(bad)


@pytest.mark.slow
def test_mini_key_finding_quotes_held_out_scores_that_trace(mini_build):
    page = soup(mini_build)
    findings = section_of(page, "key-findings")
    bullet = next(li for li in findings.find_all("li")
                  if "Coding validity" in li.get_text())
    text = " ".join(bullet.get_text().split())
    assert text.index("never tuned") < text.index("0.62\u20130.67") < text.index("0.92")
    rows = numbers(mini_build)
    quoted = [evidence_item(a["href"]) for a in bullet.select("a.num")]
    assert quoted and all(rows[i]["source"].startswith("docs/gold_set_scores.csv:")
                          for i in quoted)
    held = section_of(page, "validity-held-out")
    assert held is not None and "never_seen" in held.get_text()
    assert "earlier version of the codebook" in section_of(page, "validity").get_text()
    # trace: says the file, line and column, and checks the file still holds the value
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    item = "validity-external-never_seen-themes-f1"
    out = subprocess.run([sys.executable, "-m", "qualtrace", "trace", item, "--directory",
                          str(mini_build)], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "docs/gold_set_scores.csv, line 4, column f1: verified (unrounded 0.6154)" in \
        out.stdout
    manifest = json.loads((mini_build / "data/processed/run_manifest.json").read_text())
    assert manifest["external_scores"]["path"] == "docs/gold_set_scores.csv"
    record = json.loads((mini_build / "reports/provenance.json").read_text())
    assert record["external_scores"] == manifest["external_scores"]
    assert record["report_items"][item]["source"] == "docs/gold_set_scores.csv:4:f1"
    # a change to the scores file makes the report out of date (it is an input of the rule)
    path = mini_build / "docs" / "gold_set_scores.csv"
    before = path.read_bytes()
    stat = os.stat(path)
    try:
        path.write_bytes(before.replace(b"0.6154", b"0.7154"))
        out = subprocess.run([sys.executable, "-m", "qualtrace", "trace", item,
                              "--directory", str(mini_build)], capture_output=True, text=True,
                             env=env)
        assert out.returncode == 2 and "now holds 0.7154" in out.stderr
        os.utime(path, (stat.st_atime + 100, stat.st_mtime + 100))
        jobs, _ = planned_jobs(mini_build)
        assert jobs["report_source"] == 1 and jobs["run_manifest"] == 1
    finally:
        path.write_bytes(before)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert read_rows(path)  # restored
