"""End to end (issue 13, faults 1, 6, 9, 10, 14, 16): bad input is refused with one line naming
the file and the place, before any job runs, and nothing already built is touched; an
error-severity check failure keeps the check tables and stops the build at the gate."""
from __future__ import annotations

import hashlib
import os
import re
import resource
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest

from conftest import MINI
from test_yaml_limits import alias_bomb
from workflow_helpers import SNAKEFILE, make_project, planned_jobs, read_rows, snakemake

pytestmark = pytest.mark.slow

TABLES = ["documents", "segments", "codings", "facets", "checks", "check_items",
          "key_point_support", "theme_summary"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = make_project(tmp_path_factory.mktemp("refusals"), MINI)
    snakemake(work)
    return work


def hashes(work: Path) -> dict[str, str]:
    files = [work / f"data/processed/{t}.csv" for t in TABLES] + sorted(
        (work / "reports").glob("summary.*"))
    return {str(f.relative_to(work)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


class edited:
    """Change a file of the project for one test; put its bytes and mtime back after."""

    def __init__(self, path: Path, change):
        self.path, self.change = path, change

    def __enter__(self):
        self.before = self.path.read_bytes() if self.path.exists() else None
        self.stat = self.path.stat() if self.path.exists() else None
        self.change(self.path)
        return self.path

    def __exit__(self, *exc):
        if self.before is None:
            self.path.unlink(missing_ok=True)
        else:
            self.path.write_bytes(self.before)
            os.utime(self.path, ns=(self.stat.st_atime_ns, self.stat.st_mtime_ns))


def refused(work: Path, *args: str) -> str:
    """Run the build expecting a refusal before any job: return stderr."""
    before = hashes(work)
    result = snakemake(work, *args, check=False)
    assert result.returncode != 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert not re.search(r"^(?:local)?rule \w+:$", output, re.MULTILINE), "a job ran:\n" + output
    assert hashes(work) == before, "a refused build changed what was built"
    return result.stderr


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("qualtrace: error: ")]
    assert len(lines) == 1, stderr
    return lines[0][len("qualtrace: error: "):]


def replace(old: str, new: str):
    def change(path: Path):
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {path}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return change


def append(text: str):
    return lambda path: path.write_text(path.read_text(encoding="utf-8") + text,
                                        encoding="utf-8")


# ---------------------------------------------------------------- fault 16
def test_config_syntax_error_names_file_line_and_column(built):
    config = built / "config/config.yaml"
    line = next(i for i, text in enumerate(config.read_text().splitlines(), 1)
                if "ingestion_jobs:" in text)
    with edited(config, replace("ingestion_jobs: 32", "ingestion_jobs 32")):
        message = one_error_line(refused(built))
    assert message.startswith(f"config/config.yaml:{line}:3: not valid YAML"), message
    assert "not valid JSON or YAML" not in message


def test_codebook_typo_is_reported_once_before_any_job(built):
    codebook = built / "config/codebook.yaml"
    line = next(i for i, text in enumerate(codebook.read_text().splitlines(), 1)
                if text.strip().startswith("definition:"))
    with edited(codebook, replace("    definition:", "    definiton:")):
        message = one_error_line(refused(built, "--cores", "4"))
    assert re.match(rf"config/codebook\.yaml:{line}:\d+: .*unknown key 'definiton'", message)


def test_codebook_edit_still_reruns_coding_and_never_ingestion(built):
    """The preflight validates an edited codebook, and the DAG is what it was."""
    assert planned_jobs(built)[0] == {}, "a finished build has nothing to do"
    with edited(built / "config/codebook.yaml", append("# a reviewer's note\n")):
        jobs, _ = planned_jobs(built)
    assert jobs["theme_codings"] == 1 and jobs["consistency_checks"] == 1
    assert jobs["checks_gate"] == 1
    assert "segment_batch" not in jobs and "segments_table" not in jobs


def test_codebook_bad_term_regex_is_refused_before_coding(built):
    codebook = built / "config/codebook.yaml"
    text = codebook.read_text()
    term = re.search(r"any: \[([^\]'\"@]+?)[,\]]", text)
    assert term, "the test expects a plain `any: [...]` list in the codebook"
    with edited(codebook, replace(term.group(0), term.group(0).replace(
            term.group(1), "re:(unclosed", 1))):
        message = one_error_line(refused(built))
    assert message.startswith("config/codebook.yaml:") and "unclosed" in message, message


def test_missing_render_engine_is_refused_before_the_report_jobs(built, monkeypatch):
    """Snakemake deletes a job's old outputs before running it: a report job that could only
    fail (no quarto) must not start, or report_numbers.csv and the report are lost."""
    numbers = built / "data/processed/report_numbers.csv"
    assert numbers.is_file()
    monkeypatch.setenv("PATH", os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if not Path(d, "quarto").exists()))
    with edited(built / "config/config.yaml", replace("  engine: auto", "  engine: quarto")):
        message = one_error_line(refused(built))
    assert message == ("config/config.yaml: render.engine is 'quarto' but no `quarto` binary "
                       "is on PATH; install Quarto or set render.engine to 'auto' or 'pandoc'")
    assert numbers.is_file()


# ---------------------------------------------------------------- fault 6
def _limited_snakemake(work: Path) -> tuple[subprocess.CompletedProcess, float]:
    def limit():  # on code without the bound Snakemake takes ~6 GB and ~100 s: fail, not swap
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory", str(work),
         "--cores", "2"], capture_output=True, text=True, cwd=work, timeout=120,
        preexec_fn=limit)
    return result, time.monotonic() - start


@pytest.mark.parametrize("name", ["config.yaml", "codebook.yaml"])
def test_alias_bomb_is_refused_in_seconds(built, name):
    path = built / "config" / name
    before = hashes(built)
    with edited(path, append(alias_bomb(key="bomb"))):
        result, seconds = _limited_snakemake(built)
    assert result.returncode != 0 and seconds < 30, (seconds, result.stderr[-2000:])
    message = one_error_line(result.stderr)
    assert re.match(rf"config/{name}:\d+:\d+: the alias \*bomb\d ", message), message
    assert hashes(built) == before


# ---------------------------------------------------------------- fault 1
def test_symlink_in_raw_is_refused_and_its_target_never_published(built, tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:SECRET-OUTSIDE-THE-PROJECT:/root:/bin/bash\n")
    link = built / "data/raw/zz_notes.txt"
    link.symlink_to(secret)
    try:
        message = one_error_line(refused(built))
    finally:
        link.unlink()
    assert message.startswith("data/raw/zz_notes.txt: is a symbolic link"), message
    for path in (built / "data").rglob("*"):
        if path.is_file():
            assert b"SECRET-OUTSIDE" not in path.read_bytes(), path


def test_corpus_pattern_reaching_outside_is_refused(built, tmp_path):
    (tmp_path / "elsewhere.txt").write_text("Elsewhere\n\nA paragraph from outside.\n")
    pattern = os.path.relpath(tmp_path, built) + "/*.txt"
    with edited(built / "config/config.yaml", replace(
            'patterns: ["data/raw/*.txt"', f'patterns: ["{pattern}", "data/raw/*.txt"')):
        message = one_error_line(refused(built))
    assert re.match(r".*elsewhere\.txt: its folder resolves to .*, outside the project "
                    r"directory", message), message


def test_a_gold_file_behind_a_link_is_refused_and_never_read(built, tmp_path):
    secret = tmp_path / "gold.jsonl"
    secret.write_text('{"SECRET-OUTSIDE-THE-PROJECT": 1}\n')
    link = built / "data/gold/zz_linked.jsonl"
    made = not link.parent.exists()
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(secret)
    try:
        message = one_error_line(refused(built))
    finally:
        link.unlink()
        if made:
            link.parent.rmdir()
    assert message.startswith("data/gold/zz_linked.jsonl: is a symbolic link"), message
    assert message.endswith("a gold file (config gold.patterns) must be a regular file inside "
                            "the project") and "SECRET" not in message


# ---------------------------------------------------------------- fault 10
def test_nfc_and_nfd_copies_are_refused(built):
    text = "Caf\u00e9 notes\n\nThe r\u00e9sum\u00e9 of what clients said in K\u00f6ln.\n"
    first, second = built / "data/raw/zz_cafe.txt", built / "data/raw/zz_cafe_nfd.txt"
    first.write_text(unicodedata.normalize("NFC", text), encoding="utf-8")
    second.write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    try:
        message = one_error_line(refused(built))
    finally:
        first.unlink()
        second.unlink()
    assert message.startswith("data/raw/zz_cafe_nfd.txt: has the same text as "
                              "data/raw/zz_cafe.txt"), message


# ---------------------------------------------------------------- fault 14
def test_brace_name_is_refused_by_name_before_the_dag(built):
    odd = built / "data/raw/notes {draft}.txt"
    odd.write_text("Draft notes\n\nA paragraph.\n", encoding="utf-8")
    try:
        stderr = refused(built)
    finally:
        odd.unlink()
    assert "WildcardError" not in stderr
    message = one_error_line(stderr)
    assert message.startswith("data/raw/notes {draft}.txt: the name contains '{draft}'"), message


# ---------------------------------------------------------------- fault 9
def test_failed_error_check_keeps_its_tables_and_stops_at_the_gate(tmp_path):
    work = make_project(tmp_path, MINI)
    snakemake(work)
    report = {p.name: p.read_bytes() for p in (work / "reports").glob("summary.*")}
    assert report and (work / "data/processed/checks_passed.txt").is_file()
    config = work / "config/config.yaml"
    config.write_text(config.read_text().replace(
        "  severity: {}", "  severity:\n    attribution_labels: error"))
    result = snakemake(work, check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert re.search(r"qualtrace: error: check attribution_labels failed \(.*\):\n  - ",
                     result.stderr), result.stderr[-3000:]
    # What failed is on disk for the reviewer; the gate's stamp is not; the old report stays.
    checks = {c["check_id"]: c for c in read_rows(work / "data/processed/checks.csv")}
    assert (checks["attribution_labels"]["severity"],
            checks["attribution_labels"]["status"]) == ("error", "fail")
    items = [i for i in read_rows(work / "data/processed/check_items.csv")
             if i["check_id"] == "attribution_labels"]
    assert items and all(i["item"] in result.stderr for i in items[:10])
    assert (work / "data/processed/key_point_support.csv").is_file()
    assert not (work / "data/processed/checks_passed.txt").exists()
    assert {p.name: p.read_bytes() for p in (work / "reports").glob("summary.*")} == report
    assert "check attribution_labels failed" in (work / "logs/checks_gate.log").read_text()
    # Back to a warning: only the checks, the gate and what follows them run again.
    config.write_text(config.read_text().replace(
        "  severity:\n    attribution_labels: error", "  severity: {}"))
    rerun = snakemake(work)
    ran = set(re.findall(r"^(?:local)?rule (\w+):$", rerun.stdout + rerun.stderr, re.MULTILINE))
    assert "segment_batch" not in ran and "theme_codings" not in ran, ran
    assert {"consistency_checks", "checks_gate"} <= ran
    assert (work / "data/processed/checks_passed.txt").is_file()
