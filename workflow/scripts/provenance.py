"""Snakemake adapter: write reports/provenance.json and the RO-Crate (logic in qualtrace)."""
import json
import sys

from qualtrace.audit.provenance import NO_PUBLISHER, provenance, ro_crate
from qualtrace.common.io import tee_stderr_to, write_json

smk = snakemake  # noqa: F821 - injected by Snakemake's script: directive
tee_stderr_to(smk.log[0])
with open(smk.input.manifest, encoding="utf-8") as handle:
    manifest = json.load(handle)
record = provenance(manifest, smk.params.outputs, smk.input.get("report_numbers"),
                    smk.params.figures)
write_json(smk.output.provenance, record)
if not smk.params.publisher:
    print(NO_PUBLISHER, file=sys.stderr)
write_json(smk.output.crate, ro_crate(record, smk.params.name, smk.params.description,
                                      smk.params.publisher))
