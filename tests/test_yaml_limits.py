"""The YAML the pipeline reads (config, codebook) is bounded: an alias bomb, a recursive alias
or absurd nesting is refused fast with one `file:line:col` line, never expanded (issue 13,
fault 6). Runs under a time and memory bound, so on code without the bound it fails in seconds
instead of taking gigabytes."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bounded import bounded
from qualtrace.coding.codebook import CodebookError, parse_codebook
from qualtrace.common.config import ConfigError, validate_config_text
from qualtrace.common.yamlcheck import MAX_ALIAS_NODES, load_with_positions

ROOT = Path(__file__).resolve().parents[1]
CONFIG = (ROOT / "config" / "config.yaml").read_text(encoding="utf-8")
CODEBOOK = (ROOT / "config" / "codebook.yaml").read_text(encoding="utf-8")


def alias_bomb(levels: int = 9, fan_out: int = 9, key: str = "lol") -> str:
    """The "billion laughs" document: each level lists the one before it fan_out times."""
    lines = [f'{key}0: &{key}0 [{",".join(["lol"] * fan_out)}]']
    for i in range(1, levels):
        lines.append(f"{key}{i}: &{key}{i} [{','.join([f'*{key}{i - 1}'] * fan_out)}]")
    return "\n".join(lines) + "\n"


def test_the_bomb_is_small():
    assert len(alias_bomb()) < 600


@pytest.mark.parametrize("parse, error, base, name", [
    (lambda text: validate_config_text(text, "config/config.yaml"), ConfigError, CONFIG,
     "config/config.yaml"),
    (lambda text: parse_codebook(text, "config/codebook.yaml", terms=False), CodebookError,
     CODEBOOK, "config/codebook.yaml"),
], ids=["config", "codebook"])
def test_alias_bomb_is_refused_fast_naming_the_alias(parse, error, base, name):
    text = base + alias_bomb()
    with bounded(seconds=5, extra_mb=300), pytest.raises(error) as info:
        parse(text)
    msg = str(info.value)
    assert "\n" not in msg
    match = re.match(rf"{re.escape(name)}:(\d+):(\d+): the alias \*lol(\d) ", msg)
    assert match, msg
    line = text.splitlines()[int(match[1]) - 1]
    assert f"*lol{match[3]}" in line and "alias bomb" in msg


def test_recursive_alias_is_refused():
    with bounded(seconds=5), pytest.raises(ValueError, match=r"^f\.yaml:2:9: the alias \*me "
                                           r"refers to a node that contains it"):
        load_with_positions("a: 1\nb: &me [*me]\n", "f.yaml")
    with bounded(seconds=5), pytest.raises(ValueError, match="recursive alias"):
        load_with_positions("b: &me {c: {d: *me}}\n", "f.yaml")


def test_modest_aliases_still_work():
    data, positions = load_with_positions(
        "base: &words [staff, workforce]\nmore: [*words, *words]\nkey: *words\n", "f.yaml")
    assert data == {"base": ["staff", "workforce"],
                    "more": [["staff", "workforce"]] * 2, "key": ["staff", "workforce"]}
    assert positions[("more", 1)] == (2, 16)  # an alias is placed where it is used


def test_alias_budget_is_what_it_says():
    words = ", ".join(["w"] * 999)  # 1,000 nodes: the list and its 999 items
    uses = MAX_ALIAS_NODES // 1000
    ok = f"v: &v [{words}]\nu: [{', '.join(['*v'] * uses)}]\n"
    assert len(load_with_positions(ok, "f.yaml")[0]["u"]) == uses
    with pytest.raises(ValueError, match=r"^f\.yaml:2:\d+: the alias \*v takes"):
        load_with_positions(ok.replace("]\n", ", *v]\n", 2).replace(f"[{words}, *v]", f"[{words}]"),
                            "f.yaml")


@pytest.mark.parametrize("text", ["[" * 50_000 + "]" * 50_000, "a:\n" + "".join(
    " " * i + f"k{i}:\n" for i in range(1, 3000)) + " " * 3000 + "x: 1\n"],
    ids=["flow", "block"])
def test_absurd_nesting_is_one_line_not_a_recursion_traceback(text):
    with bounded(seconds=20), pytest.raises(ValueError, match=r"^f\.yaml: nested too deeply"):
        load_with_positions(text, "f.yaml")


@pytest.mark.parametrize("text, message", [
    ("a: !!int x\n", r"^f\.yaml:1:4: cannot read this value: invalid literal"),
    ("a: !python/name:os.system x\n", r"^f\.yaml:1:4: cannot read this value: could not "
                                      r"determine a constructor"),
    ("<<: {a: 1}\n", r"^f\.yaml:1:1: merge keys \(<<\) are not supported"),
    ("? [a, b]\n: c\n", r"^f\.yaml:1:3: a key must be a plain value"),
], ids=["bad-int", "python-tag", "merge-key", "list-key"])
def test_odd_values_are_one_line(text, message):
    with pytest.raises(ValueError, match=message):
        load_with_positions(text, "f.yaml")
