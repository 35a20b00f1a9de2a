"""ro-crate-metadata.json against RO-Crate 1.3 and the workflow and run profiles, checked
offline with roc-validator (its HTTP cache seeded with the 1.3 context from the rocrate wheel)."""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qualtrace import layout

ROOT = Path(__file__).resolve().parents[1]
CONTEXT = "https://w3id.org/ro/crate/1.3/context"
# A publisher as a study's config names one (ORCID's own example iD for a fictional researcher).
PUBLISHER = {"id": "https://orcid.org/0000-0002-1825-0097", "name": "Josiah Carberry",
             "contact": "josiah.carberry@example.org"}
# Profile -> the RECOMMENDED checks the crate cannot truthfully meet (every REQUIRED one passes).
# The workflow and run profiles are written on RO-Crate 1.1; -nh checks each profile's own rules,
# as the base spec is checked by ro-crate-1.3 (whose 1.1 predecessor wants 1.1 in the descriptor).
EXPECTED_MISSES = {
    "ro-crate-1.3": set(),
    # Workflow RO-Crate 1.0 wants the descriptor's conformsTo to list RO-Crate 1.1 and itself;
    # RO-Crate 1.3 RECOMMENDS exactly one value there, 1.3 (ro-crate-1.3_44.2), and profiles on
    # the root dataset, where this crate names them. We follow 1.3.
    "workflow-ro-crate-1.0": {"workflow-ro-crate-1.0_7.1"},
    "workflow-run-crate-0.5": set(),
    # The workflow has no URL (3.2) nor absolute id (5.1): it is the crate's own Snakefile; the
    # run has no endTime (8.4: nothing reads the clock) and no agent (8.6: who ran it is unknown).
    "process-run-crate-0.5": {"process-run-crate-0.5_3.2", "process-run-crate-0.5_5.1",
                              "process-run-crate-0.5_8.4", "process-run-crate-0.5_8.6"},
}


def seed_context_cache(cache: Path) -> None:
    """Store the 1.3 context shipped in the rocrate wheel in the validator's HTTP cache."""
    import rocrate
    from requests.adapters import BaseAdapter
    from requests.models import Response
    from requests_cache import CachedSession
    from urllib3 import HTTPResponse

    body = (Path(rocrate.__file__).parent / "data" / "ro-crate.jsonld").read_bytes()

    class Local(BaseAdapter):
        def send(self, request, **kwargs):
            assert request.url == CONTEXT, request.url
            response = Response()
            response.status_code, response.url, response.request = 200, request.url, request
            response.headers["Content-Type"] = "application/ld+json"
            response.raw = HTTPResponse(body=io.BytesIO(body), status=200, request_url=request.url,
                                        headers=dict(response.headers), preload_content=False)
            return response

        def close(self):
            pass

    session = CachedSession(cache_name=str(cache), backend="sqlite", expire_after=-1)
    session.mount("https://", Local())
    assert session.get(CONTEXT).status_code == 200


def validate(crate_dir: Path, cache: Path, *profile: str) -> dict:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "rocrate-validator"), "-y", "validate", "--offline",
         "--cache-path", str(cache), "-l", "recommended", "-f", "json", *profile, str(crate_dir)],
        capture_output=True, text=True, timeout=600, env=dict(os.environ, NO_COLOR="1"))
    report, _ = json.JSONDecoder().raw_decode(result.stdout)
    return report


def issues(report: dict) -> set[tuple[str, str]]:
    return {(i["severity"], i["check"]["identifier"]) for i in report["issues"]}


@pytest.fixture(scope="module")
def crate_dir(mini_build, tmp_path_factory):
    """The mini build as a checkout holds it (Snakefile, README, LICENSE beside the data), with a
    publisher in its config and the crate rewritten by the workflow's own rule."""
    pytest.importorskip("rocrate_validator")
    from workflow_helpers import snakemake

    work = tmp_path_factory.mktemp("crate") / "project"
    shutil.copytree(mini_build, work, ignore=shutil.ignore_patterns(".snakemake"))
    for name in ("Snakefile", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, work / name)
    config = work / layout.CONFIG
    times = config.stat()
    config.write_text(config.read_text(encoding="utf-8") + "\n" + yaml.safe_dump(
        {"publisher": PUBLISHER}), encoding="utf-8")
    os.utime(config, ns=(times.st_atime_ns, times.st_mtime_ns))  # rerun the crate rule alone
    before = (work / layout.CRATE).read_bytes()
    snakemake(work, "--forcerun", "provenance_manifest", "--rerun-triggers", "mtime")
    assert (work / layout.CRATE).read_bytes() != before
    seed_context_cache(work.parent / "cache")
    return work


@pytest.mark.parametrize("profile", sorted(EXPECTED_MISSES))
def test_crate_passes_required_and_recommended(crate_dir, profile):
    flags = [] if profile.startswith("ro-crate") else ["-nh"]
    report = validate(crate_dir, crate_dir.parent / "cache", "-p", profile, *flags)
    assert {check for severity, check in issues(report) if severity == "REQUIRED"} == set()
    assert {check for severity, check in issues(report)} == EXPECTED_MISSES[profile]
    assert report["passed"] == (not EXPECTED_MISSES[profile])


def test_the_crate_records_the_run_from_inputs_to_outputs(crate_dir):
    graph = {e["@id"]: e for e in json.loads(
        (crate_dir / layout.CRATE).read_text(encoding="utf-8"))["@graph"]}
    root = graph["./"]
    run = graph[root["mentions"]["@id"]]
    assert (run["@type"], run["instrument"]) == ("CreateAction", root["mainEntity"])
    used = {e["@id"] for e in run["object"]}
    made = {e["@id"] for e in run["result"]}
    assert layout.CONFIG in used and layout.table("codings") in made
    assert any(path.startswith("data/raw/") for path in used) and not used & made
    assert {e["@id"] for e in root["hasPart"]} >= used | made | {"Snakefile", "README.md"}


def test_workflow_written_crate_has_licence_publisher_and_language(crate_dir):
    graph = {e["@id"]: e for e in json.loads(
        (crate_dir / layout.CRATE).read_text(encoding="utf-8"))["@graph"]}
    root = graph["./"]
    assert graph[root["license"]["@id"]]["identifier"] == "MIT"
    publisher = graph[root["publisher"]["@id"]]
    assert (publisher["@id"], publisher["@type"]) == (PUBLISHER["id"], "Person")
    assert graph[publisher["contactPoint"]["@id"]]["email"] == PUBLISHER["contact"]
    workflow = graph[root["mainEntity"]["@id"]]
    assert graph[workflow["programmingLanguage"]["@id"]]["name"] == "Snakemake"
    assert "bioschemas.org/profiles/ComputationalWorkflow" in workflow["conformsTo"]["@id"]
    files = [e for e in graph.values() if e["@type"] == "File"]
    assert files and all(e.get("name") and e.get("encodingFormat") for e in files)
    assert all("contentSize" in e for e in files)


def test_crate_without_a_configured_publisher_names_none_and_says_so(mini_build):
    from qualtrace.audit.provenance import NO_PUBLISHER

    graph = json.loads((mini_build / layout.CRATE).read_text(encoding="utf-8"))
    root = next(e for e in graph["@graph"] if e["@id"] == "./")
    assert "publisher" not in root
    assert not any(e["@type"] in ("Person", "Organization") for e in graph["@graph"])
    log = (mini_build / layout.log("provenance_manifest")).read_text(encoding="utf-8")
    assert NO_PUBLISHER in log


def test_an_organisation_publisher_has_its_ror_id_web_site_and_contact_page():
    from qualtrace.audit.provenance import publisher_entities

    organisation, contact = publisher_entities({
        "id": "https://ror.org/03f0f6041", "name": "An institute", "url": "https://example.org/",
        "contact": "https://example.org/contact"})
    assert organisation == {"@id": "https://ror.org/03f0f6041", "@type": "Organization",
                            "name": "An institute", "url": "https://example.org/",
                            "contactPoint": {"@id": "https://example.org/contact"}}
    assert (contact["@type"], contact["url"]) == ("ContactPoint", "https://example.org/contact")


@pytest.mark.parametrize("publisher, place", [
    ({"id": "https://example.org/me", "name": "A", "contact": "a@example.org"}, "publisher.id"),
    ({"id": "https://ror.org/03f0f6041", "name": "A", "contact": "a@example.org"}, "publisher"),
    ({"id": PUBLISHER["id"], "name": "A", "contact": "call me"}, "publisher.contact"),
])
def test_config_refuses_a_publisher_the_crate_could_not_identify(publisher, place):
    from qualtrace.common.config import ConfigError, validate_config_text

    text = (ROOT / layout.CONFIG).read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(place)):
        validate_config_text(text + "\n" + yaml.safe_dump({"publisher": publisher}),
                             "config/config.yaml")


def test_the_crate_is_a_function_of_the_record_and_config(crate_dir, monkeypatch):
    """Built again from the same provenance record and publisher, the crate is the same (no
    clock, no random ids): what the rule wrote is exactly what the package makes."""
    from qualtrace.audit.provenance import commit_epoch, ro_crate

    written = json.loads((crate_dir / layout.CRATE).read_text(encoding="utf-8"))
    record = json.loads((crate_dir / layout.PROVENANCE).read_text(encoding="utf-8"))
    root = next(e for e in written["@graph"] if e["@id"] == "./")
    monkeypatch.setenv("SOURCE_DATE_EPOCH",  # as the workflow pins it
                       os.environ.get("SOURCE_DATE_EPOCH") or commit_epoch(str(ROOT)) or "0")
    monkeypatch.chdir(crate_dir)
    assert ro_crate(record, root["name"], root["description"], PUBLISHER) == written
