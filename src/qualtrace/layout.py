"""Where a run keeps what it makes and the review decisions it reads, relative to the run
directory: every table name and path is written here once. The Snakefile and its rules, the
notebooks in analysis/, the command line, the report, the review app and `trace` all ask here.
"""
from __future__ import annotations

PROCESSED = "data/processed"  # the tables (regenerable, never committed)
INTERIM = "data/interim"      # per-batch parses and validation stamps
REVIEW = "data/review"        # researchers' decisions: inputs, immutable to the pipeline
REPORTS = "reports"           # exports, report sources and renders, provenance
FIGURES = f"{REPORTS}/figures"
LOGS = "logs"
BENCHMARKS = "benchmarks/results"
CONFIG = "config/config.yaml"  # the workflow's config file (its `codebook:` names the codebook)
GOLD_DIR = "data/gold"        # where the notebooks look for gold files outside Snakemake

# The tables in PROCESSED, by name (theme_by_<facet> come from the codebook's facets).
TABLES = ("documents", "segments", "codings_auto", "facets_auto", "codings", "facets",
          "review_decisions", "theme_summary", "theme_cooccurrence", "coding_validation",
          "coding_disagreements", "coding_validation_by_set", "checks", "check_items",
          "key_point_support", "report_numbers")
BY_FACET_PREFIX = "theme_by_"


def table(name: str) -> str:
    """The path of the processed table `name` (e.g. "codings", "theme_by_area")."""
    if name not in TABLES and not name.startswith(BY_FACET_PREFIX):
        raise KeyError(f"no table named {name!r} (layout.TABLES)")
    return f"{PROCESSED}/{name}.csv"


def by_facet_name(facet: str) -> str:
    return f"{BY_FACET_PREFIX}{facet}"


def by_facet(facet: str) -> str:
    """The theme-by-facet breakdown table of one facet."""
    return table(by_facet_name(facet))


CHECKS_PASSED = f"{PROCESSED}/checks_passed.txt"
RUN_MANIFEST = f"{PROCESSED}/run_manifest.json"
SEGMENT_BATCH = f"{INTERIM}/segments/{{batch}}.json"  # a Snakemake pattern ({batch})
VALIDATED = f"{INTERIM}/validated"  # stamps of a codebook and corpus that passed preflight

REVIEW_GLOB = f"{REVIEW}/*.csv"


def review_file(reviewer: str) -> str:
    """One reviewer's decision file (the name is checked by review.decisions.check_reviewer)."""
    return f"{REVIEW}/{reviewer}.csv"


QDPX = f"{REPORTS}/qualtrace.qdpx"
QDC = f"{REPORTS}/codebook.qdc"
TAGUETTE_CSV = f"{REPORTS}/codebook_taguette.csv"
PROVENANCE = f"{REPORTS}/provenance.json"
CRATE = "ro-crate-metadata.json"  # RO-Crate wants it at the root of the run directory
RULEGRAPH_DOT = f"{REPORTS}/rulegraph.dot"
REPORT_DOCUMENTS = ("summary", "evidence")  # the report's body and its evidence


def figure(name: str) -> str:
    """A chart of the report (e.g. "prevalence", "rulegraph")."""
    return f"{FIGURES}/{name}.svg"


def report_file(document: str, extension: str) -> str:
    """A report document's source ("qmd") or rendering ("html", "pdf")."""
    return f"{REPORTS}/{document}.{extension}"


def log(rule: str, wildcard: str = "") -> str:
    """A rule's log; a rule with a wildcard logs one file per value."""
    return f"{LOGS}/{rule}/{{{wildcard}}}.log" if wildcard else f"{LOGS}/{rule}.log"


def benchmark(rule: str, wildcard: str = "") -> str:
    """A rule's Snakemake benchmark table."""
    rules = f"{BENCHMARKS}/rules"
    return f"{rules}/{rule}/{{{wildcard}}}.tsv" if wildcard else f"{rules}/{rule}.tsv"
