"""Provenance: what went in, what software ran, what came out, and what each number rests on.

Two artefacts: `run_manifest.json` (before the report, so the report can show it) and, after
everything else, `reports/provenance.json` plus an RO-Crate `ro-crate-metadata.json` that
research-object tooling can read. No clock is read: the only date is SOURCE_DATE_EPOCH.
"""
from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from .io import read_csv, sha256_file

SOFTWARE = ["qualtrace", "snakemake", "PyYAML", "jsonschema", "matplotlib", "pypandoc-binary",
            "typst", "rocrate", "krippendorff", "numpy", "lxml"]


def software_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    try:
        import pypandoc

        versions["pandoc"] = pypandoc.get_pandoc_version()
    except (ImportError, OSError):
        pass
    return versions


def _file_entry(path: str) -> dict:
    return {"path": path, "sha256": sha256_file(path)}


def run_manifest(documents_csv: str, codebook: str, configfiles: list[str],
                 review_files: list[str] = ()) -> dict:
    return {
        # Researcher review decisions (data/review/*.csv): inputs like the raw files.
        "review_decisions": [_file_entry(p) for p in sorted(review_files)],
        "inputs": [{"doc_id": d["doc_id"], "path": d["path"], "sha256": d["sha256"]}
                   for d in read_csv(documents_csv)],
        "codebook": _file_entry(codebook),
        "config": _file_entry(configfiles[-1]) if len(configfiles) == 1 else {
            "files": [_file_entry(p) for p in configfiles]},
        "software": software_versions(),
    }


def report_items(report_numbers_csv: str | None) -> dict[str, dict]:
    if not report_numbers_csv or not Path(report_numbers_csv).is_file():
        return {}
    return {row["item_id"]: {"section": row["section"], "label": row["label"],
                             "value": row["value"], "query": row["query"],
                             "segment_ids": row["segment_ids"].split()}
            for row in read_csv(report_numbers_csv)}


def provenance(manifest: dict, outputs_by_rule: dict[str, list[str]],
               report_numbers_csv: str | None, figures: dict | None = None) -> dict:
    outputs = sorted(({"path": path, "sha256": sha256_file(path), "rule": rule}
                      for rule, paths in outputs_by_rule.items() for path in paths
                      if Path(path).is_file()), key=lambda entry: entry["path"])
    return {**manifest, "outputs": outputs, "figures": figures or {},
            "report_items": report_items(report_numbers_csv)}


def published_date() -> str | None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return None
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).isoformat()


def ro_crate(record: dict, name: str, description: str) -> dict:
    """RO-Crate metadata describing inputs, workflow and outputs with their hashes."""
    from rocrate.rocrate import ROCrate

    crate = ROCrate(gen_preview=False)
    crate.name, crate.description = name, description
    crate.datePublished = published_date() or "1970-01-01T00:00:00+00:00"
    for entry in record["inputs"]:
        crate.add_file(entry["path"], dest_path=entry["path"], properties={
            "name": entry["doc_id"], "sha256": entry["sha256"],
            "encodingFormat": "text/plain", "description": "raw input (immutable)"})
    for entry in record.get("review_decisions", []):
        crate.add_file(entry["path"], dest_path=entry["path"], properties={
            "sha256": entry["sha256"], "encodingFormat": "text/csv",
            "description": "researcher review decisions (input: accept, reject, add, memo)"})
    for entry in (record["codebook"], record["config"]):
        if "path" in entry:
            crate.add_file(entry["path"], dest_path=entry["path"],
                           properties={"sha256": entry["sha256"]})
    workflow = crate.add_file("Snakefile", dest_path="Snakefile", properties={
        "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow"],
        "programmingLanguage": {"@id": "https://w3id.org/workflowhub/workflow-ro-crate#snakemake"},
        "name": "qualtrace workflow"})
    crate.root_dataset["mainEntity"] = workflow
    for entry in record["outputs"]:
        crate.add_file(entry["path"], dest_path=entry["path"], properties={
            "sha256": entry["sha256"], "description": f"made by rule {entry['rule']}"})
    return crate.metadata.generate()


def commit_epoch(repo_dir: str) -> str:
    """The last commit's time, the conventional SOURCE_DATE_EPOCH of a checkout ("" if none)."""
    import subprocess

    try:
        result = subprocess.run(["git", "-C", repo_dir, "log", "-1", "--format=%ct"],
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def pin_source_date_epoch(repo_dir: str) -> None:
    """Give every job the same date: SOURCE_DATE_EPOCH if set, else the last commit's time,
    else 0 (no date), so nothing downstream ever reads the clock."""
    if not os.environ.get("SOURCE_DATE_EPOCH"):
        os.environ["SOURCE_DATE_EPOCH"] = commit_epoch(repo_dir) or "0"
