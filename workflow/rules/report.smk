# Report: charts, the Quarto source with every number computed (and report_numbers.csv), the
# workflow's rule graph, and the rendered HTML (self-contained) and PDF.
import os
from glob import glob

from qualtrace.report.data import TABLES as REPORT_TABLE_NAMES

REPORT_TABLES = {name: f"data/processed/{name}.csv" for name in REPORT_TABLE_NAMES}
REPORT_CHARTS = ["prevalence", *BY_FACET_TABLES, "cooccurrence"]
REPORT_FIGURES = {name: f"reports/figures/{name}.svg" for name in REPORT_CHARTS}
# What each figure is drawn from (recorded in reports/provenance.json under "figures").
REPORT_FIGURE_SOURCES = {
    "prevalence": {
        "data": ["data/processed/theme_summary.csv"],
        "query": "theme_summary: n_segments per theme",
    },
    **{
        f"theme_by_{f}": {
            "data": [f"data/processed/theme_by_{f}.csv"],
            "query": f"theme_by_{f}: n_segments per theme and {f} value",
        }
        for f in FACETS
    },
    "cooccurrence": {
        "data": ["data/processed/theme_cooccurrence.csv"],
        "query": "theme_cooccurrence: n_segments per pair of themes",
    },
    "rulegraph": {
        "data": ["Snakefile", "workflow/rules/*.smk"],
        "query": "snakemake --rulegraph, drawn by graphviz dot",
    },
}
REPORT_FORMATS = config["render"].get("formats", ["html", "pdf"])
REPORT_DOCUMENTS = ["summary", "evidence"]  # the report's body and its evidence
REPORT_OUTPUTS = [f"reports/{doc}.{fmt}" for doc in REPORT_DOCUMENTS for fmt in REPORT_FORMATS]
# The workflow's rule files: an edit redraws the rule graph.
WORKFLOW_RULE_FILES = sorted(glob(os.path.join(workflow.basedir, "workflow", "rules", "*.smk")))


report: "../report/workflow.rst"


rule report_figures:
    input:
        **BY_FACET_TABLES,
        codebook=config["codebook"],
        theme_summary="data/processed/theme_summary.csv",
        cooccurrence="data/processed/theme_cooccurrence.csv",
    output:
        **{
            name: report(
                path,
                caption="../report/figure.rst",
                category="Figures",
                labels={"figure": name},
            )
            for name, path in REPORT_FIGURES.items()
        },
    log:
        "logs/report_figures.log",
    benchmark:
        "benchmarks/results/rules/report_figures.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        by_facet=" ".join(f"{f}=data/processed/theme_by_{f}.csv" for f in FACETS),
        outputs=" ".join(f"{name}={path}" for name, path in REPORT_FIGURES.items()),
    shell:
        "python -m qualtrace.report --log {log:q} figures --codebook {input.codebook:q}"
        " --theme-summary {input.theme_summary:q} --cooccurrence {input.cooccurrence:q}"
        " --by-facet {params.by_facet} --output {params.outputs}"


rule rulegraph:
    input:
        snakefile=workflow.main_snakefile,
        rules=WORKFLOW_RULE_FILES,
    output:
        dot="reports/rulegraph.dot",
        svg=report(
            "reports/figures/rulegraph.svg",
            caption="../report/rulegraph.rst",
            category="Provenance",
            labels={"figure": "rule graph"},
        ),
    log:
        "logs/rulegraph.log",
    benchmark:
        "benchmarks/results/rules/rulegraph.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        configfiles=workflow.configfiles,
    shell:
        "python -m qualtrace.report --log {log:q} rulegraph --snakefile {input.snakefile:q}"
        " --directory . --configfile {params.configfiles:q}"
        " --dot {output.dot:q} --svg {output.svg:q}"


rule report_source:
    input:
        **REPORT_TABLES,
        **BY_FACET_TABLES,
        manifest="data/processed/run_manifest.json",
        codebook=config["codebook"],
        gold=gold_files,
        # No report from tables that failed an error-severity check.
        checks_passed="data/processed/checks_passed.txt",
        rulegraph_dot="reports/rulegraph.dot",
        rulegraph_svg="reports/figures/rulegraph.svg",
    output:
        qmd="reports/summary.qmd",
        evidence_qmd="reports/evidence.qmd",
        numbers=report(
            "data/processed/report_numbers.csv",
            caption="../report/report_numbers.rst",
            category="Tables",
        ),
    log:
        "logs/report_source.log",
    benchmark:
        "benchmarks/results/rules/report_source.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        engine=config["render"].get("engine", "auto"),
    script:
        "../../analysis/report.py"


rule render_report:
    input:
        qmd=[f"reports/{doc}.qmd" for doc in REPORT_DOCUMENTS],
        figures=list(REPORT_FIGURES.values()),
        rulegraph="reports/figures/rulegraph.svg",
    output:
        **{
            f"{doc}_{fmt}": report(
                f"reports/{doc}.{fmt}",
                caption=f"../report/{doc}_{fmt}.rst",
                category="Report",
            )
            for doc in REPORT_DOCUMENTS
            for fmt in REPORT_FORMATS
        },
    log:
        "logs/render_report.log",
    benchmark:
        "benchmarks/results/rules/render_report.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        engine=config["render"].get("engine", "auto"),
    shell:
        "python -m qualtrace.report --log {log:q} render {input.qmd:q} --engine {params.engine:q}"
        f" --formats {' '.join(REPORT_FORMATS)}"
