"""End to end: the real Snakefile on the mini corpus in tests/fixtures/, run with --directory."""
from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
import yaml

from qualtrace.corpus.discovery import ingestion_batches
from workflow_helpers import ROOT, make_project, planned_jobs, read_rows, snakemake
from conftest import MINI

pytestmark = pytest.mark.slow


@pytest.fixture
def built(mini_build):
    return mini_build


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_tables_follow_the_contract(built):
    documents = read_rows(built / "data/processed/documents.csv")
    segments = read_rows(built / "data/processed/segments.csv")
    assert [d["doc_id"] for d in documents] == ["ch07_compact", "ch08_spaced_crlf"]
    for doc in documents:
        raw = (built / doc["path"]).read_bytes()
        assert doc["sha256"] == hashlib.sha256(raw).hexdigest()
        text = raw.decode("utf-8")
        assert int(doc["n_chars"]) == len(text)
        for seg in (s for s in segments if s["doc_id"] == doc["doc_id"]):
            assert text[int(seg["start"]):int(seg["end"])] == seg["text"]
    # Title and preamble repeat across the two documents: boilerplate in both.
    repeated = [s for s in segments if s["repeated_across_documents"] == "true"]
    assert {s["kind"] for s in repeated} >= {"title", "preamble"}
    assert all(s["boilerplate"] == "true" for s in repeated)
    # The same interview cited in both chapters with two spellings gets one id.
    smtl = {s["speaker_group_raw"] for s in segments
            if s["interview_id"] == "senior_manager_team_leader-03"}
    assert smtl == {"Senior managers / team leaders interview 3",
                    "Senior manager / team leader interview 3"}


def test_editing_one_document_reruns_only_it_and_the_gathers(built):
    assert planned_jobs(built)[0] == {}, "a finished build has nothing to do"
    raw = built / "data/raw/ch07_compact.txt"
    original = raw.read_bytes()
    try:
        raw.write_bytes(original + b"One more finding was reported.\n")
        jobs, outputs = planned_jobs(built)
        jobs_setting = yaml.safe_load((built / "config/config.yaml").read_text())["corpus"]
        batches = ingestion_batches({"ch07_compact": "", "ch08_spaced_crlf": ""},
                                    jobs_setting["ingestion_jobs"])
        edited, other = (next(b for b, docs in batches.items() if doc in docs)
                         for doc in ("ch07_compact", "ch08_spaced_crlf"))
        assert edited != other, "the two documents share a batch: the test proves nothing"
        assert jobs["segment_batch"] == 1
        assert f"data/interim/segments/{edited}.json" in outputs
        assert f"data/interim/segments/{other}.json" not in outputs
        assert jobs["segments_table"] == 1
    finally:
        raw.write_bytes(original)


def test_adding_a_document_adds_it(tmp_path):
    work = make_project(tmp_path, MINI)
    (work / "data/raw/notes on practice.md").write_text(
        "# 9. Notes\n\nA finding about practice.\n", encoding="utf-8")
    snakemake(work)
    documents = read_rows(work / "data/processed/documents.csv")
    added = next(d for d in documents if d["path"].endswith("notes on practice.md"))
    assert added["chapter_number"] == "9" and added["doc_id"].startswith("notes_on_practice-")


@pytest.mark.parametrize("name, data, expected", [
    ("bad.txt", "Caf\u00e9 \u201cquote\u201d".encode("cp1252"), "not valid UTF-8 at byte offset 3"),
    ("nul.txt", b"Title\x00\n", "NUL byte at byte offset 5"),
    ("empty.txt", b"", "the file is empty"),
    ("blank.txt", b" \n\n", "only whitespace"),
])
def test_bad_input_stops_with_clear_message_and_keeps_outputs(built, name, data, expected):
    tables = [built / "data/processed/documents.csv", built / "data/processed/segments.csv"]
    before = [digest(t) for t in tables]
    bad = built / "data/raw" / name
    bad.write_bytes(data)
    try:
        result = snakemake(built, check=False)
        assert result.returncode != 0
        assert f"data/raw/{name}: " in result.stderr and expected in result.stderr
        assert [digest(t) for t in tables] == before
        assert not list((built / "data").rglob(".*.tmp"))
    finally:
        bad.unlink()


def test_duplicate_document_is_refused(built):
    tables = [built / "data/processed/documents.csv", built / "data/processed/segments.csv"]
    before = [digest(t) for t in tables]
    copy = built / "data/raw/zz_copy.txt"
    copy.write_bytes((built / "data/raw/ch07_compact.txt").read_bytes().replace(b"\n", b"\r\n"))
    try:
        result = snakemake(built, check=False)
        assert result.returncode != 0
        assert "data/raw/zz_copy.txt: has the same text as data/raw/ch07_compact.txt" in (
            result.stderr)
        assert [digest(t) for t in tables] == before
    finally:
        copy.unlink()


def test_lint_is_clean():
    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


def test_the_workflow_profile_is_read_on_every_run(tmp_path):
    """profiles/default (rerun-incomplete, which lets a plain rerun resume after Ctrl-C) is
    found beside the Snakefile even when the run's directory is elsewhere."""
    work = make_project(tmp_path, MINI)
    out = snakemake(work, "--dry-run")
    assert "Using workflow specific profile" in out.stdout + out.stderr
    assert "profiles/default" in out.stdout + out.stderr


def test_the_reports_chain_is_scheduled_before_the_side_jobs(tmp_path):
    """Rule priorities (workflow/rules/common.smk): every rule the rendered report waits for,
    except the two small side jobs that run while coding leaves a core idle, is preferred to the
    .qdpx export, which only the provenance manifest waits for. Without them, on 2 cores the
    export took a core ahead of the checks and the report's chain ran on one (issue 14)."""
    import re

    priority = {}
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for name, body in re.findall(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)*)",
                                     smk.read_text(encoding="utf-8"), re.MULTILINE):
            found = re.search(r"^    priority: (\w+)$", body, re.MULTILINE)
            priority[name] = found.group(1) if found else None
    dot = snakemake(make_project(tmp_path, MINI), "--rulegraph").stdout
    label = dict(re.findall(r'(\d+)\[label = "(\w+)"', dot))
    edges = [(label[a], label[b]) for a, b in re.findall(r"(\d+) -> (\d+)", dot)]
    report = {"render_report"}  # the rendered report and every rule it waits for
    while grown := {a for a, b in edges if b in report} - report:
        report |= grown
    assert "refiqda_project" not in report
    assert priority["refiqda_project"] is None
    side = {"rulegraph", "run_manifest"}
    chain = report - side | {"provenance_manifest"}
    unprioritised = sorted(r for r in chain if priority.get(r) is None)
    assert not unprioritised, f"rules on the report's chain without a priority: {unprioritised}"
    assert priority["report_source"] == priority["theme_breakdowns"] == "PRIORITY_CHAIN"
