from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "data" / "raw").glob("*.txt"))
MINI = ROOT / "tests" / "fixtures" / "mini"


@pytest.fixture(scope="session")
def config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def ingest_rules(config):
    from qualtrace.ingest import IngestRules

    return IngestRules.from_config(config["ingest"])
