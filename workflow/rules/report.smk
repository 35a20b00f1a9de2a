# Report: charts, the Quarto source with every number computed (and report_numbers.csv), the
# workflow's rule graph, and the rendered HTML (self-contained) and PDF.
import os
from glob import glob

from qualtrace.report.data import TABLES as REPORT_TABLE_NAMES

REPORT_TABLES = {name: layout.table(name) for name in REPORT_TABLE_NAMES}
REPORT_BY_FACET = {layout.by_facet_name(f): layout.by_facet(f) for f in FACETS}
REPORT_CHARTS = ["prevalence", *REPORT_BY_FACET, "cooccurrence"]
REPORT_FIGURES = {name: layout.figure(name) for name in REPORT_CHARTS}
# What each figure is drawn from (recorded in reports/provenance.json under "figures").
REPORT_FIGURE_SOURCES = {
    "prevalence": {
        "data": [layout.table("theme_summary")],
        "query": "theme_summary: n_segments per theme",
    },
    **{
        f"theme_by_{f}": {
            "data": [layout.by_facet(f)],
            "query": f"theme_by_{f}: n_segments per theme and {f} value",
        }
        for f in FACETS
    },
    "cooccurrence": {
        "data": [layout.table("theme_cooccurrence")],
        "query": "theme_cooccurrence: n_segments per pair of themes",
    },
    "rulegraph": {
        "data": ["Snakefile", "workflow/rules/*.smk"],
        "query": "snakemake --rulegraph, drawn by graphviz dot",
    },
}
REPORT_FORMATS = config["render"].get("formats", ["html", "pdf"])
# The workflow's rule files: an edit redraws the rule graph.
WORKFLOW_RULE_FILES = sorted(glob(os.path.join(workflow.basedir, "workflow", "rules", "*.smk")))


report: "../report/workflow.rst"


rule report_figures:
    input:
        **REPORT_BY_FACET,
        codebook=config["codebook"],
        theme_summary=rules.theme_breakdowns.output.theme_summary,
        cooccurrence=rules.theme_breakdowns.output.theme_cooccurrence,
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
        layout.log("report_figures"),
    benchmark:
        layout.benchmark("report_figures")
    priority: PRIORITY_FEEDS_CHAIN
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        by_facet=" ".join(f"{f}={layout.by_facet(f)}" for f in FACETS),
        outputs=" ".join(f"{name}={path}" for name, path in REPORT_FIGURES.items()),
    shell:
        "python -m qualtrace --log {log:q} report figures --codebook {input.codebook:q}"
        " --theme-summary {input.theme_summary:q} --cooccurrence {input.cooccurrence:q}"
        " --by-facet {params.by_facet} --output {params.outputs}"


rule rulegraph:
    input:
        snakefile=workflow.main_snakefile,
        rules=WORKFLOW_RULE_FILES,
    output:
        dot=layout.RULEGRAPH_DOT,
        svg=report(
            layout.figure("rulegraph"),
            caption="../report/rulegraph.rst",
            category="Provenance",
            labels={"figure": "rule graph"},
        ),
    log:
        layout.log("rulegraph"),
    benchmark:
        layout.benchmark("rulegraph")
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        configfiles=workflow.configfiles,
    shell:
        "python -m qualtrace --log {log:q} report rulegraph --snakefile {input.snakefile:q}"
        " --directory . --configfile {params.configfiles:q}"
        " --dot {output.dot:q} --svg {output.svg:q}"


rule report_source:
    input:
        **REPORT_TABLES,
        **REPORT_BY_FACET,
        manifest=rules.run_manifest.output[0],
        codebook=config["codebook"],
        gold=gold_files,
        external_scores=external_scores_files,
        # No report from tables that failed an error-severity check.
        checks_passed=rules.checks_gate.output[0],
        rulegraph_dot=rules.rulegraph.output.dot,
        rulegraph_svg=rules.rulegraph.output.svg,
    output:
        qmd=layout.report_file("summary", "qmd"),
        evidence_qmd=layout.report_file("evidence", "qmd"),
        numbers=report(
            layout.table("report_numbers"),
            caption="../report/report_numbers.rst",
            category="Tables",
        ),
    log:
        layout.log("report_source"),
    benchmark:
        layout.benchmark("report_source")
    priority: PRIORITY_CHAIN
    conda:
        ENVIRONMENT
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        engine=config["render"].get("engine", "auto"),
        external_note=config.get("validity", {}).get("note", ""),
    script:
        "../../analysis/report.py"


rule render_report:
    input:
        qmd=rules.report_source.output.qmd,
        evidence_qmd=rules.report_source.output.evidence_qmd,
        figures=rules.report_figures.output,
        rulegraph=rules.rulegraph.output.svg,
    output:
        **{
            f"{doc}_{fmt}": report(
                layout.report_file(doc, fmt),
                caption=f"../report/{doc}_{fmt}.rst",
                category="Report",
            )
            for doc in layout.REPORT_DOCUMENTS
            for fmt in REPORT_FORMATS
        },
    log:
        layout.log("render_report"),
    benchmark:
        layout.benchmark("render_report")
    priority: PRIORITY_CHAIN
    conda:
        ENVIRONMENT
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        engine=config["render"].get("engine", "auto"),
    shell:
        "python -m qualtrace --log {log:q} report render {input.qmd:q} {input.evidence_qmd:q}"
        " --engine {params.engine:q}"
        f" --formats {' '.join(REPORT_FORMATS)}"
