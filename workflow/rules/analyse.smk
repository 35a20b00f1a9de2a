# Analysis: breakdowns of themes by facet, and coding quality against gold annotations.


rule theme_breakdowns:
    input:
        segments="data/processed/segments.csv",
        codings="data/processed/codings.csv",
        facets="data/processed/facets.csv",
        codebook=config["codebook"],
    output:
        **BY_FACET_TABLES,
        theme_summary="data/processed/theme_summary.csv",
        theme_cooccurrence="data/processed/theme_cooccurrence.csv",
    log:
        "logs/theme_breakdowns.log",
    benchmark:
        "benchmarks/results/rules/theme_breakdowns.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../analysis/breakdowns.py"


rule coding_validation:
    input:
        segments="data/processed/segments.csv",
        documents="data/processed/documents.csv",
        codings="data/processed/codings.csv",
        facets="data/processed/facets.csv",
        codebook=config["codebook"],
        gold=gold_files,
        raw=raw_files,
    output:
        coding_validation="data/processed/coding_validation.csv",
        coding_disagreements="data/processed/coding_disagreements.csv",
        coding_validation_by_set="data/processed/coding_validation_by_set.csv",
    log:
        "logs/coding_validation.log",
    benchmark:
        "benchmarks/results/rules/coding_validation.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        tuned=gold_tuned_files(),
    script:
        "../../analysis/validation.py"
