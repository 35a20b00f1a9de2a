# Consistency checks: error-severity failures stop the build, naming the check and its items.


rule consistency_checks:
    input:
        codebook=config["codebook"],
        documents="data/processed/documents.csv",
        segments="data/processed/segments.csv",
        codings="data/processed/codings.csv",
        facets="data/processed/facets.csv",
        breakdowns=BREAKDOWN_TABLES,
        review_decisions="data/processed/review_decisions.csv",
        raw=raw_files,
    output:
        checks="data/processed/checks.csv",
        check_items="data/processed/check_items.csv",
        key_points="data/processed/key_point_support.csv",
    log:
        "logs/consistency_checks.log",
    benchmark:
        "benchmarks/results/rules/consistency_checks.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        severity=json.dumps(config.get("checks", {}).get("severity", {}), sort_keys=True),
    shell:
        "python -m qualtrace --log {log:q} check --codebook {input.codebook:q}"
        " --documents {input.documents:q} --segments {input.segments:q}"
        " --codings {input.codings:q} --facets {input.facets:q}"
        " --breakdowns {input.breakdowns:q} --severity {params.severity:q}"
        " --review-decisions {input.review_decisions:q}"
        " --checks {output.checks:q} --items {output.check_items:q}"
        " --key-points {output.key_points:q}"
