"""Decision files: `data/review/<reviewer>.csv`, one decision per row (SPEC, Researcher review).

Reading is strict (every problem is one `file:line: message` line, and nothing is applied from a
file that has one); writing appends under a lock and replaces the file atomically, so two browser
tabs or two processes writing at once lose nothing and a reader never sees half a row.
"""
from __future__ import annotations

import csv
import difflib
import fcntl
import hashlib
import io
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import Iterable, Mapping

from .. import layout
from ..common.io import InputError, atomic_write_bytes, csv_text

DECISION_FIELDS = ["segment_id", "text_sha256", "facet", "label", "decision", "reviewer", "note"]
DECISIONS = ("accept", "reject", "add")
THEME = "theme"  # the `facet` value of a decision about a theme
# Reviewer names become file names (data/review/<reviewer>.csv) and REFI-QDA user names.
REVIEWER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class DecisionError(InputError):
    """Bad decision rows; the message has one `file:line: problem` line per row."""

    listing = True


@dataclass(frozen=True)
class Decision:
    segment_id: str
    text_sha256: str
    facet: str
    label: str
    decision: str
    reviewer: str
    note: str
    file: str = ""
    line: int = 0

    def row(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in DECISION_FIELDS}


def text_sha256(text: str) -> str:
    """The key a decision carries: sha256 of the segment's text as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def review_files(root: str | os.PathLike = ".") -> list[str]:
    """The decision files of a run directory, in a fixed order (relative paths)."""
    base = Path(root)
    return sorted(str(Path(p).relative_to(base)) for p in glob(str(base / layout.REVIEW_GLOB)))


def reviewer_file(reviewer: str, root: str | os.PathLike = ".") -> Path:
    return Path(root) / layout.review_file(check_reviewer(reviewer))


def check_reviewer(name: str) -> str:
    if not REVIEWER.match(name or ""):
        raise InputError(f"reviewer name {name!r}: use letters, digits, '.', '_' or '-' "
                         "(at most 64, starting with a letter or digit); it names the file "
                         f"{layout.review_file('<reviewer>')}")
    return name


def label_vocabulary(codebook: Mapping) -> dict[str, list[str]]:
    """{'theme': theme ids, <facet id>: value ids} from a parsed codebook (YAML data)."""
    from ..analysis.breakdowns import codebook_labels

    themes, facets = codebook_labels(codebook)
    return {THEME: list(themes), **{f: list(v) for f, v in facets.items()}}


def load_vocabulary(codebook_path: str | os.PathLike) -> dict[str, list[str]]:
    """label_vocabulary of a codebook file (structure only: read with libyaml where present)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(codebook_path, encoding="utf-8") as handle:
        try:
            return label_vocabulary(yaml.load(handle, Loader=loader) or {})
        except yaml.YAMLError as err:  # the codebook stage names the problem in full
            mark = getattr(err, "problem_mark", None)
            place = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
            raise InputError(f"{codebook_path}{place}: not valid YAML: "
                             f"{getattr(err, 'problem', None) or err}") from None


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _row_problem(row: dict, vocabulary: Mapping[str, list[str]] | None) -> str | None:
    if not row["segment_id"].strip():
        return "segment_id is empty"
    if not _SHA256.match(row["text_sha256"]):
        return ("text_sha256 must be the 64 lower-case hex digits of the segment text's "
                f"sha256, not {row['text_sha256']!r}")
    if row["decision"] not in DECISIONS:
        return (f"decision {row['decision']!r} is not one of {', '.join(DECISIONS)}"
                + _suggest(row["decision"], DECISIONS))
    if not REVIEWER.match(row["reviewer"]):
        return (f"reviewer {row['reviewer']!r}: use letters, digits, '.', '_' or '-' "
                "(it names a file and a REFI-QDA user)")
    if vocabulary is not None:
        facet, label = row["facet"], row["label"]
        if facet not in vocabulary:
            return (f"facet {facet!r} is not '{THEME}' or a codebook facet "
                    f"({', '.join(f for f in vocabulary if f != THEME)})"
                    + _suggest(facet, vocabulary))
        if label not in vocabulary[facet]:
            what = "theme" if facet == THEME else f"value of facet '{facet}'"
            return (f"label {label!r} is not a {what} in the codebook"
                    + _suggest(label, vocabulary[facet]))
    return None


def parse_decisions(text: str, name: str,
                    vocabulary: Mapping[str, list[str]] | None = None) -> list[Decision]:
    """The decisions in one file's text; DecisionError listing every bad row otherwise."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return []
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    missing = [f for f in DECISION_FIELDS if f not in header]
    if missing:
        raise DecisionError(f"{name}:1: missing column(s) {', '.join(missing)}; the header must "
                            f"be {','.join(DECISION_FIELDS)}")
    problems, decisions = [], []
    line = reader.line_num + 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if not "".join(cells).strip():  # a blank line
            continue
        if len(cells) != len(header):
            problems.append(f"{name}:{start}: {len(cells)} cells, but the header has "
                            f"{len(header)} (quote a note that holds a comma)")
            continue
        row = dict(zip(header, cells))
        problem = _row_problem(row, vocabulary)
        if problem:
            problems.append(f"{name}:{start}: {problem}")
            continue
        decisions.append(Decision(**{f: row[f] for f in DECISION_FIELDS}, file=name, line=start))
    if problems:
        shown = problems[:20] + ([f"{name}: ... and {len(problems) - 20} more bad rows"]
                                 if len(problems) > 20 else [])
        raise DecisionError("\n".join(shown))
    return decisions


def read_decisions(paths: Iterable[str],
                   vocabulary: Mapping[str, list[str]] | None = None) -> list[Decision]:
    """Every decision of these files in (file, line) order; DecisionError naming each bad row
    of every file (nothing is read from a file that is not UTF-8 text)."""
    decisions, problems = [], []
    for path in sorted(paths):
        try:
            data = Path(path).read_bytes()
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            line = data[:err.start].count(b"\n") + 1
            problems.append(f"{path}:{line}: not valid UTF-8 (byte offset {err.start}); save "
                            "the file as UTF-8")
            continue
        except OSError as err:
            problems.append(f"{path}: cannot read: {err.strerror}")
            continue
        try:
            decisions += parse_decisions(text, str(path), vocabulary)
        except DecisionError as err:
            problems.append(str(err))
    if problems:
        raise DecisionError("\n".join(problems))
    return decisions


def refuse_bad_decision_files(paths: list[str], codebook_path: str) -> None:
    """For the Snakefile: stop before any job runs (so no built output is removed) with one
    `file:line: problem` line per bad decision row."""
    import sys

    try:
        vocabulary = load_vocabulary(codebook_path)
    except Exception:  # a broken codebook is the coding job's to report, with its line
        vocabulary = None
    try:
        read_decisions(paths, vocabulary)
    except DecisionError as err:
        print(f"qualtrace: error: {err}", file=sys.stderr)
        raise SystemExit(1) from None


@contextmanager
def _locked(path: Path):
    """An exclusive lock beside `path` (a dot file, so never read as a decision file)."""
    lock = path.with_name(f".{path.name}.lock")
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def append_decisions(path: str | os.PathLike, decisions: Iterable[Mapping[str, str]]) -> None:
    """Append rows to a decision file: under a lock, the old bytes kept as they are plus the new
    rows, written to a temporary file and renamed into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    rows = [{f: str(d.get(f, "") or "") for f in DECISION_FIELDS} for d in decisions]
    with _locked(target):
        old = target.read_bytes() if target.exists() else b""
        if old and not old.endswith(b"\n"):
            old += b"\n"
        new = csv_text(DECISION_FIELDS, rows)
        if old:
            new = new.split("\n", 1)[1]  # the header is there already
        atomic_write_bytes(target, old + new.encode("utf-8"))
