# Coding: apply the codebook to every segment. A codebook edit reruns this and what follows,
# never ingestion. Its output is the automatic coding; review.smk merges the researchers'
# decisions over it into codings.csv and facets.csv, which everything downstream reads.


rule theme_codings:
    input:
        codebook=config["codebook"],
        documents=rules.segments_table.output.documents,
        segments=rules.segments_table.output.segments,
        raw=raw_files,
    output:
        codings=layout.table("codings_auto"),
        facets=layout.table("facets_auto"),
    log:
        layout.log("theme_codings"),
    benchmark:
        layout.benchmark("theme_codings")
    priority: PRIORITY_CHAIN
    conda:
        ENVIRONMENT
    resources:
        mem_mb=2000,
        runtime=15,
    shell:
        "python -m qualtrace --log {log:q} code --codebook {input.codebook:q}"
        " --documents {input.documents:q} --segments {input.segments:q}"
        " --codings {output.codings:q} --facets {output.facets:q}"
