# Provenance: the run manifest (before the report) and, last, provenance.json and the RO-Crate.


rule run_manifest:
    input:
        documents="data/processed/documents.csv",
        codebook=config["codebook"],
        config=workflow.configfiles,
        review=review_files,
    output:
        "data/processed/run_manifest.json",
    log:
        "logs/run_manifest.log",
    benchmark:
        "benchmarks/results/rules/run_manifest.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "python -m qualtrace --log {log:q} manifest --documents {input.documents:q}"
        " --codebook {input.codebook:q} --config {input.config:q}"
        " --review-decisions {input.review:q} --output {output:q}"


rule provenance_manifest:
    input:
        unpack(provenance_inputs),
    output:
        provenance="reports/provenance.json",
        crate="ro-crate-metadata.json",
    log:
        "logs/provenance_manifest.log",
    benchmark:
        "benchmarks/results/rules/provenance_manifest.tsv"
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
