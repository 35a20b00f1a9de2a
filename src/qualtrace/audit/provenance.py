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

from ..common.io import sha256_file
from ..common.tables import read_table, records

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
                 review_files: list[str] = (), external_scores: list[str] = ()) -> dict:
    # Scores measured on other gold corpora (config validity.external_scores): an input of
    # the report, recorded only when the config names one.
    scores = {"external_scores": _file_entry(external_scores[0])} if external_scores else {}
    return {
        **scores,
        # Researcher review decisions (data/review/*.csv): inputs like the raw files.
        "review_decisions": [_file_entry(p) for p in sorted(review_files)],
        "inputs": [{"doc_id": d["doc_id"], "path": d["path"], "sha256": d["sha256"]}
                   for d in records(read_table(documents_csv, "documents"))],
        "codebook": _file_entry(codebook),
        "config": _file_entry(configfiles[-1]) if len(configfiles) == 1 else {
            "files": [_file_entry(p) for p in configfiles]},
        "software": software_versions(),
    }


def report_items(report_numbers_csv: str | None) -> dict[str, dict]:
    if not report_numbers_csv or not Path(report_numbers_csv).is_file():
        return {}
    # `source` (FILE:LINE:COLUMN) only for a number read from an input file
    return {row["item_id"]: {"section": row["section"], "label": row["label"],
                             "value": row["value"], "query": row["query"],
                             "segment_ids": row["segment_ids"].split(),
                             **({"source": row["source"]} if row.get("source") else {})}
            for row in records(read_table(report_numbers_csv, "report_numbers"))}


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


# Media types of what the workflow reads and writes (RO-Crate: every File has encodingFormat).
MEDIA_TYPES = {".txt": "text/plain", ".csv": "text/csv", ".json": "application/json",
               ".yaml": "application/yaml", ".yml": "application/yaml", ".md": "text/markdown",
               ".qmd": "text/markdown", ".html": "text/html", ".pdf": "application/pdf",
               ".svg": "image/svg+xml", ".png": "image/png", ".dot": "text/vnd.graphviz",
               ".qdpx": "application/zip", ".qdc": "application/xml", ".xml": "application/xml"}
SNAKEMAKE_LANGUAGE = "https://w3id.org/workflowhub/workflow-ro-crate#snakemake"
BIOSCHEMAS_WORKFLOW = "https://bioschemas.org/profiles/ComputationalWorkflow/1.0-RELEASE"
WORKFLOW_RO_CRATE = "https://w3id.org/workflowhub/workflow-ro-crate/1.0"
# Profiles the root dataset claims (their MUSTs are met; tests/test_crate.py validates them).
PROFILES = [(WORKFLOW_RO_CRATE, "Workflow RO-Crate", "1.0"),
            ("https://w3id.org/ro/wfrun/process/0.5", "Process Run Crate", "0.5"),
            ("https://w3id.org/ro/wfrun/workflow/0.5", "Workflow Run Crate", "0.5")]
LICENSE = {"@id": "https://spdx.org/licenses/MIT", "@type": "CreativeWork", "name": "MIT License",
           "identifier": "MIT", "description": "The licence of the qualtrace workflow (LICENSE)."}
# config `publisher`: who makes this study's evidence base available. RO-Crate recommends a
# persistent id (ORCID for a person, ROR for an organisation) and a contact point.
PUBLISHER_TYPES = {"https://orcid.org/": "Person", "https://ror.org/": "Organization"}
NO_PUBLISHER = ("note: config has no `publisher`, so ro-crate-metadata.json names none (RO-Crate "
                "recommends one, with an ORCID or ROR id and a contact; see config/config.yaml)")


def media_type(path: str) -> str:
    if Path(path).name == "Snakefile":
        return "text/x-snakemake"
    return MEDIA_TYPES.get(Path(path).suffix.lower(), "application/octet-stream")


def _file_properties(path: str, properties: dict) -> dict:
    """name, encodingFormat and (for a file present) contentSize, beside what the caller gives."""
    found = {"name": Path(path).name, "encodingFormat": media_type(path)}
    if Path(path).is_file():
        found["contentSize"] = str(Path(path).stat().st_size)
    return {**found, **properties}


def publisher_entities(publisher: dict) -> tuple[dict, dict]:
    """The configured publisher (a Person or an Organization, by its id) and its ContactPoint."""
    contact = publisher["contact"]  # an e-mail address or a contact page (config schema)
    point = ({"@id": contact, "url": contact} if "://" in contact
             else {"@id": f"mailto:{contact}", "email": contact})
    point.update({"@type": "ContactPoint", "contactType": "publisher",
                  "name": f"Contact for {publisher['name']}"})
    kind = next(kind for prefix, kind in PUBLISHER_TYPES.items()
                if publisher["id"].startswith(prefix))
    entity = {"@id": publisher["id"], "@type": kind, "name": publisher["name"],
              **({"url": publisher["url"]} if publisher.get("url") else {}),
              "contactPoint": {"@id": point["@id"]}}
    return entity, point


def ro_crate(record: dict, name: str, description: str, publisher: dict | None = None) -> dict:
    """RO-Crate 1.3 metadata (Workflow RO-Crate and Workflow Run Crate profiles) describing
    inputs, workflow, outputs and the run joining them, with hashes, licence and (if configured)
    publisher."""
    from rocrate.rocrate import ROCrate
    from rocrate.model.contextentity import ContextEntity

    crate = ROCrate(gen_preview=False)

    def entity(properties: dict):
        return crate.add(ContextEntity(crate, properties["@id"], properties={
            k: v for k, v in properties.items() if k != "@id"}))

    def add_file(path: str, properties: dict):
        return crate.add_file(path, dest_path=path, properties=_file_properties(path, properties))

    crate.name, crate.description = name, description
    crate.datePublished = published_date() or "1970-01-01T00:00:00+00:00"
    crate.root_dataset["license"] = entity(LICENSE)
    if publisher:
        published_by, contact = publisher_entities(publisher)
        entity(contact)
        crate.root_dataset["publisher"] = entity(published_by)
    # RO-Crate 1.3: the descriptor names the spec alone; profiles go on the root dataset.
    crate.root_dataset["conformsTo"] = [
        entity({"@id": uri, "@type": ["CreativeWork", "Profile"], "name": title,
                "version": version}) for uri, title, version in PROFILES]
    inputs = [add_file(entry["path"], {"name": entry["doc_id"], "sha256": entry["sha256"],
                                       "description": "raw input (immutable)"})
              for entry in record["inputs"]]
    inputs += [add_file(entry["path"], {
        "sha256": entry["sha256"],
        "description": "researcher review decisions (input: accept, reject, add, memo)"})
        for entry in record.get("review_decisions", [])]
    inputs += [add_file(entry["path"], {"sha256": entry["sha256"],
                                        "description": "configuration of this run"})
               for entry in (record["codebook"], record["config"]) if "path" in entry]
    if record.get("external_scores"):
        entry = record["external_scores"]
        inputs.append(add_file(entry["path"], {
            "sha256": entry["sha256"],
            "description": "scores of the coding measured on other gold corpora (config "
                           "validity.external_scores)"}))
    language = entity({"@id": SNAKEMAKE_LANGUAGE, "@type": "ComputerLanguage",
                       "name": "Snakemake", "identifier": "https://snakemake.github.io/",
                       "url": "https://snakemake.github.io/",
                       **({"version": record["software"]["snakemake"]}
                          if "snakemake" in record.get("software", {}) else {})})
    profile = entity({"@id": BIOSCHEMAS_WORKFLOW, "@type": "CreativeWork",
                      "name": "Bioschemas ComputationalWorkflow profile",
                      "version": "1.0-RELEASE"})
    workflow = add_file("Snakefile", {
        # 1.3's context maps ComputationalWorkflow to bioschemas.org/terms/; Workflow RO-Crate
        # 1.0 (and its validator) name the same class bioschemas.org/ComputationalWorkflow.
        "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow",
                  "https://bioschemas.org/ComputationalWorkflow"],
        "programmingLanguage": language, "conformsTo": profile, "name": "qualtrace workflow",
        "description": "The Snakemake workflow that made this crate's outputs",
        **({"version": record["software"]["qualtrace"]}
           if "qualtrace" in record.get("software", {}) else {})})
    crate.root_dataset["mainEntity"] = workflow
    readme = add_file("README.md", {"description": "What the workflow does and how to run it"})
    readme["about"] = crate.root_dataset
    outputs = [add_file(entry["path"], {"sha256": entry["sha256"],
                                        "description": f"made by rule {entry['rule']}"})
               for entry in record["outputs"]]
    # The run itself (Workflow Run Crate): inputs to outputs through the workflow. No start or
    # end time: nothing here reads the clock.
    run = crate.add_action(workflow, "#run", object=inputs, result=outputs, properties={
        "name": name, "description": "This run of the workflow: it read the object files and "
        "wrote the result files (no times are recorded: the build never reads the clock)"})
    crate.root_dataset["mentions"] = run
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
