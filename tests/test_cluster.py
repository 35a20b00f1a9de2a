"""Every job is self-contained: the mini corpus built through a cluster executor equals a local build.

`snakemake --executor cluster-generic` hands each job to tests/fixtures/cluster/submit.sh, a tiny
local scheduler that runs the job script in the background with a scrubbed environment (PATH,
HOME, LANG, TMPDIR only). Each job is then a fresh Snakemake process that sees only its declared
inputs, outputs, parameters and declared environment variables, as on a real cluster node; if
any job relied on state of the submitting process, the outputs would differ or the job fail.
SOURCE_DATE_EPOCH is pinned to a date no job could derive by itself (not the last commit's), so
the dated outputs (REFI-QDA project, provenance, RO-Crate, report) show whether it reached them.
"""
from __future__ import annotations

import hashlib
import importlib.util
import re
import subprocess
import sys

import pytest

from conftest import MINI
from workflow_helpers import ROOT, SNAKEFILE, make_project, remove_generated, snakemake

pytestmark = pytest.mark.slow

SUBMIT = ROOT / "tests" / "fixtures" / "cluster" / "submit.sh"
EPOCH = "1700000000"  # 2023-11-14T22:13:20Z
GENERATED = ("data/processed", "data/interim", "reports", "logs", "benchmarks", ".snakemake",
             "ro-crate-metadata.json")
JOB_LOG = re.compile(r"^snakejob\.(\w+)\.\d+\.")


def output_hashes(work) -> dict[str, str]:
    files = [*(work / "data" / "processed").rglob("*"), *(work / "data" / "interim").rglob("*"),
             *(work / "reports").rglob("*"), work / "ro-crate-metadata.json"]
    return {str(p.relative_to(work)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(files) if p.is_file()}


def clean(work) -> None:
    remove_generated(work, GENERATED)


def test_cluster_generic_build_equals_local_build(tmp_path, monkeypatch):
    if importlib.util.find_spec("snakemake_executor_plugin_cluster_generic") is None:
        pytest.fail("snakemake-executor-plugin-cluster-generic is not installed; "
                    "install requirements-dev.lock")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    logs = tmp_path / "joblogs"
    monkeypatch.setenv("CLUSTER_LOG_DIR", str(logs))
    work = make_project(tmp_path, MINI)

    local = snakemake(work)
    local_rules = set(re.findall(r"^(?:local)?rule (\w+):$", local.stdout + local.stderr,
                                 re.MULTILINE)) - {"all"}
    expected = output_hashes(work)
    assert len(expected) >= 15
    clean(work)

    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory", str(work),
         "--executor", "cluster-generic", "--cluster-generic-submit-cmd", f"bash {SUBMIT}",
         "--jobs", "2", "--latency-wait", "60", "--seconds-between-status-checks", "1"],
        capture_output=True, text=True, cwd=work, timeout=900)
    job_logs = sorted(logs.glob("*.log")) if logs.is_dir() else []
    if result.returncode != 0:
        tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                          for p in job_logs)
        raise AssertionError(f"cluster build failed:\n{result.stderr[-4000:]}\n{tails}")

    # Every job of the local build ran as a cluster job (none fell back to the main process).
    submitted = {JOB_LOG.match(p.name).group(1) for p in job_logs if JOB_LOG.match(p.name)}
    assert submitted == local_rules

    actual = output_hashes(work)
    assert sorted(actual.keys() ^ expected.keys()) == []  # names the files only one build made
    differing = sorted(path for path in expected if actual[path] != expected[path])
    assert not differing, (
        f"cluster jobs made different {differing}: a job depends on state outside its declared "
        "inputs (for dated outputs: SOURCE_DATE_EPOCH must be declared with `envvars:` so the "
        "submitting run's value reaches every job)")
