# Provenance: the run manifest (before the report) and, last, provenance.json and the RO-Crate.


rule run_manifest:
    input:
        documents=rules.segments_table.output.documents,
        codebook=config["codebook"],
        config=workflow.configfiles,
        review=review_files,
        external_scores=external_scores_files,
    output:
        layout.RUN_MANIFEST,
    log:
        layout.log("run_manifest"),
    benchmark:
        layout.benchmark("run_manifest")
    conda:
        ENVIRONMENT
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "python -m qualtrace --log {log:q} manifest --documents {input.documents:q}"
        " --codebook {input.codebook:q} --config {input.config:q}"
        " --review-decisions {input.review:q}"
        " --external-scores {input.external_scores:q} --output {output:q}"


rule provenance_manifest:
    input:
        unpack(provenance_inputs),
    output:
        provenance=layout.PROVENANCE,
        crate=layout.CRATE,
    log:
        layout.log("provenance_manifest"),
    benchmark:
        layout.benchmark("provenance_manifest")
    priority: PRIORITY_CHAIN
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        outputs=lambda wildcards: outputs_by_rule(),
        figures=lambda wildcards: figure_manifest(),
        name="qualtrace run",
        description="Coded evidence base and report built by the qualtrace Snakemake workflow",
        publisher=config.get("publisher"),
    script:
        "../scripts/provenance.py"
