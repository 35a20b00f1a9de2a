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
# # Coding quality against gold annotations
#
# Scores the pipeline's themes (`codings.csv`) and the codebook's facets (`facets.csv`)
# against hand-coded units in `data/gold/*.jsonl`: per label TP/FP/FN/TN, precision, recall,
# F1, Cohen's kappa and Krippendorff's alpha, then `__macro__` and `__micro__` rows per label
# set (conventions in `qualtrace.analysis.validation`'s docstring). Disagreements are listed one per
# (unit, label) with the gold line and the rule that fired.
#
# With no gold files both outputs are written header-only, so the workflow's outputs never
# depend on whether gold exists.
#
# Run by Snakemake as a `script:` with named inputs `segments`, `documents`, `codings`,
# `facets`, `codebook` and `gold` (a possibly empty list of JSONL files), param `tuned` (the
# gold files the rules were tuned on, config `gold.tuned_on`), and named outputs
# `coding_validation`, `coding_disagreements` and `coding_validation_by_set`. Standalone (or in Jupyter) it reads
# `data/gold/*.jsonl` and reads and writes under `data/processed/`.

# %%
from pathlib import Path

from qualtrace import layout
from qualtrace.analysis import validation
from qualtrace.coding.codebook import load_codebook
from qualtrace.common.io import tee_stderr_to, read_raw
from qualtrace.common.tables import read_table, records, write_table

try:
    smk = snakemake  # noqa: F821 - injected by Snakemake's script: directive
    inputs, outputs = dict(smk.input.items()), dict(smk.output.items())
    tee_stderr_to(smk.log[0])
    gold_paths = list(smk.input.get("gold", []))
    tuned = list(smk.params.get("tuned", []))
except NameError:
    inputs = {name: layout.table(name)
              for name in ("segments", "documents", "codings", "facets")}
    inputs["codebook"] = "config/codebook.yaml"
    outputs = {name: layout.table(name) for name in
               ("coding_validation", "coding_disagreements", "coding_validation_by_set")}
    gold_paths = sorted(map(str, Path(layout.GOLD_DIR).glob("*.jsonl")))
    tuned = []
if isinstance(gold_paths, str):  # a single named file arrives as a plain string
    gold_paths = [gold_paths]

# %%
documents = records(read_table(inputs["documents"], "documents"))
segments = records(read_table(inputs["segments"], "segments"))
codings = records(read_table(inputs["codings"], "codings"))
facets = records(read_table(inputs["facets"], "facets"))
codebook = load_codebook(inputs["codebook"], terms=False)
# themes, then each facet under its plural (the gold lines' keys); facet id -> its plural
label_sets = validation.label_sets_from_codebook(codebook)
facet_sets = validation.facet_sets_from_codebook(codebook)
raw_texts = {Path(d["path"]).name: read_raw(d["path"]) for d in documents}

# %%
scores, disagreements = validation.validate(
    gold_paths, raw_texts, segments, documents,
    codings, facets, label_sets, facet_sets)
write_table(scores, outputs["coding_validation"], "coding_validation")
write_table(disagreements, outputs["coding_disagreements"], "coding_disagreements")
# Each gold set apart, held-out (never tuned on) first: config gold.tuned_on names the others.
write_table(validation.validate_by_set(gold_paths, tuned, raw_texts, segments, documents,
                                       codings, facets, label_sets, facet_sets),
            outputs["coding_validation_by_set"], "coding_validation_by_set")

# %%
[r for r in scores if r["label"] in (validation.MACRO, validation.MICRO)]
