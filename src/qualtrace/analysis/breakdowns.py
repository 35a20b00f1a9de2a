"""Theme breakdowns whose every count is backed by the ids it counts.

Pandas group-bys over the typed tables (qualtrace.common.tables): each function takes the
segments, codings and facets as DataFrames (or rows, for small callers) and returns the
breakdown as a DataFrame with the columns and dtypes of its schema, ready for `write_table`.
Each count column travels with an id column (`n_segments` with `segment_ids`, `n_documents`
with `doc_ids`, ...) so a reviewer can recompute any number from the table itself;
`verify_counts` checks exactly that.

Boilerplate segments are never counted. A coding/facet row that names a boilerplate segment, a
segment missing from segments.csv, or a label outside the codebook is silently left out of the
tables; `excluded_rows` lists those rows with the reason so the caller (notebook, checks stage)
can report them instead of hiding them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

import pandas as pd

from ..common.tables import frame, records

if TYPE_CHECKING:
    Rows = pd.DataFrame | Iterable[Mapping]

# Paired columns: a count and the space-separated ids it must equal the number of.
COUNT_ID_PAIRS = {
    "theme_by_facet": [("n_segments", "segment_ids"), ("n_documents", "doc_ids"),
                       ("n_interviews", "interview_ids")],
    "theme_summary": [("n_segments", "segment_ids"), ("n_documents", "doc_ids"),
                      ("n_key_points", "key_point_ids"), ("n_quotations", "quotation_ids"),
                      ("n_interviews", "interview_ids")],
    "theme_cooccurrence": [("n_segments", "segment_ids")],
}
# What a breakdown reads of a segment.
SEGMENT_COLUMNS = ["segment_id", "doc_id", "kind", "interview_id"]


def theme_ids(themes: Mapping[str, str] | Iterable[str] | Iterable[Mapping]) -> list[str]:
    """Theme ids in codebook order from a {id: label} mapping, a list of ids or of {id, label}."""
    return [t["id"] if isinstance(t, Mapping) else t for t in _theme_items(themes)]


def theme_labels(themes) -> dict[str, str]:
    labels = {}
    for item in _theme_items(themes):
        if isinstance(item, Mapping):
            labels[item["id"]] = str(item.get("label", item["id"]))
        elif isinstance(themes, Mapping):
            body = themes[item]
            labels[item] = str(body.get("label", item) if isinstance(body, Mapping) else body)
        else:
            labels[item] = item
    return labels


def _table(rows: "Rows", columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame of (at least) `columns`; "" where a row lacks one."""
    data = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(list(rows))
    for column in columns:
        if column not in data.columns:
            data = data.assign(**{column: ""})
    return data


def countable_segments(segments: "Rows") -> pd.DataFrame:
    """The segments that may be counted (not boilerplate), one row per segment_id (the last)."""
    data = _table(segments, [*SEGMENT_COLUMNS, "boilerplate"])
    flagged = data["boilerplate"].astype("boolean").fillna(False)
    return (data.loc[~flagged.to_numpy(), SEGMENT_COLUMNS]
            .drop_duplicates("segment_id", keep="last")
            .astype("string").fillna(""))


def excluded_rows(segments, rows, label_field: str, labels: Iterable[str]) -> list[dict]:
    """Coding/facet rows the breakdowns leave out, each with `reason`.

    Reasons: `boilerplate` (the segment is boilerplate, which is never coded or counted),
    `unknown_segment` (not in segments.csv), `unknown_label` (not in `labels`).
    """
    seg = _table(segments, ["segment_id", "boilerplate"]).drop_duplicates("segment_id",
                                                                         keep="last")
    flagged = dict(zip(seg["segment_id"], seg["boilerplate"].astype("boolean").fillna(False)))
    data = _table(rows, ["segment_id", label_field])
    allowed = set(labels)
    out = []
    for sid, label in zip(data["segment_id"], data[label_field]):
        if sid not in flagged:
            reason = "unknown_segment"
        elif flagged[sid]:
            reason = "boilerplate"
        elif label not in allowed:
            reason = "unknown_label"
        else:
            continue
        out.append({"segment_id": sid, label_field: label, "reason": reason})
    return out


def coded_segments(segments, rows: "Rows", label_field: str) -> pd.DataFrame:
    """(label, segment) pairs of countable segments, with what the breakdowns count of each."""
    data = _table(rows, ["segment_id", label_field])[["segment_id", label_field]]
    pairs = data.astype("string").drop_duplicates().rename(columns={label_field: "label"})
    return pairs.merge(countable_segments(segments), on="segment_id", how="inner")


def theme_by_facet(segments, codings, facets, facet: str, themes, values: Sequence[str]):
    """Full theme x value grid: segments coded with the theme AND carrying the facet value."""
    facet_rows = _table(facets, ["segment_id", "facet", "value"])
    facet_rows = facet_rows[facet_rows["facet"] == facet]
    by_value = coded_segments(segments, facet_rows, "value")[["segment_id", "label"]]
    both = coded_segments(segments, codings, "theme").merge(
        by_value.rename(columns={"label": "value"}), on="segment_id")
    grid = pd.MultiIndex.from_product([theme_ids(themes), list(values)], names=["theme", "value"])
    stats = _stats(both.rename(columns={"label": "theme"}), ["theme", "value"], grid)
    return frame("theme_by_facet", stats)


def theme_summary(segments, codings, themes):
    """One row per codebook theme, with key-point and quotation counts and their ids."""
    coded = coded_segments(segments, codings, "theme").rename(columns={"label": "theme"})
    grid = pd.Index(theme_ids(themes), name="theme")
    stats = _stats(coded, ["theme"], grid)
    for kind, name in (("key_point", "key_point"), ("quote", "quotation")):
        ids = _ids(coded[coded["kind"] == kind], ["theme"], grid)
        stats[f"n_{name}s"], stats[f"{name}_ids"] = _count(ids).to_numpy(), ids.to_numpy()
    stats.insert(1, "label", stats["theme"].map(theme_labels(themes)))
    return frame("theme_summary", stats)


def theme_cooccurrence(segments, codings, themes):
    """Long table over pairs a <= b in codebook order.

    The diagonal (a == b) is included and equals the theme's own segment count, so the table
    is a complete upper triangle that a heatmap can use without a join.
    """
    coded = coded_segments(segments, codings, "theme")[["segment_id", "label"]]
    pairs = coded.merge(coded, on="segment_id", suffixes=("_a", "_b")).rename(
        columns={"label_a": "theme_a", "label_b": "theme_b"})
    order = theme_ids(themes)
    grid = pd.MultiIndex.from_tuples([(a, b) for i, a in enumerate(order) for b in order[i:]],
                                     names=["theme_a", "theme_b"])
    ids = _ids(pairs, ["theme_a", "theme_b"], grid)
    out = ids.to_frame("segment_ids").reset_index()
    out.insert(2, "n_segments", _count(ids).to_numpy())
    return frame("theme_cooccurrence", out)


def verify_counts(rows, count_field: str, ids_field: str) -> list[str]:
    """Problems where a count differs from the number of distinct ids beside it; [] when sound.

    Also flags ids listed twice or out of sorted order, since either would make the id list
    an unreliable witness for its count.
    """
    problems = []
    for n, row in enumerate(records(rows) if isinstance(rows, pd.DataFrame) else rows, start=1):
        ids = row[ids_field].split()
        if ids != sorted(set(ids)):
            problems.append(f"row {n}: {ids_field} not sorted and distinct: {row[ids_field]!r}")
        if str(row[count_field]) != str(len(set(ids))):
            problems.append(f"row {n}: {count_field}={row[count_field]} but {ids_field} "
                            f"lists {len(set(ids))} ids")
    return problems


def verify_table(rows, table: str) -> list[str]:
    """`verify_counts` over every count/ids pair of a table named as in `build_tables`."""
    kind = "theme_by_facet" if table.startswith("theme_by_") else table
    return [p for count, ids in COUNT_ID_PAIRS[kind] for p in verify_counts(rows, count, ids)]


def codebook_labels(codebook: Mapping) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(themes {id: label}, facets {facet: [value ids]}) from a parsed codebook.

    Accepts `themes`/`facets` written either as lists of {id, label, ...} or as mappings keyed
    by id; a facet's values may sit under `values` or be the facet entry itself.
    """
    themes = {k: v for k, v in _id_items(codebook.get("themes", []))}
    facets = {}
    for facet_id, body in _id_items(codebook.get("facets", {}), keep_body=True):
        values = body.get("values", body) if isinstance(body, Mapping) else body
        facets[facet_id] = [k for k, _ in _id_items(values)]
    return {k: str(v) for k, v in themes.items()}, facets


def build_tables(segments, codings, facets, themes, facet_values: Mapping[str, Sequence[str]]):
    """Every breakdown table (a DataFrame) by its output name: `theme_summary`,
    `theme_cooccurrence`, and `theme_by_<facet>` per facet."""
    tables = {"theme_summary": theme_summary(segments, codings, themes),
              "theme_cooccurrence": theme_cooccurrence(segments, codings, themes)}
    for facet, values in facet_values.items():
        tables[f"theme_by_{facet}"] = theme_by_facet(segments, codings, facets, facet, themes,
                                                     values)
    return tables


def exclusions(segments, codings, facets, themes, facet_values) -> list[dict]:
    """`excluded_rows` for codings and every facet, tagged with `table` and `label`."""
    out = [{"table": "codings", "label": r["theme"], **r}
           for r in excluded_rows(segments, codings, "theme", theme_ids(themes))]
    for facet, values in facet_values.items():
        rows = _table(facets, ["segment_id", "facet", "value"])
        rows = rows[rows["facet"] == facet]
        out += [{"table": f"facets:{facet}", "label": r["value"], **r}
                for r in excluded_rows(segments, rows, "value", values)]
    return out


# --- helpers ---------------------------------------------------------------------------------

def _theme_items(themes):
    return list(themes.keys()) if isinstance(themes, Mapping) else list(themes)


def _id_items(entries, keep_body: bool = False):
    """(id, label-or-body) pairs from a list of {id: ...} dicts, a list of ids, or a mapping."""
    if isinstance(entries, Mapping):
        items = entries.items()
    else:
        items = []
        for e in entries:
            items.append((e["id"], e) if isinstance(e, Mapping) else (e, e))
    out = []
    for key, body in items:
        if not keep_body and isinstance(body, Mapping):
            body = body.get("label", key)
        out.append((key, body))
    return out


def _join(ids: pd.Series) -> str:
    # Plain sort is the natural order: segment ids are <doc_id>-<NNNN>, zero padded.
    return " ".join(sorted(set(ids) - {""}))


def _ids(rows: pd.DataFrame, keys: list[str], grid: pd.Index, column: str = "segment_id"):
    """The sorted, distinct ids of `column` per group of `keys`, on every cell of `grid` ("" for
    an empty cell): the id column a count is checked against."""
    if rows.empty:
        return pd.Series("", index=grid, dtype="string")
    grouped = rows.groupby(keys, sort=False)[column].agg(_join)
    return grouped.reindex(grid, fill_value="").astype("string")


def _count(ids: pd.Series) -> pd.Series:
    """How many ids each cell lists."""
    return ids.str.split().str.len().fillna(0).astype("Int64")


def _stats(rows: pd.DataFrame, keys: list[str], grid: pd.Index) -> pd.DataFrame:
    """n_segments/n_documents/n_interviews and their id lists per cell of `grid`."""
    ids = {name: _ids(rows, keys, grid, column) for name, column in
           (("segment_ids", "segment_id"), ("doc_ids", "doc_id"),
            ("interview_ids", "interview_id"))}
    counts = {"n_segments": "segment_ids", "n_documents": "doc_ids",
              "n_interviews": "interview_ids"}
    out = pd.DataFrame({**{n: _count(ids[i]) for n, i in counts.items()}, **ids}, index=grid)
    return out.reset_index()
