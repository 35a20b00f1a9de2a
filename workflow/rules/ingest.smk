# Ingestion: one job per document, then a gather into the corpus tables.


rule segment_document:
    input:
        raw_path,
    output:
        "data/interim/segments/{doc}.json",
    params:
        rules=INGEST_RULES,
    benchmark:
        "benchmarks/results/rules/segment_document/{doc}.tsv"
    resources:
        mem_mb=500,
        runtime=5,
    log:
        "logs/segment_document/{doc}.log",
    conda:
        ENVIRONMENT
    shell:
        "python -m qualtrace --log {log:q} ingest {input:q} --doc-id {wildcards.doc}"
        " --rules {params.rules:q} --output {output:q}"


rule segments_table:
    input:
        parsed_documents,
    output:
        documents="data/processed/documents.csv",
        segments="data/processed/segments.csv",
    benchmark:
        "benchmarks/results/rules/segments_table.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    log:
        "logs/segments_table.log",
    conda:
        ENVIRONMENT
    shell:
        "python -m qualtrace --log {log:q} gather-segments {input:q}"
        " --documents {output.documents:q} --segments {output.segments:q}"
