# Analysis: breakdowns of themes by facet, and coding quality against gold annotations.


rule theme_breakdowns:
    input:
        segments=rules.segments_table.output.segments,
        codings=rules.review_merge.output.codings,
        facets=rules.review_merge.output.facets,
        codebook=config["codebook"],
    output:
        **{name: layout.table(name) for name in BREAKDOWN_NAMES},
    log:
        layout.log("theme_breakdowns"),
    benchmark:
        layout.benchmark("theme_breakdowns")
    priority: PRIORITY_CHAIN
    conda:
        ENVIRONMENT
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../analysis/breakdowns.py"


rule coding_validation:
    input:
        segments=rules.segments_table.output.segments,
        documents=rules.segments_table.output.documents,
        codings=rules.review_merge.output.codings,
        facets=rules.review_merge.output.facets,
        codebook=config["codebook"],
        gold=gold_files,
        raw=raw_files,
    output:
        **{
            name: layout.table(name)
            for name in (
                "coding_validation",
                "coding_disagreements",
                "coding_validation_by_set",
            )
        },
    log:
        layout.log("coding_validation"),
    benchmark:
        layout.benchmark("coding_validation")
    priority: PRIORITY_FEEDS_CHAIN
    conda:
        ENVIRONMENT
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        tuned=gold_tuned_files(),
    script:
        "../../analysis/validation.py"
