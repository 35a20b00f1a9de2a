# Ingestion: one job per batch of documents (config corpus.ingestion_jobs), then a gather into the
# corpus tables.


rule segment_batch:
    input:
        batch_raw_paths,
    output:
        "data/interim/segments/{batch}.json",
    log:
        "logs/segment_batch/{batch}.log",
    benchmark:
        "benchmarks/results/rules/segment_batch/{batch}.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        doc_ids=batch_documents,
        rules=INGEST_RULES,
    shell:
        "python -m qualtrace --log {log:q} ingest {input:q} --doc-id {params.doc_ids:q}"
        " --rules {params.rules:q} --output {output:q}"


rule segments_table:
    input:
        parsed_documents,
    output:
        documents="data/processed/documents.csv",
        segments="data/processed/segments.csv",
    log:
        "logs/segments_table.log",
    benchmark:
        "benchmarks/results/rules/segments_table.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "python -m qualtrace --log {log:q} gather-segments {input:q}"
        " --documents {output.documents:q} --segments {output.segments:q}"
