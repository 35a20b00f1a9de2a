# Coding: apply the codebook to every segment. A codebook edit reruns this and what follows,
# never ingestion. Its output is the automatic coding; review.smk merges the researchers'
# decisions over it into codings.csv and facets.csv, which everything downstream reads.


rule theme_codings:
    input:
        codebook=config["codebook"],
        documents="data/processed/documents.csv",
        segments="data/processed/segments.csv",
        raw=raw_files,
    output:
        codings="data/processed/codings_auto.csv",
        facets="data/processed/facets_auto.csv",
    log:
        "logs/theme_codings.log",
    benchmark:
        "benchmarks/results/rules/theme_codings.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=2000,
        runtime=15,
    shell:
        "python -m qualtrace --log {log:q} code --codebook {input.codebook:q}"
        " --documents {input.documents:q} --segments {input.segments:q}"
        " --codings {output.codings:q} --facets {output.facets:q}"
