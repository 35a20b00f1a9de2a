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
    from qualtrace.corpus.ingest import IngestRules

    return IngestRules.from_config(config["ingest"])


@pytest.fixture(scope="session")
def mini_build(tmp_path_factory):
    """The whole workflow run once on the mini corpus (tests that change it must restore it)."""
    from workflow_helpers import make_project, snakemake

    work = make_project(tmp_path_factory.mktemp("mini"), MINI)
    snakemake(work)
    return work


@pytest.fixture(scope="session")
def seeds_build(tmp_path_factory):
    """The whole workflow run once on the seed chapters and their gold annotations."""
    from workflow_helpers import make_project, snakemake

    work = make_project(tmp_path_factory.mktemp("seeds"), ROOT)
    snakemake(work)
    return work


@pytest.fixture(scope="session")
def quarto_mini(mini_build, tmp_path_factory):
    """The mini corpus's .qmd rendered by a real `quarto render` (HTML and PDF), once."""
    from test_report_helpers import quarto_render_copy, require_quarto

    out = tmp_path_factory.mktemp("quarto-mini")
    quarto_render_copy(mini_build, out, require_quarto())
    return out
