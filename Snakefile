# qualtrace: qualitative research text -> coded, traceable evidence base and report.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"


rule all:
    input:
        "data/processed/documents.csv",
        "data/processed/segments.csv",
    default_target: True
