# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Theme breakdowns
#
# Counts coded segments per theme (`theme_summary`), per pair of themes (`theme_cooccurrence`)
# and per theme x facet value (`theme_by_<facet>`, a full grid including zero rows).
# Every count sits beside the ids it counts, and the tables are checked for that before they are
# written. Boilerplate segments are never counted; coding rows that name one (or an unknown
# segment or label) are listed on stderr.
#
# Run by Snakemake as a `script:` with named inputs `segments`, `codings`, `facets`, `codebook`
# and named outputs `theme_summary`, `theme_cooccurrence`, `theme_by_<facet>` (one per facet to
# write; the facet's values come from the codebook). Standalone (or in Jupyter) it reads and
# writes under `data/processed/`. The logic lives in `qualtrace.analysis.breakdowns`.

# %%
import sys

import yaml

from qualtrace import layout
from qualtrace.analysis import breakdowns
from qualtrace.common.io import tee_stderr_to
from qualtrace.common.tables import read_table, write_table

try:
    smk = snakemake  # noqa: F821 - injected by Snakemake's script: directive
    inputs, outputs = dict(smk.input.items()), dict(smk.output.items())
    tee_stderr_to(smk.log[0])
except NameError:
    inputs = {name: layout.table(name) for name in ("segments", "codings", "facets")}
    inputs["codebook"] = "config/codebook.yaml"
    outputs = None  # every table, one theme_by_<facet> per facet of the codebook

# %%
segments = read_table(inputs["segments"], "segments")
codings = read_table(inputs["codings"], "codings")
facets = read_table(inputs["facets"], "facets")
with open(inputs["codebook"], encoding="utf-8") as handle:
    themes, facet_values = breakdowns.codebook_labels(yaml.safe_load(handle))
if outputs is None:
    outputs = {name: layout.table(name) for name in
               ("theme_summary", "theme_cooccurrence", *map(layout.by_facet_name, facet_values))}
wanted = {name[len(layout.BY_FACET_PREFIX):] for name in outputs
          if name.startswith(layout.BY_FACET_PREFIX)}
missing = wanted - set(facet_values)
if missing:
    raise SystemExit(f"codebook defines no facet(s) {sorted(missing)} for outputs theme_by_*")
facet_values = {f: facet_values[f] for f in facet_values if f in wanted}

# %%
tables = breakdowns.build_tables(segments, codings, facets, themes, facet_values)
for row in breakdowns.exclusions(segments, codings, facets, themes, facet_values):
    print(f"breakdowns: not counted ({row['reason']}): {row['table']} "
          f"{row['segment_id']} {row['label']}", file=sys.stderr)
problems = [f"{name}: {p}" for name, rows in tables.items()
            for p in breakdowns.verify_table(rows, name)]
if problems:
    raise SystemExit("count/id mismatch:\n" + "\n".join(problems))

# %%
for name, path in outputs.items():
    write_table(tables[name], path, name)

# %%
tables["theme_summary"].head()
