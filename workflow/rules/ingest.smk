# Ingestion: one job per batch of documents (config corpus.ingestion_jobs), then a gather into the
# corpus tables.


rule segment_batch:
    input:
        batch_raw_paths,
    output:
        layout.SEGMENT_BATCH,
    log:
        layout.log("segment_batch", "batch"),
    benchmark:
        layout.benchmark("segment_batch", "batch")
    priority: PRIORITY_CHAIN
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
        documents=layout.table("documents"),
        segments=layout.table("segments"),
    log:
        layout.log("segments_table"),
    benchmark:
        layout.benchmark("segments_table")
    priority: PRIORITY_CHAIN
    conda:
        ENVIRONMENT
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "python -m qualtrace --log {log:q} gather-segments {input:q}"
        " --documents {output.documents:q} --segments {output.segments:q}"
