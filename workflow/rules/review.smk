# Researcher review: the decisions in data/review/*.csv (inputs, like data/raw/) merged over the
# rules' coding. Editing a decision reruns this and what follows, never ingestion or the coder.


rule review_merge:
    input:
        codebook=config["codebook"],
        segments=rules.segments_table.output.segments,
        codings_auto=rules.theme_codings.output.codings,
        facets_auto=rules.theme_codings.output.facets,
        decisions=review_files,
    output:
        codings=layout.table("codings"),
        facets=layout.table("facets"),
        outcomes=layout.table("review_decisions"),
    log:
        layout.log("review_merge"),
    benchmark:
        layout.benchmark("review_merge")
    priority: PRIORITY_CHAIN
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
