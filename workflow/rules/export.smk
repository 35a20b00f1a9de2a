# Export: the coded corpus and the codebook in the formats qualitative-analysis tools import
# (REFI-QDA for NVivo, ATLAS.ti, MAXQDA, QualCoder; CSV for Taguette). Each export is checked
# against src/qualtrace/schemas/refi-qda/ before it is written.


rule refiqda_project:
    input:
        codebook=config["codebook"],
        documents="data/processed/documents.csv",
        segments="data/processed/segments.csv",
        codings="data/processed/codings.csv",
        facets="data/processed/facets.csv",
        raw=raw_files,
    output:
        "reports/qualtrace.qdpx",
    log:
        "logs/refiqda_project.log",
    benchmark:
        "benchmarks/results/rules/refiqda_project.tsv"
    conda:
        ENVIRONMENT
    resources:
        # Peak RSS is ~7x what it reads (the tables in memory; the XML is streamed): 1,000
        # documents, ~75 MB of tables and raw text, peak ~500 MB, ~10 s on 2 cores.
        mem_mb=lambda wildcards, input: max(1000, int(200 + 8 * input.size_mb)),
        runtime=10,
    shell:
        "python -m qualtrace.exchange.refiqda --log {log:q} export --codebook {input.codebook:q}"
        " --documents {input.documents:q} --segments {input.segments:q}"
        " --codings {input.codings:q} --facets {input.facets:q} --output {output:q}"


rule refiqda_codebook:
    input:
        config["codebook"],
    output:
        "reports/codebook.qdc",
    log:
        "logs/refiqda_codebook.log",
    benchmark:
        "benchmarks/results/rules/refiqda_codebook.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python -m qualtrace.exchange.refiqda --log {log:q} codebook --codebook {input:q}"
        " --qdc {output:q}"


rule taguette_codebook:
    input:
        config["codebook"],
    output:
        "reports/codebook_taguette.csv",
    log:
        "logs/taguette_codebook.log",
    benchmark:
        "benchmarks/results/rules/taguette_codebook.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python -m qualtrace.exchange.refiqda --log {log:q} codebook --codebook {input:q}"
        " --taguette {output:q}"
