"""Reading raw inputs strictly and writing outputs atomically.

Every output goes through a temporary file in the destination folder and an `os.replace`, so a
killed job never leaves a truncated file that a later run would trust.
"""
from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import json
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Iterable, Mapping, Sequence


# Id lists of a large corpus exceed the csv module's default 128 KiB field limit.
csv.field_size_limit(2**31 - 1)

UMASK = os.umask(0o022)
os.umask(UMASK)


class InputError(Exception):
    """Bad input (a file, the config, the codebook, an argument): the message names the file and
    the place. The command line prints it as one line and exits 2; an error that lists several
    problems (`listing`) keeps one line per problem."""

    listing = False


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    return sha256_bytes(Path(path).read_bytes())


def decode_raw(data: bytes, path: str | os.PathLike) -> str:
    """Decode a raw file as UTF-8, refusing what would make spans meaningless.

    A BOM is kept (it is character 0 of the text, as SPEC defines offsets).
    """
    name = str(path)
    if not data:
        raise InputError(f"{name}: the file is empty; remove it from data/raw/ or add its text")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            f"{name}: NUL byte at byte offset {nul}; the file looks binary or UTF-16. "
            "Save it as UTF-8 text"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = data[err.start:err.start + 1].hex()
        raise InputError(
            f"{name}: not valid UTF-8 at byte offset {err.start} (byte 0x{bad}: {err.reason}); "
            "re-save the file as UTF-8 (for example `iconv -f WINDOWS-1252 -t UTF-8`)"
        ) from None
    if not text.lstrip("\ufeff").strip():
        raise InputError(f"{name}: the file contains only whitespace; remove it or add its text")
    return text


def raw_path_problem(path: str | os.PathLike, root: str | os.PathLike | None = None,
                     checked_dirs: dict | None = None) -> str:
    """Why a raw file must not be read, or "" if it may: the one guard every reader of raw
    files goes through (corpus discovery, ingestion, coding, checks, validation, report,
    exports, trace).

    A raw file is a regular file reached without symbolic links and lying inside the project
    directory `root` (default: the working directory, where Snakemake runs every job). Git
    keeps symlinks, so a contributed `data/raw/x.txt -> /etc/passwd` would otherwise publish
    that file. A relative path is checked component by component below `root`; an absolute
    path outside `root` (a caller's explicit choice, e.g. a test's temporary corpus) only in
    its last component, and only when no `root` is given. `checked_dirs` (a dict the caller
    keeps) remembers folders already checked, for discovery of many files in one folder.
    """
    given = Path(path)
    base = Path(root) if root is not None else Path.cwd()
    full = given if given.is_absolute() else base / given
    try:
        inside = full.relative_to(base).parts
    except ValueError:
        if root is not None:
            return f"is outside the project directory {base}; corpus files must be inside it"
        return _file_problem(full)
    folder = inside[:-1]
    if checked_dirs is None or folder not in checked_dirs:
        problem = _folder_problem(base, folder)
        if checked_dirs is None:
            return problem or _file_problem(full)
        checked_dirs[folder] = problem
    return checked_dirs[folder] or _file_problem(full)


def _folder_problem(base: Path, parts: tuple) -> str:
    for i in range(len(parts)):
        step = base.joinpath(*parts[:i + 1])
        if os.path.islink(step):
            return (f"lies under a symbolic link, {Path(*parts[:i + 1])} (to "
                    f"{os.readlink(step)}); {_READ_ONLY}")
    real, home = base.joinpath(*parts).resolve(), base.resolve()
    if real != home and home not in real.parents:
        return f"its folder resolves to {real}, outside the project directory {home}; {_INSIDE}"
    return ""


def _file_problem(full: Path) -> str:
    try:
        mode = os.lstat(full).st_mode
    except OSError:
        return ""  # missing: the reader says so in its own terms
    if stat.S_ISLNK(mode):
        return f"is a symbolic link (to {os.readlink(full)}); {_READ_ONLY}"
    if not stat.S_ISREG(mode):
        return "is not a regular file"
    return ""


_READ_ONLY = ("raw files are read only as regular files inside the project: copy the file into "
              "data/raw/ instead")
_INSIDE = "corpus files must be inside it"


def read_raw_bytes(path: str | os.PathLike, root: str | os.PathLike | None = None) -> bytes:
    """The bytes of a raw file, refused by name (InputError) if raw_path_problem objects."""
    problem = raw_path_problem(path, root)
    if problem:
        raise InputError(f"{path}: {problem}")
    full = Path(path) if root is None else Path(root) / path
    # O_NOFOLLOW: a link swapped in after the check still is not followed; O_NONBLOCK: a FIFO
    # does not hang the open (and is refused below).
    try:
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        raise InputError(f"{path}: cannot read the file: {err.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise InputError(f"{path}: is not a regular file")
        return handle.read()


def read_raw(path: str | os.PathLike, root: str | os.PathLike | None = None) -> str:
    return decode_raw(read_raw_bytes(path, root), path)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp, 0o666 & ~UMASK)  # mkstemp makes 0600; outputs are for everyone to read
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def csv_text(fieldnames: Sequence[str], rows: Iterable[Mapping[str, object]]) -> str:
    """Rows as CSV text: a header, LF line ends, cells quoted only where they must be."""
    fieldnames = list(fieldnames)
    lines = [",".join(map(csv_cell, fieldnames))]
    for row in rows:
        lines.append(",".join(csv_cell(_cell(row.get(key, ""))) for key in fieldnames))
    return "\n".join(lines) + "\n"


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def csv_cell(cell: str) -> str:
    """A cell as the csv module's minimal quoting writes it, except that a lone carriage
    return is quoted too: csv with lineterminator="\n" leaves it bare, and every CSV reader
    (csv.reader, pandas, spreadsheets) then splits the row there."""
    return '"' + cell.replace('"', '""') + '"' if _NEEDS_QUOTES.search(cell) else cell


# What a spreadsheet runs as a formula when a cell starts with it (CSV injection): these
# characters first, or after leading spaces; a plain number ("-0.5") is only a number.
_FORMULA_FIRST = "=+-@"
_FORMULA_CONTROL = "\t\r"


def formula_start(value: str) -> str | None:
    """The character that would make a spreadsheet read `value` as a formula, or None."""
    if value[:1] and value[0] in _FORMULA_CONTROL:
        return value[0]
    stripped = value.lstrip()
    if not stripped or stripped[0] not in _FORMULA_FIRST:
        return None
    try:
        float(stripped)
    except ValueError:
        return stripped[0]
    return None


def spreadsheet_cell(value: str) -> str:
    """A cell for a file meant for spreadsheet tools: a leading apostrophe (shown by none of
    them, the usual guard) before text that would otherwise run as a formula. Data tables do
    not use this: their text stays exactly the source's."""
    return "'" + value if formula_start(value) else value


def write_csv(path: str | os.PathLike, fieldnames: Sequence[str],
              rows: Iterable[Mapping[str, object]]) -> None:
    atomic_write_text(path, csv_text(fieldnames, rows))


@contextlib.contextmanager
def paused_gc():
    """No cyclic garbage collection inside: for loops that build large tables of rows that
    hold no cycles, which collections would otherwise walk again and again as they grow."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_json(path: str | os.PathLike, data: object) -> None:
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Tee:
    def __init__(self, *streams):
        self.streams = streams

    def write(self, data):
        for stream in self.streams:
            stream.write(data)
            stream.flush()
        return len(data)

    def flush(self):
        for stream in self.streams:
            stream.flush()


def tee_stderr_to(log_path: str) -> None:
    """For Snakemake `script:` rules: keep messages on the terminal and in the rule's log."""
    import sys

    sys.stderr = _Tee(sys.__stderr__, open(log_path, "w", encoding="utf-8"))
