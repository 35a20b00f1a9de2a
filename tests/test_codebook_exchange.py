"""The codebook for other tools: REFI-QDA `.qdc` (schema-valid, byte-stable) and the CSV that
Taguette imports, checked with Taguette's own importer."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace as NS

import pytest

from qualtrace import SCHEMA_DIR
from qualtrace.exchange.codebook_formats import (CODEBOOK_NS, code_tree, codebook_qdc, guid,
                                         taguette_csv, taguette_rows, write_qdc,
                                         write_taguette_csv)

ROOT = Path(__file__).resolve().parents[1]
VENDORED = SCHEMA_DIR / "refi-qda"
SHARED = ROOT.parent / "shared" / "schemas" / "refi-qda"


def label(id, label, definition):
    return NS(id=id, label=label, definition=definition)


def small_codebook():
    """Labels with what breaks naive writers: accents, dashes, quotes, markup, a non-BMP
    character, a name that collides with another code's name."""
    return NS(
        themes=[label("dual_role", "Care and control",
                      "Support for welfare – and control: “risk”, <monitoring> & café 𝒳."),
                label("relationships", "Relationships", "Trust between client & worker.")],
        facets=[NS(id="stakeholder", label="Stakeholder group", definition="Whose views.",
                   values=[label("client", "Clients", "People using services."),
                           label("partner", "Partners", "Police, health, third sector.")]),
                NS(id="area", label="Area", definition="Which setting.",
                   values=[label("rural", "Rural", "Remote communities."),
                           label("relationships", "Relationships", "A clashing name.")])])


def schema_dirs() -> list[Path]:
    return [VENDORED] + ([SHARED] if SHARED.is_dir() else [])


def test_vendored_schemas_are_the_shared_ones():
    if not SHARED.is_dir():
        pytest.skip("no ../shared/schemas/refi-qda beside the repository")
    for name in ("Project.xsd", "Codebook.xsd"):
        assert (VENDORED / name).read_bytes() == (SHARED / name).read_bytes(), name


@pytest.mark.parametrize("schema_dir", schema_dirs(), ids=lambda p: p.parent.parent.name)
def test_qdc_is_valid_against_codebook_schema(schema_dir, tmp_path):
    import xmlschema

    path = tmp_path / "codebook.qdc"
    write_qdc(small_codebook(), path)
    xmlschema.XMLSchema(str(schema_dir / "Codebook.xsd")).validate(str(path))


def test_qdc_holds_every_theme_and_facet_value_with_stable_guids(tmp_path):
    data = codebook_qdc(small_codebook())
    assert data == codebook_qdc(small_codebook())  # byte-stable
    root = ET.fromstring(data)
    q = f"{{{CODEBOOK_NS}}}"
    top = root.find(f"{q}Codes").findall(f"{q}Code")
    assert [c.get("name") for c in top] == ["Care and control", "Relationships",
                                            "Stakeholder group", "Area"]
    assert top[0].get("guid") == guid("code:dual_role")
    assert top[0].find(f"{q}Description").text == small_codebook().themes[0].definition
    assert [c.get("isCodable") for c in top] == ["true", "true", "false", "false"]
    area = [c.get("name") for c in top[3].findall(f"{q}Code")]
    assert area == ["Rural", "Relationships (area/relationships)"]  # names stay unique
    assert top[2].findall(f"{q}Code")[0].get("guid") == guid("code:stakeholder/client")


def test_code_tree_guids_do_not_depend_on_order():
    cb = small_codebook()
    before = {n.key: n.guid for root in code_tree(cb) for n in root.walk()}
    cb.themes.reverse()
    after = {n.key: n.guid for root in code_tree(cb) for n in root.walk()}
    assert before == after


def test_taguette_csv_rows_and_bom(tmp_path):
    path = tmp_path / "codebook_taguette.csv"
    write_taguette_csv(small_codebook(), path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbftag,description\n")  # BOM: chardet cannot misread it
    assert data.decode("utf-8-sig") == taguette_csv(small_codebook())
    tags = [r["tag"] for r in taguette_rows(small_codebook())]
    assert tags == ["Care and control", "Relationships", "Stakeholder group: Clients",
                    "Stakeholder group: Partners", "Area: Rural", "Area: Relationships"]


def test_taguette_refuses_duplicate_tags():
    cb = small_codebook()
    cb.themes[1].label = "care  and CONTROL"
    with pytest.raises(ValueError, match="occurs twice"):
        taguette_rows(cb)


# ------------------------------------------------------------------ Taguette's own importer
TAGUETTE_CHECK = """
import json, sys
from taguette import validate
from taguette.import_codebook import list_tags
with open(sys.argv[1], "rb") as handle:
    tags = list_tags(handle)
for tag in tags:
    validate.tag_path(tag["path"]); validate.description(tag["description"])
print(json.dumps(tags))
"""


def tool_python(name: str, module: str) -> str:
    """An interpreter that can import the tool: $QUALTRACE_<NAME>_PYTHON, .venv-tools/<name>,
    or this one. The tools pin libraries that clash with Snakemake's, so CI installs each in
    its own virtualenv; with QUALTRACE_REQUIRE_INTEROP=1 a missing tool fails the test."""
    candidates = [os.environ.get(f"QUALTRACE_{name.upper()}_PYTHON"),
                  str(ROOT / ".venv-tools" / name / "bin" / "python"), sys.executable]
    for python in filter(None, candidates):
        if Path(python).exists() and subprocess.run(
                [python, "-c", f"import {module}"], capture_output=True).returncode == 0:
            return python
    message = f"{name} ({module}) is not installed in any of {candidates}"
    if os.environ.get("QUALTRACE_REQUIRE_INTEROP") == "1":
        pytest.fail(message)
    pytest.skip(message)


def test_taguette_imports_the_codebook(tmp_path):
    python = tool_python("taguette", "taguette.import_codebook")
    path = tmp_path / "codebook_taguette.csv"
    write_taguette_csv(small_codebook(), path)
    result = subprocess.run([python, "-c", TAGUETTE_CHECK, str(path)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    tags = json.loads(result.stdout)
    assert tags == [{"path": r["tag"], "description": r["description"]}
                    for r in taguette_rows(small_codebook())]
    assert tags[0]["description"].endswith("café 𝒳.")  # decoded as UTF-8, not a code page


def test_taguette_imports_the_repository_codebook(tmp_path):
    if not (ROOT / "config" / "codebook.yaml").exists():
        pytest.skip("config/codebook.yaml does not exist yet")
    from qualtrace.coding.codebook import load_codebook

    python = tool_python("taguette", "taguette.import_codebook")
    cb = load_codebook(ROOT / "config" / "codebook.yaml")
    path = tmp_path / "codebook_taguette.csv"
    write_taguette_csv(cb, path)
    result = subprocess.run([python, "-c", TAGUETTE_CHECK, str(path)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    tags = json.loads(result.stdout)
    assert [t["path"] for t in tags][:len(cb.themes)] == [t.label for t in cb.themes]
    assert len(tags) == len(cb.themes) + sum(len(f.values) for f in cb.facets)


@pytest.mark.parametrize("schema_dir", schema_dirs(), ids=lambda p: p.parent.parent.name)
def test_repository_codebook_qdc_is_valid(schema_dir):
    if not (ROOT / "config" / "codebook.yaml").exists():
        pytest.skip("config/codebook.yaml does not exist yet")
    import io

    import xmlschema
    from qualtrace.coding.codebook import load_codebook

    data = codebook_qdc(load_codebook(ROOT / "config" / "codebook.yaml"))
    xmlschema.XMLSchema(str(schema_dir / "Codebook.xsd")).validate(io.BytesIO(data))
