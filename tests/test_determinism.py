"""Same inputs, same bytes: two clean builds agree; a killed build resumes to the same result."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import MINI
from workflow_helpers import ROOT, SNAKEFILE, make_project, snakemake

pytestmark = pytest.mark.slow


def output_hashes(work) -> dict[str, str]:
    """Every generated file a reader or a reviewer sees (logs and benchmarks excluded)."""
    files = [*(work / "data" / "processed").rglob("*"), *(work / "reports").rglob("*"),
             work / "ro-crate-metadata.json"]
    return {str(p.relative_to(work)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(files) if p.is_file()}


def test_two_clean_builds_are_byte_identical(tmp_path, mini_build):
    other = make_project(tmp_path, MINI)
    snakemake(other)
    first, second = output_hashes(mini_build), output_hashes(other)
    assert len(first) >= 15
    assert first == second


def interrupt_during_coding(work, sig) -> None:
    """Start a build and send `sig` to its whole process tree once coding has begun."""
    process = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory", str(work),
         "--cores", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    deadline = time.monotonic() + 60
    while not (work / "data" / "processed" / "segments.csv").exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    time.sleep(0.3)
    os.killpg(process.pid, sig)
    process.wait(timeout=60)


def test_interrupted_build_resumes_to_the_clean_result(tmp_path, mini_build):
    work = make_project(tmp_path, MINI)
    interrupt_during_coding(work, signal.SIGINT)
    snakemake(work)
    assert output_hashes(work) == output_hashes(mini_build)


def test_killed_build_resumes_after_unlock(tmp_path, mini_build):
    work = make_project(tmp_path, MINI)
    interrupt_during_coding(work, signal.SIGKILL)
    # Only temporaries can be half-written: final names appear by atomic rename.
    for path in (work / "data" / "processed").glob("*.csv"):
        assert path.read_bytes().endswith(b"\n")
    snakemake(work, "--unlock")
    snakemake(work, "--rerun-incomplete")
    assert output_hashes(work) == output_hashes(mini_build)
