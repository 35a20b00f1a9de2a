# Researcher review: the decisions in data/review/*.csv (inputs, like data/raw/) merged over the
# rules' coding. Editing a decision reruns this and what follows, never ingestion or the coder.


rule review_merge:
    input:
        codebook=config["codebook"],
        segments="data/processed/segments.csv",
        codings_auto="data/processed/codings_auto.csv",
        facets_auto="data/processed/facets_auto.csv",
        decisions=review_files,
    output:
        codings="data/processed/codings.csv",
        facets="data/processed/facets.csv",
        outcomes="data/processed/review_decisions.csv",
    log:
        "logs/review_merge.log",
    benchmark:
        "benchmarks/results/rules/review_merge.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        policy=REVIEW_POLICY,
    shell:
        "python -m qualtrace --log {log:q} review-merge --codebook {input.codebook:q}"
        " --segments {input.segments:q} --codings-auto {input.codings_auto:q}"
        " --facets-auto {input.facets_auto:q} --decisions {input.decisions:q}"
        " --policy {params.policy:q} --codings {output.codings:q}"
        " --facets {output.facets:q} --outcomes {output.outcomes:q}"
