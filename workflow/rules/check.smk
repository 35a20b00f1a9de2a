# Consistency checks. The checks job always writes its tables (a failed job's outputs would be
# deleted); the gate then stops the build on an error-severity failure, naming check and items.


rule consistency_checks:
    input:
        codebook=config["codebook"],
        documents=rules.segments_table.output.documents,
        segments=rules.segments_table.output.segments,
        codings=rules.review_merge.output.codings,
        facets=rules.review_merge.output.facets,
        breakdowns=rules.theme_breakdowns.output,
        review_decisions=rules.review_merge.output.outcomes,
        raw=raw_files,
    output:
        checks=layout.table("checks"),
        check_items=layout.table("check_items"),
        key_points=layout.table("key_point_support"),
    log:
        layout.log("consistency_checks"),
    benchmark:
        layout.benchmark("consistency_checks")
    priority: PRIORITY_CHAIN
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
        checks=rules.consistency_checks.output.checks,
        check_items=rules.consistency_checks.output.check_items,
    output:
        layout.CHECKS_PASSED,
    log:
        layout.log("checks_gate"),
    benchmark:
        layout.benchmark("checks_gate")
    priority: PRIORITY_CHAIN
    conda:
        ENVIRONMENT
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "python -m qualtrace --log {log:q} check-gate --checks {input.checks:q}"
        " --items {input.check_items:q} --output {output:q}"
