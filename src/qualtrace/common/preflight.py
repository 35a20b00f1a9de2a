"""What the Snakefile checks before Snakemake reads the config or schedules a job.

A job that fails makes Snakemake delete that job's outputs, so a bad config or codebook must
be refused here, once, with `file:line:col: message`: then nothing already built is touched,
and three parallel jobs do not each print the same error. Every problem stops the workflow with
one line, `qualtrace: error: ...`, and no traceback.
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from .. import layout

__all__ = ["stop", "check_config_files", "check_codebook", "codebook_facets", "check_corpus",
           "check_render", "external_scores", "check_project_files"]

_PACKAGE = Path(__file__).resolve().parents[1]
# Where a passing codebook (by content) and corpus (by names, sizes, mtimes) are remembered: an
# empty file each, so a no-op run does not redo the work.
STAMPS = Path(layout.VALIDATED)


def stop(message: str):
    """End the workflow with one line on stderr (the one error policy)."""
    print(f"qualtrace: error: {message}", file=sys.stderr)
    raise SystemExit(1)


def check_config_files(paths, schema_path) -> None:
    """Each config file, before anything else reads it: Snakemake's own loader gives no line
    for a syntax error and expands YAML aliases without a bound."""
    from .config import ConfigError, validate_config_file

    for path in paths:
        try:
            validate_config_file(path, schema_path)
        except ConfigError as err:
            stop(str(err))


def _fingerprint(codebook: Path, schema: Path) -> str:
    """The codebook's and schema's bytes, and the package code that judges them (sizes and
    mtimes of its modules, so upgrading the package re-validates)."""
    digest = hashlib.sha256()
    for path in (codebook, schema):
        digest.update(path.read_bytes() + b"\0")
    for module in sorted(_PACKAGE.rglob("*.py")):
        stat = module.stat()
        name = module.relative_to(_PACKAGE)
        digest.update(f"{name} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def check_project_files(paths, what: str) -> None:
    """Stop unless every path is a regular file inside the project, reached without symbolic
    links: the raw files' guard (common.io.raw_path_problem), for the other files a config
    names (codebook, scores file, gold files, review decisions). A missing file is left to
    the reader, which names it."""
    from .io import raw_path_problem

    for path in paths:
        problem = raw_path_problem(path, root=os.getcwd())
        if problem:
            stop(f"{path}: {problem.split('; ')[0]}; {what} must be a regular file inside the "
                 "project")


def check_codebook(path, schema_path) -> None:
    """Load and compile the codebook fully (schema, references, every term), as the coding job
    will. A passing version is remembered by content, so the ~1 s this takes is paid once per
    edit, not on every Snakemake start (a no-op run must stay fast)."""
    check_project_files([path], "the codebook (config codebook)")
    codebook, schema = Path(path), Path(schema_path)
    try:
        key = _fingerprint(codebook, schema)
    except OSError as err:
        stop(f"{path}: cannot read the codebook: {err.strerror}")
    stamp = STAMPS / f"codebook-{key[:32]}"
    if stamp.exists():
        return
    from ..coding.codebook import CodebookError, load_codebook

    try:
        load_codebook(codebook)
    except CodebookError as err:
        stop(str(err))
    _remember(stamp)


def codebook_facets(path) -> list[str]:
    """The ids of the codebook's facets, in codebook order: the workflow makes one
    theme_by_<facet> table and chart per facet. Read after check_codebook accepted the file
    (a plain YAML read: compiling the codebook would slow every Snakemake start)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=loader)
    return [facet["id"] for facet in data.get("facets") or []]


def check_corpus(patterns) -> dict[str, str]:
    """The corpus (doc_id -> path), or stop naming the file: a link or a path outside the
    project, a name Snakemake reads as a wildcard, two files with one id or one text."""
    from ..corpus.discovery import discover, refuse_duplicate_files
    from .io import InputError

    try:
        documents = discover(patterns, root=os.getcwd())  # nothing outside the project
        if not documents:
            stop(f"no input documents: nothing matches {patterns} (config corpus.patterns); "
                 "put report chapters in data/raw/")
        # Reading every file for the duplicate check is the costly part of a no-op start at a
        # thousand documents: done again only when a file's name, size or mtime changed.
        stamp = STAMPS / f"corpus-{_files_fingerprint(documents.values())[:32]}"
        if not stamp.exists():
            refuse_duplicate_files(documents)
            _remember(stamp)
    except InputError as err:
        stop(str(err))
    return documents


def _files_fingerprint(paths) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        stat = os.stat(path)
        digest.update(f"{path}\0{stat.st_size} {stat.st_mtime_ns} {stat.st_ino}\n".encode(
            "utf-8", "surrogateescape"))
    return digest.hexdigest()


def _remember(stamp: Path) -> None:
    """Leave the stamp of a passing check (and drop older ones of its kind)."""
    kind = stamp.name.split("-", 1)[0]
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        for old in stamp.parent.glob(f"{kind}-*"):
            old.unlink(missing_ok=True)
        stamp.touch()
    except OSError:
        pass  # a read-only checkout: check again next time


def check_render(config: dict, configfiles) -> None:
    """A render engine this machine lacks, refused now: the report jobs would fail after
    Snakemake had deleted the report and report_numbers.csv they were to replace."""
    requested = config.get("render", {}).get("engine", "auto")
    if requested == "quarto":  # the only engine that can be missing; import only then
        from ..report.render import missing_engine

        problem = missing_engine(requested)
        if problem:
            stop(f"{', '.join(map(str, configfiles)) or 'the config'}: {problem}")


def external_scores(config: dict) -> list[str]:
    """The scores file of config `validity.external_scores` as a list (empty when none is
    named), read once now: a malformed row stops the build with `FILE:LINE: problem` before
    the report job could delete the report it was to replace."""
    path = (config.get("validity") or {}).get("external_scores")
    if not path:
        return []
    check_project_files([path], "the scores file (config validity.external_scores)")
    from ..analysis.gold_scores import read_scores
    from .io import InputError

    try:
        read_scores(path)
    except InputError as err:
        stop(str(err))
    return [path]
