# Export: the coded corpus and the codebook in the formats qualitative-analysis tools import
# (REFI-QDA for NVivo, ATLAS.ti, MAXQDA, QualCoder; CSV for Taguette). Each export is checked
# against src/qualtrace/schemas/refi-qda/ before it is written.


rule refiqda_project:
    input:
        codebook=config["codebook"],
        documents=rules.segments_table.output.documents,
        segments=rules.segments_table.output.segments,
        codings=rules.review_merge.output.codings,
        facets=rules.review_merge.output.facets,
        raw=raw_files,
    output:
        layout.QDPX,
    log:
        layout.log("refiqda_project"),
    benchmark:
        layout.benchmark("refiqda_project")
    conda:
        ENVIRONMENT
    resources:
        # Peak RSS is ~7x what it reads (the tables in memory; the XML is streamed): 1,000
        # documents, ~75 MB of tables and raw text, peak ~500 MB, ~10 s on 2 cores.
        mem_mb=lambda wildcards, input: max(1000, int(200 + 8 * input.size_mb)),
        runtime=10,
    shell:
        "python -m qualtrace --log {log:q} export qdpx --codebook {input.codebook:q}"
        " --documents {input.documents:q} --segments {input.segments:q}"
        " --codings {input.codings:q} --facets {input.facets:q} --output {output:q}"


rule refiqda_codebook:
    input:
        config["codebook"],
    output:
        layout.QDC,
    log:
        layout.log("refiqda_codebook"),
    benchmark:
        layout.benchmark("refiqda_codebook")
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python -m qualtrace --log {log:q} export qdc --codebook {input:q} --output {output:q}"


rule taguette_codebook:
    input:
        config["codebook"],
    output:
        layout.TAGUETTE_CSV,
    log:
        layout.log("taguette_codebook"),
    benchmark:
        layout.benchmark("taguette_codebook")
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python -m qualtrace --log {log:q} export taguette --codebook {input:q}"
        " --output {output:q}"
