# Input functions, wildcard constraints and shared values for every stage.
import json
from glob import glob

from snakemake.io import strip_wildcard_constraints

from qualtrace import layout
from qualtrace.audit.provenance import pin_source_date_epoch
from qualtrace.common.preflight import (
    check_corpus,
    check_project_files,
    codebook_facets,
    external_scores,
)
from qualtrace.corpus.discovery import ingestion_batches
from qualtrace.review.decisions import refuse_bad_decision_files

# Outputs carry no clock time: dates come from SOURCE_DATE_EPOCH, by default the last commit's.
pin_source_date_epoch(workflow.basedir)


# Cluster and remote jobs get the submitting run's date, not one they would derive themselves.
envvars:
    "SOURCE_DATE_EPOCH",


# Refused by name before the DAG: links, paths outside the project, wildcard-like names,
# two files with one id or one text.
DOCUMENTS = check_corpus(config["corpus"]["patterns"])

# batch name -> its doc ids; one ingestion job per batch (see config corpus.ingestion_jobs).
BATCHES = ingestion_batches(DOCUMENTS, config["corpus"].get("ingestion_jobs", 32))

# Job order on a few cores (--cores 2 or 4). Jobs on the longest chain to the report go first
# (ingestion, coding, review merge, breakdowns, checks, report source, render, manifest), then
# the two that the report also waits for (coding_validation, report_figures); the rest (the
# .qdpx export, the codebook exports, the rule graph, the run manifest) fill spare cores.
# Without this the scheduler ran refiqda_project and coding_validation before the checks, so the
# report's chain waited on one core (issue 14: the 1,000-document build).
PRIORITY_CHAIN = 10
PRIORITY_FEEDS_CHAIN = 5

# Every rule runs in the project's one environment (used with --use-conda).
ENVIRONMENT = "../../environment.yml"

# The ingest section as canonical JSON: a params change reruns ingestion, other edits do not.
INGEST_RULES = json.dumps(config["ingest"], sort_keys=True)


wildcard_constraints:
    doc=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    batch=r"batch[0-9]+",


# Scores measured on other gold corpora (config validity.external_scores), checked now.
EXTERNAL_SCORES = external_scores(config)

GOLD = sorted({p for pattern in config.get("gold", {}).get("patterns", []) for p in glob(pattern)})
check_project_files(GOLD, "a gold file (config gold.patterns)")

# Review decisions (inputs): checked before any job runs, so a bad row removes no built output.
REVIEW = sorted(glob(layout.REVIEW_GLOB))
check_project_files(REVIEW, "a review decision file")
refuse_bad_decision_files(REVIEW, config["codebook"])
# The conflict policy as canonical JSON: changing it reruns the merge.
REVIEW_POLICY = json.dumps(config.get("review", {}), sort_keys=True)

# The codebook's facets (ids, in codebook order): one theme_by_<facet> table and chart each.
FACETS = codebook_facets(config["codebook"])
# The breakdown tables (rule theme_breakdowns), in this order.
BREAKDOWN_NAMES = [
    "theme_summary",
    "theme_cooccurrence",
    *(layout.by_facet_name(facet) for facet in FACETS),
]


def batch_documents(wildcards):
    """The doc ids of one ingestion batch, in order (the paths are in batch_raw_paths)."""
    return BATCHES[wildcards.batch]


def batch_raw_paths(wildcards):
    return [DOCUMENTS[doc] for doc in BATCHES[wildcards.batch]]


def parsed_documents(wildcards=None):
    return expand(layout.SEGMENT_BATCH, batch=sorted(BATCHES))


def raw_files(wildcards=None):
    return [DOCUMENTS[doc] for doc in sorted(DOCUMENTS)]


def review_files(wildcards=None):
    return REVIEW


def gold_files(wildcards=None):
    return GOLD


def external_scores_files(wildcards=None):
    """The scores file named by config validity.external_scores, or nothing."""
    return EXTERNAL_SCORES


def gold_tuned_files(wildcards=None):
    """The gold files the rules were tuned on (config gold.tuned_on); the rest are held out."""
    patterns = config.get("gold", {}).get("tuned_on", [])
    return sorted({p for pattern in patterns for p in glob(pattern)} & set(GOLD))


def outputs_by_rule():
    """Every file the workflow makes (but the provenance itself), by the rule that makes it."""
    produced = {}
    for step in workflow.rules:
        if step.name in ("all", "provenance_manifest"):
            continue
        patterns = [strip_wildcard_constraints(str(p)) for p in step.output]
        files = [
            path
            for p in patterns
            for path in expand(p, doc=sorted(DOCUMENTS), batch=sorted(BATCHES))
        ]
        if files:
            produced[step.name] = files
    return produced


def provenance_inputs(wildcards):
    inputs = {"manifest": rules.run_manifest.output[0]}
    inputs["outputs"] = sorted({p for paths in outputs_by_rule().values() for p in paths})
    report_numbers = layout.table("report_numbers")
    if report_numbers in inputs["outputs"]:
        inputs["report_numbers"] = report_numbers
    return inputs


def figure_manifest():
    """For provenance.json: each report figure with the rule, code and data behind it."""
    figures = {}
    for name, source in REPORT_FIGURE_SOURCES.items():
        rule_name = "rulegraph" if name == "rulegraph" else "report_figures"
        figures[name] = {
            "path": layout.figure(name),
            "rule": rule_name,
            **source,
            "script": (
                "src/qualtrace/report/figures.py"
                if rule_name == "report_figures"
                else "src/qualtrace/report/rulegraph.py"
            ),
        }
    return figures


def final_outputs(wildcards=None):
    """The default target's inputs: every table, export, report and the
    provenance; everything else is built on the way."""
    return [
        *rules.segments_table.output,
        *rules.review_merge.output,
        *rules.theme_breakdowns.output,
        rules.coding_validation.output.coding_validation,
        rules.coding_validation.output.coding_disagreements,
        rules.consistency_checks.output.checks,
        *rules.checks_gate.output,
        *rules.refiqda_project.output,
        *rules.refiqda_codebook.output,
        *rules.taguette_codebook.output,
        *rules.render_report.output,
        *rules.provenance_manifest.output,
    ]
