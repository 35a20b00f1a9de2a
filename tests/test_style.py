"""Workflow style: the Snakefile and every rule file are as snakefmt writes them
(settings in pyproject.toml's [tool.snakefmt])."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_snakefmt_check_is_clean():
    pytest.importorskip("snakefmt")
    files = [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]
    result = subprocess.run([str(Path(sys.executable).parent / "snakefmt"), "--check",
                             *map(str, files)], capture_output=True, text=True, cwd=ROOT,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
