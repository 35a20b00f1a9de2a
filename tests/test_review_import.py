"""`qualtrace import-review`: recode our own .qdpx programmatically (remove one coding, add
one), import it, and get exactly those two decisions."""
from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
import zipfile

import pytest
import yaml
from lxml import etree

from conftest import MINI
from qualtrace.exchange.codebook_formats import guid
from qualtrace.review.decisions import read_decisions, text_sha256
from workflow_helpers import make_project, read_rows, snakemake

pytestmark = pytest.mark.slow
NS = "urn:QDA-XML:project:1.0"
Q = f"{{{NS}}}"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    work = make_project(tmp_path_factory.mktemp("import-review"), MINI)
    snakemake(work, "reports/qualtrace.qdpx")
    return work


def recode(ours, out, remove: tuple[str, str],
           add: tuple[str, str, int, int, str] | None):
    """Our project with one (segment, theme) coding removed and one selection added, the way
    another tool would save it."""
    with zipfile.ZipFile(ours) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    root = etree.fromstring(members["project.qde"])
    seg_id, theme = remove
    code = guid(f"code:{theme}")
    removed = 0
    for sel in root.iter(f"{Q}PlainTextSelection"):
        ref = sel.find(f"{Q}Coding/{Q}CodeRef")
        if sel.get("name").endswith(f" {seg_id}") and ref.get("targetGUID") == code:
            sel.getparent().remove(sel)
            removed += 1
    assert removed == 1
    if add is not None:
        _add_selection(root, *add)
    members["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _add_selection(root, source_guid, theme, start, end, memo):
    source = next(s for s in root.iter(f"{Q}TextSource") if s.get("guid") == source_guid)
    user = root.get("creatingUserGUID")
    selection = etree.Element(f"{Q}PlainTextSelection", guid=str(uuid.uuid4()),
                              name="recoded", startPosition=str(start), endPosition=str(end),
                              creatingUser=user)
    etree.SubElement(selection, f"{Q}Description").text = memo
    coding = etree.SubElement(selection, f"{Q}Coding", guid=str(uuid.uuid4()),
                              creatingUser=user)
    etree.SubElement(coding, f"{Q}CodeRef", targetGUID=guid(f"code:{theme}"))
    variables = source.find(f"{Q}VariableValue")
    if variables is not None:
        variables.addprevious(selection)
    else:
        source.append(selection)


def test_a_recode_comes_back_as_exactly_its_two_differences(exported, tmp_path):
    work = exported
    segments = {s["segment_id"]: s for s in read_rows(work / "data/processed/segments.csv")}
    codings = read_rows(work / "data/processed/codings.csv")
    removed = codings[0]
    theme = removed["theme"]
    coded = {c["segment_id"] for c in codings if c["theme"] == theme}
    target = next(s for s in segments.values() if s["kind"] == "paragraph" and
                  s["boilerplate"] == "false" and s["segment_id"] not in coded)
    root = etree.fromstring(zipfile.ZipFile(work / "reports/qualtrace.qdpx").read("project.qde"))
    source = next(s.get("guid") for s in root.iter(f"{Q}TextSource")
                  if s.get("name").startswith(target["doc_id"]))
    recoded = tmp_path / "recoded.qdpx"
    # The added selection covers most of the paragraph, as a person would select it.
    start, end = int(target["start"]) + 2, int(target["end"]) - 1
    recode(work / "reports/qualtrace.qdpx", recoded, (removed["segment_id"], theme),
           (source, theme, start, end, "clearly about this"))

    result = subprocess.run(
        [sys.executable, "-m", "qualtrace", "import-review", str(recoded), "--reviewer",
         "carol"], cwd=work, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "1 codings removed and 1 added" in result.stdout
    decisions = read_decisions([str(work / "data/review/carol.csv")])
    assert [(d.segment_id, d.facet, d.label, d.decision, d.reviewer, d.note, d.text_sha256)
            for d in decisions] == sorted([
        (removed["segment_id"], "theme", theme, "reject", "carol", "recoded in recoded.qdpx",
         text_sha256(segments[removed["segment_id"]]["text"])),
        (target["segment_id"], "theme", theme, "add", "carol", "clearly about this",
         text_sha256(target["text"]))], key=lambda d: [s["segment_id"] for s in
                                                       segments.values()].index(d[0]))
    # Importing the same recode again changes nothing.
    again = subprocess.run(
        [sys.executable, "-m", "qualtrace", "import-review", str(recoded), "--reviewer",
         "carol"], cwd=work, capture_output=True, text=True)
    assert "0 codings removed and 0 added" in again.stdout
    assert len(read_decisions([str(work / "data/review/carol.csv")])) == 2


def test_an_unreadable_project_is_one_line(exported, tmp_path):
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(b"not a zip")
    result = subprocess.run(
        [sys.executable, "-m", "qualtrace", "import-review", str(bad), "--reviewer", "carol"],
        cwd=exported, capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"qualtrace: error: {bad}: not a readable REFI-QDA project")


def test_the_corpus_is_the_one_the_config_names(exported, tmp_path):
    """Like import-gold, import-review finds the documents through the config's
    corpus.patterns (the workflow's own discovery), not in a fixed data/raw folder."""
    work = tmp_path / "elsewhere"
    shutil.copytree(exported / "config", work / "config")
    shutil.copytree(exported / "data" / "raw", work / "texts")
    for built in ("data/processed/segments.csv", "reports/qualtrace.qdpx"):
        (work / built).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(exported / built, work / built)
    config = yaml.safe_load((work / "config/config.yaml").read_text(encoding="utf-8"))
    config["corpus"]["patterns"] = ["texts/*.txt", "texts/*.md"]
    (work / "config/config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    codings = read_rows(exported / "data/processed/codings.csv")
    recoded = tmp_path / "recoded.qdpx"
    recode(work / "reports/qualtrace.qdpx", recoded, (codings[0]["segment_id"],
                                                      codings[0]["theme"]), None)
    result = subprocess.run(
        [sys.executable, "-m", "qualtrace", "import-review", str(recoded), "--reviewer",
         "dana"], cwd=work, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "1 codings removed and 0 added" in result.stdout
    assert "warning" not in result.stderr, result.stderr
