"""The package's shape (issue 14): every run path written once, in qualtrace.layout; no stage
reaching into another stage's private names."""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from qualtrace import layout

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "qualtrace"
# A path into the run's generated folders, as code would write it.
RUN_PATH = re.compile(r"(?<![\w.-])(?:data/processed|data/interim|data/review|reports/|logs/|"
                      r"benchmarks/results)")


def _code_strings(text: str):
    """(line, text) of each string in code: not comments, and not docstrings or other
    strings standing alone as a statement (documentation)."""
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    skip = {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.STRING:
            continue
        before = next((t for t in reversed(tokens[:i]) if t.type not in skip), None)
        after = next((t for t in tokens[i + 1:] if t.type not in skip), None)
        stands_alone = (before is None or before.type in (tokenize.NEWLINE, tokenize.OP)
                        and (before.type == tokenize.NEWLINE or before.string == ":")) and (
            after is None or after.type in (tokenize.NEWLINE, tokenize.ENDMARKER))
        if not stands_alone:
            yield tok.start[0], tok.string


def _sources():
    files = [p for p in PACKAGE.rglob("*.py") if p.name != "layout.py"]
    files += [ROOT / "Snakefile", *(ROOT / "workflow").rglob("*.smk"),
              *(ROOT / "workflow").rglob("*.py"), *(ROOT / "analysis").glob("*.py"),
              *(ROOT / "benchmarks").glob("*.py"), *(ROOT / "scripts").glob("*.py")]
    return sorted(files)


def test_the_scanner_finds_a_path_in_code_but_not_in_documentation():
    text = ('"""Reads data/processed/x.csv."""\n'
            'def f():\n    """reports/ here is prose."""\n    return "data/processed/a.csv"\n'
            '# logs/ in a comment\nB = f"{ROOT}/reports/x"\n')
    found = [line for line, s in _code_strings(text) if RUN_PATH.search(s)]
    assert found == [4, 6]


def test_no_run_path_is_written_outside_layout():
    offenders = [f"{path.relative_to(ROOT)}:{line}: {string[:60]}"
                 for path in _sources()
                 for line, string in _code_strings(path.read_text(encoding="utf-8"))
                 if RUN_PATH.search(string)]
    assert not offenders, "use qualtrace.layout:\n" + "\n".join(offenders)


def test_layout_names_each_table_once_and_refuses_unknown_ones():
    assert len(set(layout.TABLES)) == len(layout.TABLES)
    assert layout.table("codings") == "data/processed/codings.csv"
    assert layout.by_facet("area") == "data/processed/theme_by_area.csv"
    with pytest.raises(KeyError):
        layout.table("codings_typo")


STAGES = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}


def _stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "qualtrace" and parts[1] in STAGES else None


def _private_imports(path: Path):
    """(line, imported module, name) for each underscore name imported from another stage."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    own = _stage_of(module)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        for alias in node.names:
            full = f"{target}.{alias.name}"  # `from .. import _x` or a module named _x
            stage = _stage_of(target) or _stage_of(full)
            private = alias.name.startswith("_") or any(
                part.startswith("_") and not part.startswith("__") for part in target.split("."))
            if stage and stage != own and private:
                yield node.lineno, target, alias.name


def test_the_private_import_finder_sees_one():
    sample = PACKAGE / "review" / "sample_for_test.py"
    try:
        sample.write_text("from ..coding.engine import _natural\nfrom .queue import _x\n",
                          encoding="utf-8")
        assert [(t, n) for _, t, n in _private_imports(sample)] == [
            ("qualtrace.coding.engine", "_natural")]
    finally:
        sample.unlink()


def test_no_stage_imports_another_stages_private_names():
    offenders = [f"{path.relative_to(ROOT)}:{line}: {name} from {target}"
                 for path in sorted(PACKAGE.rglob("*.py"))
                 for line, target, name in _private_imports(path)]
    assert not offenders, "\n".join(offenders)
