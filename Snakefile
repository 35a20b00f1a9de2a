# qualtrace: qualitative research text -> coded, traceable evidence base and report.
from snakemake.utils import min_version, validate

from qualtrace import SCHEMA_DIR
from qualtrace.config import validate_config_files

min_version("9.0")


configfile: "config/config.yaml"


# Config files first with file:line messages, then the merged config (incl. --config overrides).
validate_config_files(workflow.configfiles, str(SCHEMA_DIR / "config.schema.yaml"))
validate(config, str(SCHEMA_DIR / "config.schema.yaml"))


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
        "data/processed/documents.csv",
        "data/processed/segments.csv",
        "data/processed/codings.csv",
        "data/processed/facets.csv",
        "data/processed/review_decisions.csv",
        "data/processed/theme_summary.csv",
        "data/processed/theme_cooccurrence.csv",
        "data/processed/theme_by_stakeholder.csv",
        "data/processed/theme_by_area.csv",
        "data/processed/coding_validation.csv",
        "data/processed/coding_disagreements.csv",
        "data/processed/checks.csv",
        "reports/qualtrace.qdpx",
        "reports/codebook.qdc",
        "reports/codebook_taguette.csv",
        REPORT_OUTPUTS,
        "reports/provenance.json",
        "ro-crate-metadata.json",
