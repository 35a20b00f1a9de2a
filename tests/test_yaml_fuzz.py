"""Fuzz: random YAML (anchors and aliases nested to any depth and fan-out, recursive aliases,
random structure and random text) thrown at config and codebook validation. Each input finishes
within a time and memory bound and either validates or fails with one line naming the file
(issue 13: the YAML half of the fuzz test; the `re:` terms are fuzzed with the coding engine)."""
from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bounded import bounded
from qualtrace.coding.codebook import CodebookError, parse_codebook
from qualtrace.common.config import ConfigError, validate_config_text

ROOT = Path(__file__).resolve().parents[1]
CONFIG = (ROOT / "config" / "config.yaml").read_text(encoding="utf-8")
CODEBOOK = (ROOT / "config" / "codebook.yaml").read_text(encoding="utf-8")
ONE_LINE = r"^{name}(:\d+(:\d+)?)?: \S[^\n]*$"

words = st.from_regex(r"[a-z]{1,8}( [a-z]{1,8})?", fullmatch=True)
scalars = st.one_of(words, st.integers(-10, 10**6).map(str), st.sampled_from(
    ["true", "null", "~", "''", '"x: y"', "!!int x", "!!binary 'AAAA'", "1e400", "-.inf"]))


@st.composite
def anchored(draw, prefix: str) -> tuple[list[str], str]:
    """Lines defining anchors that each repeat earlier ones (a bomb when deep and wide), and
    the alias of the last one; sometimes one of them refers to itself."""
    depth, fan = draw(st.integers(1, 14)), draw(st.integers(1, 12))
    flow_map = draw(st.booleans())
    recursive_at = draw(st.integers(1, 10 * depth))  # inside the anchors one time in ten
    lines = [f"{prefix}0: &{prefix}0 [{', '.join(draw(st.lists(words, min_size=1, max_size=5)))}]"]
    for i in range(1, depth):
        refs = [f"*{prefix}{draw(st.integers(0, i - 1))}" for _ in range(fan)]
        if i == recursive_at:
            refs.append(f"*{prefix}{i}")  # refers to itself
        body = ("{" + ", ".join(f"k{j}: {r}" for j, r in enumerate(refs)) + "}" if flow_map
                else "[" + ", ".join(refs) + "]")
        lines.append(f"{prefix}{i}: &{prefix}{i} {body}")
    return lines, f"*{prefix}{depth - 1}"


nested = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.dictionaries(words, inner, max_size=4).map(
        lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}")), max_leaves=20)


@st.composite
def edits(draw, base: str, section: str) -> str:
    """The base file with anchors added under `section`, some value replaced by an alias, and
    maybe random structure or random text spliced in."""
    lines, alias = draw(anchored(draw(st.sampled_from(["a", "lol", "x_"]))))
    text = base.replace(f"\n{section}:\n", f"\n{section}:\n" + "".join(
        f"  {line}\n" for line in lines), 1)
    choice = draw(st.integers(0, 3))
    if choice == 1:
        text += f"extra: {alias}\n"
    elif choice == 2:
        text += f"extra: {draw(nested)}\n"
    elif choice == 3:
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.text(max_size=30)) + text[cut:]
    return text


def assert_one_clear_outcome(run, error, name: str, text: str) -> None:
    with bounded(seconds=5, extra_mb=400):
        try:
            run(text, name)
        except error as err:
            message = str(err)
            assert re.match(ONE_LINE.format(name=re.escape(name)), message), message


FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(edits(CONFIG, "ingest"))
def test_random_yaml_in_the_config_is_bounded_and_clear(text):
    assert_one_clear_outcome(validate_config_text, ConfigError, "config/config.yaml", text)


@settings(FUZZ, max_examples=60)  # a codebook validates in ~0.25 s
@given(edits(CODEBOOK, "vocab"))
def test_random_yaml_in_the_codebook_is_bounded_and_clear(text):
    assert_one_clear_outcome(lambda t, n: parse_codebook(t, n, terms=False), CodebookError,
                             "config/codebook.yaml", text)


def test_the_fuzz_reaches_both_outcomes():
    """The generator is not all failures: a vocab list aliased to another validates."""
    ok = CODEBOOK.replace("\nvocab:\n", "\nvocab:\n  fz0: &fz0 [alpha, beta]\n  fz1: *fz0\n", 1)
    assert parse_codebook(ok, "config/codebook.yaml", terms=False).themes
