"""Run the real workflow on a copy of a fixture corpus (shared by the end-to-end tests)."""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "Snakefile"
JOB = re.compile(r"^(?:local)?rule (\w+):$", re.MULTILINE)
OUTPUT = re.compile(r"^\s+output: (.+)$", re.MULTILINE)


def make_project(tmp_path: Path, fixture: Path) -> Path:
    """A work directory with the fixture's raw data (and gold, if any) and its config (a study
    of its own) or else the repository's; never anything generated."""
    work = tmp_path / "project"
    for part in ("raw", "gold"):
        if (fixture / "data" / part).is_dir():
            shutil.copytree(fixture / "data" / part, work / "data" / part)
    config = fixture / "config" if (fixture / "config").is_dir() else ROOT / "config"
    shutil.copytree(config, work / "config")
    # The scores file the config names (validity.external_scores): the fixture's, else the
    # repository's.
    import yaml

    settings = yaml.safe_load((work / "config" / "config.yaml").read_text(encoding="utf-8"))
    scores = (settings.get("validity") or {}).get("external_scores")
    if scores:
        source = fixture / scores if (fixture / scores).is_file() else ROOT / scores
        (work / scores).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, work / scores)
    return work


def remove_generated(work: Path, names) -> None:
    """Delete what a build made under `work` (files or folders named relative to it)."""
    for name in names:
        path = work / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def snakemake(work: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONHASHSEED="0")
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory", str(work),
         "--cores", "2", *args],
        capture_output=True, text=True, env=env, cwd=work)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{result.stdout}\n{result.stderr}")
    return result


def planned_jobs(work: Path) -> tuple[Counter, set[str]]:
    """Rules and outputs a dry run would execute."""
    out = snakemake(work, "--dry-run").stdout
    outputs = {path.strip() for line in OUTPUT.findall(out) for path in line.split(",")}
    return Counter(JOB.findall(out)), outputs


def read_rows(path) -> list[dict[str, str]]:
    """A CSV file's rows as written (text cells), to check what is on disk independently of
    the package's typed reader."""
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
