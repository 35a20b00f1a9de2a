"""What the Snakefile refuses before any job: one line, exit 1, and a passing codebook or corpus
remembered so a no-op start does not redo the work, but any edit is checked again."""
from __future__ import annotations

import os
import shutil
import unicodedata
from pathlib import Path

import pytest

from qualtrace import SCHEMA_DIR
from qualtrace.common import preflight

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = SCHEMA_DIR / "codebook.schema.yaml"


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "a.txt").write_text("Caf\u00e9 notes\n\nOne.\n", encoding="utf-8")
    (tmp_path / "data" / "raw" / "b.txt").write_text("Other notes\n\nTwo.\n", encoding="utf-8")
    shutil.copytree(ROOT / "config", tmp_path / "config")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def stopped(capsys, call) -> str:
    with pytest.raises(SystemExit) as info:
        call()
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qualtrace: error: "), err
    return err[len("qualtrace: error: "):].strip()


def stamps(kind: str) -> list[str]:
    return sorted(p.name for p in Path("data/interim/validated").glob(f"{kind}-*"))


def test_corpus_is_remembered_and_rechecked_after_an_edit(project, capsys):
    patterns = ["data/raw/*.txt"]
    assert sorted(preflight.check_corpus(patterns)) == ["a", "b"]
    first = stamps("corpus")
    assert len(first) == 1
    assert sorted(preflight.check_corpus(patterns)) == ["a", "b"]  # a hit: same stamp
    assert stamps("corpus") == first
    # b becomes a copy of a in another normal form: checked again, refused
    text = Path("data/raw/a.txt").read_text(encoding="utf-8")
    Path("data/raw/b.txt").write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    assert stopped(capsys, lambda: preflight.check_corpus(patterns)) == (
        "data/raw/b.txt: has the same text as data/raw/a.txt; the same document under two "
        "names would be counted twice. Remove one of them from the corpus")
    assert stamps("corpus") == first  # nothing new remembered


def test_no_documents(project, capsys):
    assert stopped(capsys, lambda: preflight.check_corpus(["data/raw/*.md"])).startswith(
        "no input documents: nothing matches ['data/raw/*.md']")


def test_a_link_is_refused_in_one_line(project, capsys):
    os.symlink("/etc/hostname", "data/raw/c.txt")
    assert stopped(capsys, lambda: preflight.check_corpus(["data/raw/*.txt"])).startswith(
        "data/raw/c.txt: is a symbolic link (to /etc/hostname)")


def test_codebook_is_remembered_by_content(project, capsys):
    preflight.check_codebook("config/codebook.yaml", SCHEMA)
    first = stamps("codebook")
    assert len(first) == 1
    preflight.check_codebook("config/codebook.yaml", SCHEMA)
    assert stamps("codebook") == first
    codebook = Path("config/codebook.yaml")
    codebook.write_text(codebook.read_text().replace("    definition:", "    definiton:", 1))
    message = stopped(capsys, lambda: preflight.check_codebook("config/codebook.yaml", SCHEMA))
    assert message.startswith("config/codebook.yaml:") and "unknown key 'definiton'" in message


def test_codebook_term_syntax_is_checked_too(project, capsys):
    codebook = Path("config/codebook.yaml")
    text = codebook.read_text()
    codebook.write_text(text.replace("any: [care and control,", "any: ['re:(unclosed',", 1))
    message = stopped(capsys, lambda: preflight.check_codebook("config/codebook.yaml", SCHEMA))
    assert message.startswith("config/codebook.yaml:") and "unclosed" in message


def test_config_file_errors_are_one_line(project, capsys):
    config = Path("config/config.yaml")
    text = config.read_text().replace("  ingestion_jobs: 32", "  ingestion_jobs 32")
    config.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "ingestion_jobs 32" in t)
    message = stopped(capsys, lambda: preflight.check_config_files(
        ["config/config.yaml"], SCHEMA_DIR / "config.schema.yaml"))
    assert message.startswith(f"config/config.yaml:{line}:3: not valid YAML")


def test_a_codebook_outside_the_project_or_behind_a_link_is_refused_unread(project, capsys):
    outside = project.parent / f"{project.name}-codebook.yaml"
    outside.write_text("SECRET: [\n", encoding="utf-8")
    message = stopped(capsys, lambda: preflight.check_codebook(str(outside), SCHEMA))
    assert message.startswith(f"{outside}: is outside the project directory")
    assert message.endswith("the codebook (config codebook) must be a regular file inside "
                            "the project") and "SECRET" not in message
    os.symlink(outside, "config/linked.yaml")
    message = stopped(capsys, lambda: preflight.check_codebook("config/linked.yaml", SCHEMA))
    assert message.startswith("config/linked.yaml: is a symbolic link") and "SECRET" not in message
    assert stamps("codebook") == []


@pytest.mark.parametrize("where", ["outside", "link"])
def test_other_files_a_config_names_must_be_inside_the_project(project, capsys, where):
    secret = project.parent / f"{project.name}-scores.csv"
    secret.write_text("SECRET\n", encoding="utf-8")
    path = str(secret)
    if where == "link":
        os.symlink(secret, "config/scores.csv")
        path = "config/scores.csv"
    message = stopped(capsys, lambda: preflight.external_scores(
        {"validity": {"external_scores": path}}))
    assert message.startswith(f"{path}: ") and "SECRET" not in message
    assert "the scores file (config validity.external_scores) must be a regular file" in message
    message = stopped(capsys, lambda: preflight.check_project_files([path], "a gold file"))
    assert message.endswith("a gold file must be a regular file inside the project")
    preflight.check_project_files(["config/codebook.yaml", "data/raw/missing.jsonl"], "x")
