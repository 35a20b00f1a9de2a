# Consistency checks. The checks job always writes its tables (a failed job's outputs would be
# deleted); the gate then stops the build on an error-severity failure, naming check and items.


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


rule checks_gate:
    input:
        checks="data/processed/checks.csv",
        check_items="data/processed/check_items.csv",
    output:
        "data/processed/checks_passed.txt",
    log:
        "logs/checks_gate.log",
    benchmark:
        "benchmarks/results/rules/checks_gate.tsv"
    conda:
        ENVIRONMENT
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "python -m qualtrace --log {log:q} check-gate --checks {input.checks:q}"
        " --items {input.check_items:q} --output {output:q}"
