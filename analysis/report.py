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
# # Report source
#
# Writes `reports/summary.qmd` (a Quarto document with every number already computed, so
# `quarto render` and pandoc render the same file), `reports/evidence.qmd` (the passages
# behind every linked number) and `data/processed/report_numbers.csv`
# (one row per number shown: item id, query and the segment ids behind it). Every number in
# the report is a link to its evidence anchor; `qualtrace trace <item_id>` resolves the same id.
#
# Run by Snakemake as a `script:` (rule `report_source`) with named inputs: one per table in
# `qualtrace.report.data.TABLES`, `theme_by_<facet>` per facet shown, `manifest`, `codebook`,
# `gold` (possibly empty), `external_scores` (config `validity.external_scores`, possibly
# empty), `rulegraph_dot`, `rulegraph_svg`; outputs `qmd`, `numbers`; params `engine` (config
# `render.engine`) and `external_note` (config `validity.note`). Standalone (or in Jupyter) it reads and writes the default
# paths under `data/processed/` and `reports/`. The logic lives in `qualtrace.report`.

# %%
from glob import glob
from pathlib import Path

from qualtrace import layout
from qualtrace.coding.codebook import load_codebook
from qualtrace.common.config import validate_config_file
from qualtrace.common.io import tee_stderr_to
from qualtrace.report import build_source
from qualtrace.report.data import TABLES

try:
    smk = snakemake  # noqa: F821 - injected by Snakemake's script: directive
    inputs, outputs = dict(smk.input.items()), dict(smk.output.items())
    engine, external_note = smk.params.engine, smk.params.external_note
    tee_stderr_to(smk.log[0])
except NameError:
    inputs = {name: layout.table(name) for name in TABLES}
    inputs.update({layout.by_facet_name(f.id): layout.by_facet(f.id)
                   for f in load_codebook("config/codebook.yaml", terms=False).facets})
    inputs.update(manifest=layout.RUN_MANIFEST, codebook="config/codebook.yaml",
                  gold=sorted(glob(f"{layout.GOLD_DIR}/*.jsonl")),
                  rulegraph_dot=layout.RULEGRAPH_DOT, rulegraph_svg=layout.figure("rulegraph"))
    outputs = {"qmd": layout.report_file("summary", "qmd"),
               "evidence_qmd": layout.report_file("evidence", "qmd"),
               "numbers": layout.table("report_numbers")}
    engine = "auto"
    # config `validity`: the scores on other gold corpora, as the workflow passes them
    validity = validate_config_file("config/config.yaml").get("validity") or {}
    if validity.get("external_scores"):
        inputs["external_scores"] = validity["external_scores"]
    external_note = validity.get("note", "")

# %%
gold = inputs.get("gold", [])
external = inputs.get("external_scores", [])
external = [external] if isinstance(external, str) else list(external)
build_source(
    tables={name: inputs[name] for name in TABLES},
    by_facet={name[len("theme_by_"):]: path for name, path in inputs.items()
              if name.startswith("theme_by_")},
    manifest=inputs["manifest"], codebook=inputs["codebook"],
    gold=[gold] if isinstance(gold, str) else list(gold),
    rulegraph_dot=inputs["rulegraph_dot"], rulegraph_svg=inputs["rulegraph_svg"],
    external_scores=external[0] if external else "", external_note=external_note,
    engine=engine, qmd=outputs["qmd"], numbers=outputs["numbers"],
    evidence_qmd=outputs["evidence_qmd"])

# %%
Path(outputs["qmd"]).read_text(encoding="utf-8")[:2000]
