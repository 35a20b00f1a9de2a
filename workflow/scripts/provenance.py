"""Snakemake adapter: write reports/provenance.json and the RO-Crate (logic in qualtrace)."""
import json

from qualtrace.common.io import tee_stderr_to, write_json
from qualtrace.audit.provenance import provenance, ro_crate

smk = snakemake  # noqa: F821 - injected by Snakemake's script: directive
tee_stderr_to(smk.log[0])
with open(smk.input.manifest, encoding="utf-8") as handle:
    manifest = json.load(handle)
record = provenance(manifest, smk.params.outputs, smk.input.get("report_numbers"),
                    smk.params.figures)
write_json(smk.output.provenance, record)
write_json(smk.output.crate, ro_crate(record, smk.params.name, smk.params.description))
