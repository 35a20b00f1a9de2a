"""The `qualtrace` command's one error policy: bad input to any subcommand is one line,
`qualtrace: error: FILE...: message`, exit 2, no traceback; a bug keeps its traceback."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from qualtrace.cli.main import build_parser, main

TABLES = ["--documents", "d.csv", "--segments", "s.csv", "--codings", "c.csv",
          "--facets", "f.csv"]
# Each subcommand with a bad input, and what its error line must name.
BAD_INPUT = {
    "ingest": (["missing.txt", "--doc-id", "x", "--rules", "{}", "--output", "o.json"],
               "missing.txt"),
    "gather-segments": (["missing.json", "--documents", "d.csv", "--segments", "s.csv"],
                        "missing.json"),
    "code": (["--codebook", "bad.yaml", "--documents", "d.csv", "--segments", "s.csv",
              "--codings", "c.csv", "--facets", "f.csv"], "bad.yaml:2:1"),
    "review-merge": (["--codebook", "bad.yaml", "--segments", "s.csv", "--codings-auto", "a.csv",
                      "--facets-auto", "b.csv", "--codings", "c.csv", "--facets", "f.csv",
                      "--outcomes", "o.csv"], "bad.yaml:2:1"),
    "check": (["--codebook", "bad.yaml", *TABLES, "--checks", "k.csv", "--items", "i.csv",
               "--key-points", "p.csv", "--breakdowns", "b.csv"], "bad.yaml:2:1"),
    "check-gate": (["--checks", "missing.csv", "--items", "i.csv", "--output", "o.txt"],
                   "missing.csv"),
    "manifest": (["--documents", "missing.csv", "--codebook", "bad.yaml", "--config", "c.yaml",
                  "--output", "m.json"], "missing.csv"),
    "review": (["--no-browser", "--directory", "."], "data/processed"),
    "import-review": (["bad.qdpx", "--reviewer", "x", "--config", "none.yaml"], "none.yaml"),
    "trace": (["seg-1", "--directory", "."], "segments.csv"),
    "export qdpx": (["--codebook", "bad.yaml", *TABLES, "--output", "o.qdpx"], "bad.yaml:2:1"),
    "export qdc": (["--codebook", "bad.yaml", "--output", "o.qdc"], "bad.yaml:2:1"),
    "export taguette": (["--codebook", "bad.yaml", "--output", "o.csv"], "bad.yaml:2:1"),
    "import-gold": (["bad.qdpx", "--output", "g.jsonl", "--config", "none.yaml"], "none.yaml"),
    "validate": (["bad.qdpx"], "bad.qdpx: not a ZIP archive"),
    "report figures": (["--codebook", "bad.yaml", "--theme-summary", "t.csv",
                        "--cooccurrence", "c.csv", "--output", "prevalence=p.svg"],
                       "bad.yaml:2:1"),
    "report source": (["--table", "x=missing.csv", "--manifest", "m.json", "--codebook",
                       "bad.yaml", "--rulegraph-dot", "r.dot", "--rulegraph-svg", "r.svg",
                       "--qmd", "s.qmd", "--numbers", "n.csv"], "report inputs missing"),
    "report rulegraph": (["--snakefile", "missing.smk", "--dot", "r.dot", "--svg", "r.svg"],
                         "missing.smk: no such Snakefile"),
    "report render": (["missing.qmd", "--engine", "pandoc"], "missing.qmd"),
}


def _leaf_commands(parser: argparse.ArgumentParser, prefix: str = "") -> set[str]:
    found = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= _leaf_commands(sub, f"{prefix}{name} ") or {f"{prefix}{name}"}
    return found


def test_every_subcommand_has_a_bad_input_case():
    assert _leaf_commands(build_parser()) == set(BAD_INPUT)


@pytest.fixture
def bad_inputs(tmp_path):
    (tmp_path / "bad.yaml").write_text("themes: [\n", encoding="utf-8")
    (tmp_path / "bad.qdpx").write_bytes(b"not a zip")
    return tmp_path


@pytest.mark.parametrize("command", sorted(BAD_INPUT))
def test_bad_input_is_one_line_and_exit_2(bad_inputs, command):
    args, names = BAD_INPUT[command]
    log = bad_inputs / "job.log"
    result = subprocess.run([sys.executable, "-m", "qualtrace", "--log", str(log),
                             *command.split(), *args], cwd=bad_inputs, capture_output=True,
                            text=True, timeout=300)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("qualtrace: error: ") and names in lines[0], lines[0]
    assert log.read_text(encoding="utf-8") == lines[0] + "\n"  # the job's log says the same
    assert sorted(p.name for p in bad_inputs.iterdir()) == ["bad.qdpx", "bad.yaml", "job.log"]


@pytest.mark.parametrize("text, message", [("", "not JSON"), ("{\"a\": ", "not JSON"),
                                           ("[1]", "expected a JSON object, got list")])
def test_a_json_option_that_is_not_an_object_is_one_line(bad_inputs, text, message):
    (bad_inputs / "a.txt").write_text("Title\n\nText.\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "qualtrace", "ingest", "a.txt", "--doc-id",
                             "a", "--rules", text, "--output", "o.json"], cwd=bad_inputs,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr == f"qualtrace: error: --rules: {message}" + (
        result.stderr.split(message, 1)[1]) and result.stderr.count("\n") == 1
    assert not (bad_inputs / "o.json").exists()


def test_a_bug_keeps_its_traceback(bad_inputs, monkeypatch):
    import qualtrace.exchange.refiqda as refiqda

    def broken(codebook, output):
        raise KeyError("a bug, not bad input")

    monkeypatch.setattr(refiqda, "export_taguette", broken)
    log = bad_inputs / "job.log"
    with pytest.raises(KeyError):
        main(["--log", str(log), "export", "taguette", "--codebook", "bad.yaml",
              "--output", str(bad_inputs / "o.csv")])
    assert "Traceback" in log.read_text(encoding="utf-8")


def test_a_summary_goes_to_the_log_or_else_to_stdout(tmp_path, capsys):
    codebook = Path(__file__).resolve().parents[1] / "config" / "codebook.yaml"
    out = tmp_path / "taguette.csv"
    assert main(["export", "taguette", "--codebook", str(codebook), "--output", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    log = tmp_path / "job.log"
    assert main(["--log", str(log), "export", "taguette", "--codebook", str(codebook),
                 "--output", str(out)]) == 0
    assert capsys.readouterr().out == "" and log.read_text(encoding="utf-8") == f"wrote {out}\n"
