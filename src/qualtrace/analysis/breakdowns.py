"""Theme breakdowns whose every count is backed by the ids it counts.

All functions are pure: they take rows as read from CSV (lists of dicts of strings) and return
rows ready for `qualtrace.common.io.write_csv`. Each count column travels with an id column
(`n_segments` with `segment_ids`, `n_documents` with `doc_ids`, ...) so a reviewer can recompute
any number from the table itself; `verify_counts` checks exactly that.

Boilerplate segments are never counted. A coding/facet row that names a boilerplate segment, a
segment missing from segments.csv, or a label outside the codebook is silently left out of the
tables; `excluded_rows` lists those rows with the reason so the caller (notebook, checks stage)
can report them instead of hiding them.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Mapping, Sequence

# Paired columns: a count and the space-separated ids it must equal the number of.
BY_FACET_FIELDS = ["theme", "value", "n_segments", "n_documents", "n_interviews",
                   "segment_ids", "doc_ids", "interview_ids"]
SUMMARY_FIELDS = ["theme", "label", "n_segments", "n_documents", "n_key_points",
                  "n_quotations", "n_interviews", "segment_ids", "doc_ids", "key_point_ids",
                  "quotation_ids", "interview_ids"]
COOCCURRENCE_FIELDS = ["theme_a", "theme_b", "n_segments", "segment_ids"]

COUNT_ID_PAIRS = {
    "theme_by_facet": [("n_segments", "segment_ids"), ("n_documents", "doc_ids"),
                       ("n_interviews", "interview_ids")],
    "theme_summary": [("n_segments", "segment_ids"), ("n_documents", "doc_ids"),
                      ("n_key_points", "key_point_ids"), ("n_quotations", "quotation_ids"),
                      ("n_interviews", "interview_ids")],
    "theme_cooccurrence": [("n_segments", "segment_ids")],
}


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


def countable_segments(segments: Iterable[Mapping[str, str]]) -> dict[str, Mapping[str, str]]:
    """segment_id -> row for every segment that may be counted (not boilerplate)."""
    return {s["segment_id"]: s for s in segments if not _is_true(s.get("boilerplate", ""))}


def excluded_rows(segments, rows, label_field: str, labels: Iterable[str]) -> list[dict]:
    """Coding/facet rows the breakdowns leave out, each with `reason`.

    Reasons: `boilerplate` (the segment is boilerplate, which is never coded or counted),
    `unknown_segment` (not in segments.csv), `unknown_label` (not in `labels`).
    """
    known = {s["segment_id"]: _is_true(s.get("boilerplate", "")) for s in segments}
    allowed = set(labels)
    out = []
    for row in rows:
        sid = row["segment_id"]
        if sid not in known:
            reason = "unknown_segment"
        elif known[sid]:
            reason = "boilerplate"
        elif row[label_field] not in allowed:
            reason = "unknown_label"
        else:
            continue
        out.append({"segment_id": sid, label_field: row[label_field], "reason": reason})
    return out


def theme_by_facet(segments, codings, facets, facet: str, themes, values: Sequence[str]):
    """Full theme x value grid: segments coded with the theme AND carrying the facet value."""
    seg = countable_segments(segments)
    by_theme = _ids_by_label(codings, "theme", seg)
    by_value = _ids_by_label((f for f in facets if f["facet"] == facet), "value", seg)
    rows = []
    for theme in theme_ids(themes):
        for value in values:
            ids = by_theme.get(theme, set()) & by_value.get(value, set())
            rows.append({"theme": theme, "value": value, **_segment_stats(ids, seg)})
    return rows


def theme_summary(segments, codings, themes):
    """One row per codebook theme, with key-point and quotation counts and their ids."""
    seg = countable_segments(segments)
    by_theme = _ids_by_label(codings, "theme", seg)
    labels = theme_labels(themes)
    rows = []
    for theme in theme_ids(themes):
        ids = by_theme.get(theme, set())
        stats = _segment_stats(ids, seg)
        key_points = [i for i in ids if seg[i].get("kind") == "key_point"]
        quotes = [i for i in ids if seg[i].get("kind") == "quote"]
        rows.append({
            "theme": theme, "label": labels[theme],
            "n_segments": stats["n_segments"], "n_documents": stats["n_documents"],
            "n_key_points": str(len(key_points)), "n_quotations": str(len(quotes)),
            "n_interviews": stats["n_interviews"], "segment_ids": stats["segment_ids"],
            "doc_ids": stats["doc_ids"], "key_point_ids": _join(key_points),
            "quotation_ids": _join(quotes), "interview_ids": stats["interview_ids"],
        })
    return rows


def theme_cooccurrence(segments, codings, themes):
    """Long table over pairs a <= b in codebook order.

    The diagonal (a == b) is included and equals the theme's own segment count, so the table
    is a complete upper triangle that a heatmap can use without a join.
    """
    seg = countable_segments(segments)
    by_theme = _ids_by_label(codings, "theme", seg)
    order = theme_ids(themes)
    rows = []
    for i, a in enumerate(order):
        for b in order[i:]:
            ids = by_theme.get(a, set()) & by_theme.get(b, set())
            rows.append({"theme_a": a, "theme_b": b, "n_segments": str(len(ids)),
                         "segment_ids": _join(ids)})
    return rows


def verify_counts(rows, count_field: str, ids_field: str) -> list[str]:
    """Problems where a count differs from the number of distinct ids beside it; [] when sound.

    Also flags ids listed twice or out of sorted order, since either would make the id list
    an unreliable witness for its count.
    """
    problems = []
    for n, row in enumerate(rows, start=1):
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
    """Every breakdown table by its output name -> (fieldnames, rows).

    Names: `theme_summary`, `theme_cooccurrence`, and `theme_by_<facet>` per facet.
    """
    tables = {
        "theme_summary": (SUMMARY_FIELDS, theme_summary(segments, codings, themes)),
        "theme_cooccurrence": (COOCCURRENCE_FIELDS,
                               theme_cooccurrence(segments, codings, themes)),
    }
    for facet, values in facet_values.items():
        tables[f"theme_by_{facet}"] = (
            BY_FACET_FIELDS, theme_by_facet(segments, codings, facets, facet, themes, values))
    return tables


def exclusions(segments, codings, facets, themes, facet_values) -> list[dict]:
    """`excluded_rows` for codings and every facet, tagged with `table` and `label`."""
    out = [{"table": "codings", "label": r["theme"], **r}
           for r in excluded_rows(segments, codings, "theme", theme_ids(themes))]
    for facet, values in facet_values.items():
        rows = [f for f in facets if f["facet"] == facet]
        out += [{"table": f"facets:{facet}", "label": r["value"], **r}
                for r in excluded_rows(segments, rows, "value", values)]
    return out


# --- helpers ---------------------------------------------------------------------------------

def _is_true(value: str) -> bool:
    return str(value).strip().lower() == "true"


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


def _ids_by_label(rows, label_field: str, seg: Mapping) -> dict[str, set[str]]:
    ids = defaultdict(set)
    for row in rows:
        if row["segment_id"] in seg:  # drops boilerplate and unknown segments
            ids[row[label_field]].add(row["segment_id"])
    return ids


def _segment_stats(ids: Iterable[str], seg: Mapping) -> dict[str, str]:
    ids = set(ids)
    docs = {seg[i]["doc_id"] for i in ids}
    interviews = {seg[i].get("interview_id", "") for i in ids} - {""}
    return {"n_segments": str(len(ids)), "n_documents": str(len(docs)),
            "n_interviews": str(len(interviews)), "segment_ids": _join(ids),
            "doc_ids": _join(docs), "interview_ids": _join(interviews)}


def _join(ids: Iterable[str]) -> str:
    # Plain sort is the natural order: segment ids are <doc_id>-<NNNN>, zero padded.
    return " ".join(sorted(set(ids)))
