"""Scores of the coding measured on other gold corpora (config `validity.external_scores`).

One row per gold set and label set: the micro-averaged precision, recall and F1 of the rules
on that set, whether the rules were tuned on it, the sha256 of the codebook file they were
measured with and the command that measured them (`scripts/score_corpus.py --write`, which
writes the file through `record`). The report quotes these numbers; `read_scores` refuses a
malformed file with one line naming file and line, before any job runs (preflight) and again
when the report reads it.
"""
from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from ..common.io import InputError, write_csv

SCORE_FIELDS = ["gold_set", "tuned", "label_set", "n_units", "precision", "recall", "f1",
                "codebook_sha256", "command"]
RATIOS = ("precision", "recall", "f1")
_LABEL_SET = re.compile(r"^[a-z][a-z0-9_]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class SetScore:
    """One row of the scores file; `line` is its line in the file (for provenance)."""
    gold_set: str
    tuned: bool
    label_set: str
    n_units: str
    precision: str   # as written ("" when undefined), so a quoted value is the file's
    recall: str
    f1: str
    codebook_sha256: str
    command: str
    line: int


def read_scores(path: str | Path) -> list[SetScore]:
    """Every row, in file order; InputError `FILE:LINE: problem` for the first bad one."""
    name = str(path)
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return _rows(name, handle)
    except FileNotFoundError:
        raise InputError(f"{name}: the scores file does not exist (config "
                         "validity.external_scores)") from None
    except UnicodeDecodeError as err:
        raise InputError(f"{name}: not valid UTF-8 at byte offset {err.start}") from None
    except csv.Error as err:
        raise InputError(f"{name}: not a CSV file ({err})") from None
    except OSError as err:
        raise InputError(f"{name}: cannot read the scores file: {err.strerror}") from None


def _rows(name: str, handle) -> list[SetScore]:
    # csv.reader rather than common.io.read_csv: a message must name the line of the row.
    reader = csv.reader(handle)
    header = next(reader, None)
    if not header:
        raise InputError(f"{name}:1: empty file; expected the columns {','.join(SCORE_FIELDS)}")
    missing = [c for c in SCORE_FIELDS if c not in header]
    if missing:
        raise InputError(f"{name}:1: missing column(s) {', '.join(missing)}; expected "
                         f"{','.join(SCORE_FIELDS)} (write it with scripts/score_corpus.py "
                         "--write)")
    out: list[SetScore] = []
    seen: dict[tuple[str, str], int] = {}
    for cells in reader:
        line = reader.line_num
        if not cells:
            continue
        if len(cells) != len(header):
            raise InputError(f"{name}:{line}: {len(cells)} cells, the header has {len(header)}")
        row = dict(zip(header, cells))
        score = _row(name, line, row)
        key = (score.gold_set, score.label_set)
        if key in seen:
            raise InputError(f"{name}:{line}: gold set {score.gold_set!r}, label set "
                             f"{score.label_set!r} again (first on line {seen[key]})")
        seen[key] = line
        out.append(score)
    if not out:
        raise InputError(f"{name}:2: no scores (only a header)")
    return out


def _row(name: str, line: int, row: dict[str, str]) -> SetScore:
    def bad(column: str, expected: str):
        return InputError(f"{name}:{line}: column {column}: {_shown(row[column])} is not "
                          f"{expected}")

    if not row["gold_set"].strip() or _CONTROL.search(row["gold_set"]):
        raise bad("gold_set", "a gold set name (non-empty, no control characters)")
    if row["tuned"] not in ("true", "false"):
        raise bad("tuned", "true or false")
    if not _LABEL_SET.match(row["label_set"]):
        raise bad("label_set", "a label set id (lower case letters, digits, _)")
    if not row["n_units"].isascii() or not row["n_units"].isdigit() or int(row["n_units"]) < 1:
        raise bad("n_units", "a positive whole number")
    for column in RATIOS:
        value = row[column]
        if value == "":
            continue  # undefined (no positive decision on either side)
        try:
            number = float(value)
        except ValueError:
            raise bad(column, "a number from 0 to 1 (or empty: undefined)") from None
        if not (math.isfinite(number) and 0 <= number <= 1):
            raise bad(column, "a number from 0 to 1 (or empty: undefined)")
    if not _SHA256.match(row["codebook_sha256"]):
        raise bad("codebook_sha256", "the sha256 of the codebook file (64 hex digits)")
    if _CONTROL.search(row["command"]):
        raise bad("command", "a command line without control characters")
    return SetScore(row["gold_set"], row["tuned"] == "true", row["label_set"], row["n_units"],
                    row["precision"], row["recall"], row["f1"], row["codebook_sha256"],
                    row["command"], line)


def shown(score: SetScore, column: str) -> str:
    """A value as the report shows it (and `qualtrace trace` checks it): a ratio to two
    decimals ("undefined" when empty), a count as written."""
    raw = getattr(score, column)
    if column not in RATIOS:
        return raw
    return f"{float(raw):.2f}" if raw else "undefined"


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


def record(path: str | Path, gold_set: str, micro_rows: list[dict], tuned: bool,
           codebook_sha256: str, command: str) -> None:
    """Replace one gold set's rows in the scores file (its micro rows of
    coding_validation.csv, one per label set); rows sorted held-out first, then by name."""
    kept: list[dict] = []
    if Path(path).is_file():
        kept = [{f: getattr(s, f) for f in SCORE_FIELDS} | {"tuned": _flag(s.tuned)}
                for s in read_scores(path) if s.gold_set != gold_set]
    kept += [{"gold_set": gold_set, "tuned": _flag(tuned), "label_set": r["label_set"],
              "n_units": r["n_units"], "precision": r["precision"], "recall": r["recall"],
              "f1": r["f1"], "codebook_sha256": codebook_sha256, "command": command}
             for r in micro_rows]
    kept.sort(key=lambda r: (r["tuned"] == "true", r["gold_set"], r["label_set"]))
    write_csv(path, SCORE_FIELDS, kept)


def _flag(value: bool) -> str:
    return "true" if value else "false"
