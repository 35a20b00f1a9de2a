"""`qualtrace import-review`: a REFI-QDA project recoded in another tool (QualCoder, NVivo,
ATLAS.ti, MAXQDA...) compared with our export, its differences written as decisions.

Both projects are placed in the corpus by `qualtrace.exchange.qdpx_read.place_codings`, the
same code `import-gold` uses (sources matched by file name or content, codes mapped to codebook
labels by our GUIDs, name or facet parent, a selection coding every segment it lies in or covers
half of). Per segment, a label our export has and the recode lacks is a `reject`; one the recode has and ours lacks is an `add` (its memo is
the selection's description in the recode, when the tool kept one).
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .. import layout
from ..coding.codebook import load_codebook
from ..common.io import InputError, read_raw
from ..common.tables import read_table, records
from ..exchange.qdpx_read import Labels, place_codings, read_qdpx, segments_by_document
from .decisions import THEME, append_decisions, read_decisions, reviewer_file, text_sha256


def coded_segments(path, documents: dict[str, str], segs_of: dict, labels: Labels,
                   skipped: list[str]) -> dict[str, dict[tuple[str, str], str]]:
    """segment id -> {(facet, label): memo} for every coding of the project at `path`
    (documents: doc_id -> raw file path)."""
    try:
        project = read_qdpx(path)
    except (OSError, ValueError, KeyError) as err:
        raise InputError(f"{path}: not a readable REFI-QDA project: {err}") from None
    except Exception as err:  # zipfile.BadZipFile, XML ParseError
        raise InputError(f"{path}: not a readable REFI-QDA project ({err})") from None
    skipped += project.warnings
    doc_of = {Path(p).name: doc_id for doc_id, p in sorted(documents.items())}
    raws = {Path(p).name: read_raw(p) for _, p in sorted(documents.items())}
    found: list[str] = []
    placed, _ = place_codings(project, raws, segs_of, doc_of, labels, found)
    skipped += [f"{path}: {message}" for message in found]
    coded: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
    for coding in placed:
        label = (labels.facet_of_key[coding.label[0]] or THEME, coding.label[1])
        for seg in coding.segments:
            coded[seg["segment_id"]].setdefault(label, coding.description)
    return coded


def import_review(recoded, reviewer: str, *, documents: dict[str, str], codebook,
                  ours=layout.QDPX, segments_csv=layout.table("segments"),
                  root=".") -> tuple[list[dict], list[str]]:
    """Append the recode's differences from our export to the reviewer's decision file; return
    (the decisions written, messages about what could not be compared). documents: the corpus,
    doc_id -> raw file path (as corpus.discovery.discover finds it)."""
    for path in (recoded, ours, segments_csv):
        if not Path(path).is_file():
            raise InputError(f"{path}: no such file" + (
                "; run `snakemake --cores 4` first" if path != recoded else ""))
    book = load_codebook(codebook, terms=False)
    labels = Labels(book)
    segments = records(read_table(segments_csv, "segments"))
    segs_of = segments_by_document(segments)
    skipped: list[str] = []
    before = coded_segments(ours, documents, segs_of, labels, skipped)
    after = coded_segments(recoded, documents, segs_of, labels, skipped)
    target = reviewer_file(reviewer, root)
    latest = {(d.segment_id, d.facet, d.label): d.decision
              for d in (read_decisions([str(target)]) if target.exists() else [])}
    decisions = []
    for seg in segments:
        seg_id = seg["segment_id"]
        old, new = before.get(seg_id, {}), after.get(seg_id, {})
        changes = [(key, "reject", "") for key in sorted(old.keys() - new.keys())]
        changes += [(key, "add", new[key]) for key in sorted(new.keys() - old.keys())]
        for (facet, label), word, memo in changes:
            if f"Segment {seg_id} (" in memo:
                memo = ""  # our export's own description of a selection, not a memo
            if latest.get((seg_id, facet, label)) == word:
                continue  # already decided so: importing the same recode twice adds nothing
            decisions.append({"segment_id": seg_id, "text_sha256": text_sha256(seg["text"]),
                              "facet": facet, "label": label, "decision": word,
                              "reviewer": reviewer,
                              "note": " ".join(memo.split()) or f"recoded in {Path(recoded).name}"})
    if decisions:
        append_decisions(target, decisions)
    return decisions, list(dict.fromkeys(skipped))
