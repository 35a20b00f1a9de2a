"""The processed tables as pandas DataFrames with explicit dtypes, and their one CSV format.

Each table's columns, their order and their dtypes are defined once, in its JSON schema under
qualtrace/schemas/ (`<table>.schema.yaml`; every theme_by_<facet> shares
theme_by_facet.schema.yaml): the order of `properties` is the column order and a column's
`dtype` annotation (boolean, Int64 or Float64; text when absent) its pandas dtype. The schema
describes the cells as written, so any CSV reader can check a file with it.

`read_table` never lets pandas guess: every cell is read as text, then converted to the declared
dtype ("" is missing: <NA>). `write_table` converts to the declared dtypes, formats the cells
(true/false, integers without a decimal point, floats with four decimals), validates them
against the schema, sorts the rows by the schema's `sort_by` columns (if any; otherwise the
producer's order, e.g. codebook order, is the table's order) and replaces the file atomically:
a row that fails the schema is reported in one line naming the file, the row and the column,
and the previous file stays as it was.

Validation reads the schema itself rather than a second description of each table (pandera):
the schemas stay the single, tool-neutral definition. Because they constrain each column on
its own (no keyword spans two columns; this module refuses a schema that would), a column is
checked at once for the keywords the schemas use (enum, pattern, lengths, with JSON Schema's
meaning; a property test holds this to jsonschema's verdicts), and by jsonschema, value by
value, for any other keyword; jsonschema words the message for the first bad cell.
"""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

import yaml

from .. import SCHEMA_DIR, layout
from .io import InputError, atomic_write_bytes, csv_cell

if TYPE_CHECKING:  # pandas is imported on first use: it costs ~0.4 s per process
    import pandas as pd

DTYPES = ("string", "boolean", "Int64", "Float64")
FLOAT_FORMAT = "{:.4f}"
TRUE, FALSE = "true", "false"
# What a table schema may say at its top level: nothing that relates one column to another.
_TOP_LEVEL = {"$schema", "title", "description", "type", "additionalProperties", "required",
              "properties", "sort_by"}


class TableError(InputError):
    """A table that does not match its schema (read or about to be written)."""


def schema_name(name: str) -> str:
    """The schema of table `name` (theme_by_<facet> tables share one)."""
    return "theme_by_facet" if name.startswith(layout.BY_FACET_PREFIX) else name


@functools.cache
def schema(name: str) -> dict:
    """The JSON schema of table `name`, checked to be one this module can apply column-wise."""
    path = SCHEMA_DIR / f"{schema_name(name)}.schema.yaml"
    if not path.is_file():
        raise KeyError(f"no schema for table {name!r} ({path.name} in {SCHEMA_DIR})")
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    extra = set(spec) - _TOP_LEVEL
    columns = list(spec["properties"])
    if (extra or spec.get("additionalProperties") is not False
            or sorted(spec.get("required", [])) != sorted(columns)):
        raise ValueError(f"{path.name}: a table schema lists every column under properties and "
                         f"required, with additionalProperties: false (extra keys: {sorted(extra)})")
    for column, prop in spec["properties"].items():
        if prop.get("dtype", "string") not in DTYPES:
            raise ValueError(f"{path.name}: {column}: dtype must be one of {DTYPES}")
    return spec


def columns(name: str) -> list[str]:
    """The columns of table `name`, in file order."""
    return list(schema(name)["properties"])


def dtypes(name: str) -> dict[str, str]:
    """Column -> pandas dtype of table `name`."""
    return {c: p.get("dtype", "string") for c, p in schema(name)["properties"].items()}


def table_name(path: str | os.PathLike) -> str:
    """The table a path holds, by its file name (data/processed/codings.csv -> codings)."""
    return Path(path).stem


def _location(path_or_name: str | os.PathLike, name: str | None) -> tuple[Path, str]:
    text = os.fspath(path_or_name)
    if name is None and "/" not in text and not text.endswith(".csv"):
        return Path(layout.table(text)), text
    return Path(text), name or table_name(text)


def read_table(path_or_name: str | os.PathLike, name: str | None = None) -> "pd.DataFrame":
    """A table as a DataFrame of its declared dtypes. `path_or_name` is a table name (read from
    layout's path, relative to the working directory) or a path; `name` says which table a path
    holds when its file name does not."""
    import pandas as pd

    path, name = _location(path_or_name, name)
    wanted = columns(name)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                            encoding="utf-8", engine="c")
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame(columns=wanted, dtype=str)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise TableError(f"{path}: not a readable CSV table: {str(err).strip()}") from None
    if list(frame.columns) != wanted:
        raise TableError(f"{path}: columns {','.join(map(str, frame.columns))}; the {name} table "
                         f"has {','.join(wanted)}")
    return _typed(frame, name, path)


def _typed(frame: "pd.DataFrame", name: str, path) -> "pd.DataFrame":
    """Text cells -> declared dtypes; a cell that does not convert is named by row and column."""
    import pandas as pd

    out = {}
    for column, dtype in dtypes(name).items():
        cells = frame[column]
        if dtype == "string":
            out[column] = cells.astype("string")
            continue
        text = cells.astype("string").where(cells != "", None)
        if dtype == "boolean":
            converted = text.map({TRUE: True, FALSE: False}, na_action="ignore")
            bad = converted.isna() & text.notna()
        elif dtype == "Int64":  # digits only: "1e3" or "2.0" is not an offset
            bad = text.notna() & ~text.str.fullmatch(r"-?[0-9]+").fillna(False)
            converted = pd.to_numeric(text.where(~bad, None))
        else:
            converted = pd.to_numeric(text, errors="coerce")
            bad = converted.isna() & text.notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise TableError(f"{path}: row {row + 1}, column {column}: {text.iloc[row]!r} is not "
                             f"{'true/false' if dtype == 'boolean' else 'a number'}")
        out[column] = converted.astype(dtype)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def frame(name: str, rows: Iterable[Mapping] | "pd.DataFrame") -> "pd.DataFrame":
    """Rows (dicts, or a DataFrame) as table `name` with its columns and dtypes. Booleans may
    come as bool or "true"/"false", numbers as numbers or their text; None and "" are missing."""
    import pandas as pd

    wanted = columns(name)
    if isinstance(rows, pd.DataFrame):
        data = rows
    else:  # a row may leave a column out (missing); a column the table lacks is an error
        rows = list(rows)
        # object: pandas must not turn a column of ints and None into floats
        data = pd.DataFrame(rows, dtype=object) if rows else pd.DataFrame(columns=wanted)
        data = data.reindex(columns=[*wanted, *(c for c in data.columns if c not in wanted)])
    extra = [c for c in data.columns if c not in wanted]
    missing = [c for c in wanted if c not in data.columns]
    if extra or missing:
        raise TableError(f"{layout.table(name) if _is_layout(name) else name}: the {name} table "
                         f"has no column(s) {extra}; missing {missing}")
    if {c: str(data[c].dtype) for c in wanted} == dtypes(name):  # typed already
        return data[wanted].reset_index(drop=True)
    text = pd.DataFrame({c: _as_text(data[c]) for c in wanted}, index=pd.RangeIndex(len(data)))
    return _typed(text, name, name)


def _is_layout(name: str) -> bool:
    return name in layout.TABLES or name.startswith(layout.BY_FACET_PREFIX)


def _as_text(cells: "pd.Series") -> "pd.Series":
    """Any column as its CSV text (the inverse of the conversions in _typed)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(cells.dtype):
        return cells.map({True: TRUE, False: FALSE}, na_action="ignore").astype("string").fillna("")
    if pd.api.types.is_float_dtype(cells.dtype):
        return cells.map(_float_text, na_action="ignore").astype("string").fillna("")
    if pd.api.types.is_integer_dtype(cells.dtype):
        return cells.astype("string").fillna("")
    if isinstance(cells.dtype, pd.StringDtype) or pd.api.types.infer_dtype(
            cells, skipna=False) in ("string", "empty"):  # text already: no per-cell call
        return cells.astype("string").fillna("")
    return cells.map(_cell_text).astype("string")


def _cell_text(value) -> str:
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, float):
        return _float_text(value)
    return str(value)


def _float_text(value: float) -> str:
    text = FLOAT_FORMAT.format(value)
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text  # no "-0.0000"


def cells(data: "pd.DataFrame", name: str) -> "pd.DataFrame":
    """A typed table's cells as written: true/false, integers, four-decimal floats, "" = missing."""
    import pandas as pd

    return pd.DataFrame({c: _as_text(data[c]) for c in columns(name)},
                        index=pd.RangeIndex(len(data)))


def validate(text: "pd.DataFrame", name: str, path) -> None:
    """The cells of table `name` against its schema; TableError names the first bad cell,
    with jsonschema's message for it."""
    from jsonschema.validators import validator_for

    spec = schema(name)
    checker_class = validator_for(spec)
    for column, prop in spec["properties"].items():
        prop = {k: v for k, v in prop.items() if k != "dtype"}
        cells = text[column]
        bad = _first_bad(cells, prop, checker_class)
        if bad is not None:
            error = next(iter(checker_class(prop).iter_errors(cells.iloc[bad])))
            raise TableError(f"{path}: row {bad + 1}, column {column}: {error.message}")


# The keywords a table schema's columns use, checked a column at a time with the meaning JSON
# Schema gives them (pattern: a regular-expression search, as jsonschema does; lengths in code
# points). A column using any other keyword is checked by jsonschema itself, value by value.
# tests/test_tables.py checks these against jsonschema on the package's own schemas.
_COLUMN_KEYWORDS = {"type", "enum", "pattern", "minLength", "maxLength"}


def _first_bad(cells: "pd.Series", prop: dict, checker_class) -> int | None:
    """The position of the first cell that fails `prop`, or None."""
    import numpy as np

    used = set(prop) & set(checker_class.VALIDATORS)
    if prop.get("type", "string") != "string" or used - _COLUMN_KEYWORDS:
        checker = checker_class(prop)
        failing = [i for i, cell in enumerate(cells.unique().tolist())
                   if not checker.is_valid(cell)]
        return (None if not failing else
                int(cells.isin([cells.unique()[i] for i in failing]).to_numpy().argmax()))
    ok = np.ones(len(cells), dtype=bool)
    if "enum" in prop:
        ok &= cells.isin(prop["enum"]).to_numpy()
    if "pattern" in prop:
        search = re.compile(prop["pattern"]).search  # re caches the compiled pattern
        ok &= np.fromiter((search(cell) is not None for cell in cells.tolist()), bool, len(cells))
    if "minLength" in prop or "maxLength" in prop:
        length = cells.str.len().to_numpy()
        ok &= (length >= prop.get("minLength", 0)) & (length <= prop.get("maxLength", np.inf))
    return None if ok.all() else int((~ok).argmax())


def table_bytes(data: "pd.DataFrame | Iterable[Mapping]", name: str, path="") -> bytes:
    """Table `name` as the CSV bytes write_table writes (validated and sorted)."""
    typed = frame(name, data)
    order = schema(name).get("sort_by")
    if order:
        typed = typed.sort_values(order, kind="stable", ignore_index=True)
    text = cells(typed, name)
    validate(text, name, path or name)
    lines = [",".join(map(csv_cell, text.columns))]
    if len(text):
        quoted = [[csv_cell(cell) for cell in text[c].tolist()] for c in text.columns]
        lines += [",".join(row) for row in zip(*quoted)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_table(data: "pd.DataFrame | Iterable[Mapping]", path_or_name: str | os.PathLike,
                name: str | None = None) -> None:
    """Write table `name` (from the path's file name unless given) after validating it; the
    file is replaced atomically, or left as it was when a row fails its schema."""
    path, name = _location(path_or_name, name)
    atomic_write_bytes(path, table_bytes(data, name, path))


def records(data: "pd.DataFrame") -> list[dict]:
    """Rows as dicts of plain Python values (str, bool, int, float; None where missing), for
    code that walks a table row by row."""
    plain = data.astype(object).where(data.notna(), None)
    return plain.to_dict("records")
