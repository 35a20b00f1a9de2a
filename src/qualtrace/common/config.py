"""Validate the workflow config (config/config.yaml) with messages that name file, line and
problem: an unknown key (with a did-you-mean hint), a wrong type, a bad enum value, a missing
key, and, beyond what JSON-Schema can say, an ingestion regex that does not compile.

The Snakefile checks each config file this way (qualtrace.common.preflight) before Snakemake reads it
and before Snakemake's own `validate()`, so a typo stops the build with
`config/config.yaml:31:7: ...` instead of a schema dump.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path

import yaml

from .. import SCHEMA_DIR
from .io import InputError
from .yamlcheck import KEY, load_file, load_with_positions, validate

__all__ = ["ConfigError", "SCHEMA_PATH", "validate_config_file", "validate_config_text"]

SCHEMA_PATH = SCHEMA_DIR / "config.schema.yaml"

# Ingestion vocabulary that is compiled as regular expressions (case-insensitive, as
# qualtrace.corpus.ingest compiles it): (path to a list, key inside each item or None, what it is).
_REGEX_LISTS = [
    (("ingest", "key_point_headings"), None, "key-point heading pattern"),
    (("ingest", "furniture"), None, "furniture pattern"),
    (("ingest", "speaker_groups"), "pattern", "speaker group pattern"),
]


class ConfigError(InputError, ValueError):
    """A config that cannot be used; the message names file, line and problem."""


def _dotted(path) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _subject(path) -> str:
    """What a message is about: the dotted path of a key or value, or the config itself."""
    return _dotted(path) or "the config"


def _check_regexes(rep, data) -> None:
    for where, key, what in _REGEX_LISTS:
        node = data
        for step in where:
            node = node.get(step) if isinstance(node, dict) else None
        for i, item in enumerate(node or []):
            path = list(where) + [i] + ([key] if key else [])
            pattern = item.get(key) if key and isinstance(item, dict) else item
            if not isinstance(pattern, str):
                continue
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as err:
                rep.fail(path, f"{_subject(path)}: the {what} {pattern!r} is not a valid "
                               f"regular expression: {err.msg}"
                               + (f" at position {err.pos}" if err.pos is not None else ""))


def _check_severity_names(rep, data) -> None:
    """checks.severity may only name checks that exist (the checks job would fail later, and
    a failed job deletes the tables it would have replaced)."""
    from ..checks.runner import DEFAULT_SEVERITY

    checks = data.get("checks") if isinstance(data, dict) else None
    severity = checks.get("severity") if isinstance(checks, dict) else None
    for name in severity if isinstance(severity, dict) else ():
        if name not in DEFAULT_SEVERITY:
            hint = difflib.get_close_matches(str(name), list(DEFAULT_SEVERITY), n=1)
            rep.fail(("checks", "severity", name, KEY),
                     f"checks.severity names an unknown check {name!r}"
                     + (f" (did you mean {hint[0]!r}?)" if hint else "")
                     + f"; known: {', '.join(sorted(DEFAULT_SEVERITY))}")


def _load_schema(schema_path: str | Path | None) -> dict:
    path = Path(schema_path) if schema_path else SCHEMA_PATH
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def validate_config_text(text: str, name: str = "<config>",
                         schema_path: str | Path | None = None) -> dict:
    """Validate config text; return the data or raise ConfigError naming name:line:col."""
    data, positions = load_with_positions(text, name, ConfigError, "the config")
    return _validate(data, positions, name, schema_path)


def validate_config_file(path: str | Path, schema_path: str | Path | None = None) -> dict:
    """Validate one config file against the config schema (default:
    qualtrace/schemas/config.schema.yaml) and check its ingestion regexes compile. Returns the
    data; raises ConfigError naming file, line and problem."""
    data, positions, name = load_file(path, ConfigError, "the config")
    return _validate(data, positions, name, schema_path)


def _validate(data, positions, name, schema_path) -> dict:
    rep = validate(data, positions, _load_schema(schema_path), name, ConfigError,
                   subject=_subject)
    _check_regexes(rep, data)
    _check_severity_names(rep, data)
    return data
