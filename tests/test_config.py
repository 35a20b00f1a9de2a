"""Config validation: the real config passes, and each kind of mistake names its line."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from qualtrace import SCHEMA_DIR
from qualtrace.common.config import ConfigError, validate_config_file, validate_config_text

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "config.yaml"
SCHEMA = SCHEMA_DIR / "config.schema.yaml"
BASE = CONFIG.read_text(encoding="utf-8")


def edited(old: str, new: str) -> str:
    assert old in BASE, f"the test expects {old!r} in config/config.yaml"
    return BASE.replace(old, new, 1)


def error_for(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config_text(text, "config/config.yaml", SCHEMA)
    return str(info.value)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def at_line(msg: str, line: int) -> bool:
    return re.match(rf"config/config\.yaml:{line}:\d+: ", msg) is not None


def test_real_config_passes():
    data = validate_config_file(CONFIG, SCHEMA)
    assert data["codebook"] == "config/codebook.yaml"
    assert validate_config_file(CONFIG) == data  # the schema path defaults to the workflow's


def test_unknown_top_level_key_suggests_the_right_one():
    text = edited("render:\n", "rendr:\n  engine: auto\nrender:\n")
    msg = error_for(text)
    assert at_line(msg, line_of(text, "rendr:")), msg
    assert "unknown key 'rendr'" in msg and "did you mean 'render'" in msg


def test_unknown_nested_key_names_its_section_and_line():
    text = edited("  heading_max_words: 14", "  heading_max_word: 14")
    msg = error_for(text)
    assert at_line(msg, line_of(text, "heading_max_word:")), msg
    assert msg.split(": ", 1)[1].startswith("ingest has an unknown key 'heading_max_word'")
    assert "did you mean 'heading_max_words'" in msg and "allowed: " in msg


def test_unknown_key_in_a_list_item():
    text = edited("    - {id: client, pattern:", "    - {idd: client, pattern:")
    msg = error_for(text)
    assert at_line(msg, line_of(text, "idd: client")), msg
    assert "ingest.speaker_groups[0] has an unknown key 'idd'" in msg


def test_wrong_type_names_line_and_what_was_found():
    text = edited("  heading_max_words: 14", "  heading_max_words: fourteen")
    msg = error_for(text)
    assert at_line(msg, line_of(text, "heading_max_words: fourteen")), msg
    assert "ingest.heading_max_words must be of type integer, not str ('fourteen')" in msg


def test_wrong_type_of_a_section():
    # the whole gold mapping (its patterns, tuned_on and comments) becomes a list
    text = re.sub(r"^gold:\n(?:  .*\n)+", 'gold: ["data/gold/*.jsonl"]\n', BASE, count=1,
                  flags=re.MULTILINE)
    assert text != BASE
    msg = error_for(text)
    assert at_line(msg, line_of(text, "gold: [")), msg
    assert "gold must be of type object, not list" in msg


def test_bad_enum_value_lists_the_choices():
    text = edited("  engine: auto", "  engine: quatro")
    msg = error_for(text)
    assert at_line(msg, line_of(text, "engine: quatro")), msg
    assert "render.engine has a bad value 'quatro' (did you mean 'quarto'?)" in msg
    assert "'auto', 'quarto', 'pandoc'" in msg


def test_bad_enum_value_in_a_list():
    text = edited("  formats: [html, pdf]", "  formats: [html, pfd]")
    msg = error_for(text)
    assert at_line(msg, line_of(text, "formats: [html, pfd]")), msg
    assert "render.formats[1] has a bad value 'pfd'" in msg


def test_bad_severity():
    text = edited("  severity: {}", "  severity:\n    spelling: fatal")
    msg = error_for(text)
    assert at_line(msg, line_of(text, "spelling: fatal")), msg
    assert "checks.severity.spelling has a bad value 'fatal'" in msg


def test_missing_required_key():
    text = edited("codebook: config/codebook.yaml\n", "")
    assert "is missing the required key 'codebook'" in error_for(text)


@pytest.mark.parametrize("old,new,needle,what", [
    ('    - "back to top"', '    - "back to (top"', "back to (top", "furniture pattern"),
    ('    - "main findings"', '    - "main [findings"', "main [findings",
     "key-point heading pattern"),
])
def test_bad_ingest_regex_names_its_line(old, new, needle, what):
    text = edited(old, new)
    msg = error_for(text)
    assert at_line(msg, line_of(text, needle)), msg
    assert f"the {what}" in msg and "is not a valid regular expression" in msg


def test_bad_speaker_group_regex_names_its_line():
    text = edited("    - {id: paraprofessional, pattern: \"",
                  "    - {id: paraprofessional, pattern: \"(?P<oops")
    msg = error_for(text)
    assert at_line(msg, line_of(text, "(?P<oops")), msg
    assert "ingest.speaker_groups[2].pattern: the speaker group pattern" in msg
    assert "unterminated name" in msg


def test_regex_in_block_style_list_names_the_item_line():
    text = edited('  speaker_groups:\n    - {id: client, pattern: "',
                  '  speaker_groups:\n    - id: extra\n      pattern: "a(b"\n'
                  '    - {id: client, pattern: "')
    msg = error_for(text)
    assert at_line(msg, line_of(text, 'pattern: "a(b"')), msg


def test_duplicate_key_invalid_yaml_and_empty_file(tmp_path):
    text = edited("  engine: auto", "  engine: auto\n  engine: pandoc")
    msg = error_for(text)
    assert at_line(msg, line_of(text, "engine: pandoc")) and "duplicate key 'engine'" in msg
    msg = error_for(edited("render:", "render: ["))
    assert re.match(r"config/config\.yaml:\d+:\d+: not valid YAML", msg), msg
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"empty\.yaml:1: the config is empty"):
        validate_config_file(empty, SCHEMA)
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read the config"):
        validate_config_file(tmp_path / "missing.yaml", SCHEMA)


def test_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "local.yaml"
    bad.write_text(edited("  engine: auto", "  engine: quatro"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        validate_config_file(bad, SCHEMA)
    assert str(info.value).startswith(f"{bad}:{line_of(BASE, 'engine: auto')}:")


def test_severity_of_an_unknown_check_names_its_line():
    text = edited("  severity: {}", "  severity:\n    span_integrty: warning")
    msg = error_for(text)
    assert at_line(msg, line_of(text, "span_integrty:")), msg
    assert "checks.severity names an unknown check 'span_integrty' (did you mean " \
        "'span_integrity'?)" in msg


def test_syntax_error_names_the_line_of_the_key():
    """`key value` without a colon: the line of that key, not the next one (fault 16)."""
    text = edited("  ingestion_jobs: 32", "  ingestion_jobs 32")
    msg = error_for(text)
    assert msg.startswith(f"config/config.yaml:{line_of(text, 'ingestion_jobs 32')}:3: "
                          "not valid YAML: could not find expected ':'"), msg
