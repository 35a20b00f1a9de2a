# qualtrace: qualitative research text -> coded, traceable evidence base and report.
import os

from snakemake.utils import min_version, validate

from qualtrace import SCHEMA_DIR
from qualtrace.common.preflight import check_codebook, check_config_files, check_render

min_version("9.0")

CONFIGFILE = "config/config.yaml"
CONFIG_SCHEMA = str(SCHEMA_DIR / "config.schema.yaml")

# Before Snakemake reads it (its loader names no line and expands YAML aliases without bound),
# then any --configfile, then the merged config (incl. --config overrides): file:line messages.
check_config_files([CONFIGFILE] if os.path.exists(CONFIGFILE) else [], CONFIG_SCHEMA)


configfile: CONFIGFILE


check_config_files([p for p in workflow.configfiles if p != CONFIGFILE], CONFIG_SCHEMA)
validate(config, CONFIG_SCHEMA)
check_render(config, workflow.configfiles)
# The codebook too, once, before any job: a failed job would delete the outputs it replaces.
check_codebook(config["codebook"], str(SCHEMA_DIR / "codebook.schema.yaml"))


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/code.smk"
include: "workflow/rules/review.smk"
include: "workflow/rules/analyse.smk"
include: "workflow/rules/check.smk"
include: "workflow/rules/provenance.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs,
