"""Time `import-gold` on selections that end between the CR and the LF of CRLF text.

    PYTHONPATH=src python benchmarks/import_gold_crlf.py [--selections 5000]

A raw file with a BOM and CRLF line ends, and a project whose tool dropped the BOM (so
positions must be mapped), with one selection per line ending between its CR and LF, beside
the same selections on LF text. Issue 13: 5,000 such selections took 26 s against 0.3 s,
because each such position was mapped by a scan of the whole text. Prints both times.
"""
from __future__ import annotations

import argparse
import tempfile
import time
import zipfile
from pathlib import Path

from qualtrace.corpus.discovery import discover
from qualtrace.common.io import write_csv
from qualtrace.exchange.qdpx_read import qdpx_to_gold

CODEBOOK = """\
codebook: bench
version: 1
themes:
  - {id: relationships, label: Relationships, definition: Trust., rules: []}
"""


def corpus(base: Path, n: int, line_end: str) -> tuple[Path, Path, Path]:
    lines = [f"Paragraph {i} says that staff and clients built trust over many months."
             for i in range(n)]
    raw = "\ufeff" + line_end.join(lines) + line_end
    raw_dir = base / "raw"
    raw_dir.mkdir(parents=True)
    (raw_dir / "doc.txt").write_bytes(raw.encode("utf-8"))
    segments, selections, at = [], [], 1
    for i, line in enumerate(lines):
        segments.append({"segment_id": f"doc-{i + 1:05d}", "doc_id": "doc", "kind": "paragraph",
                         "start": at, "end": at + len(line), "text": line,
                         "boilerplate": "false"})
        tool_start = at - 1  # the tool's text has no BOM
        tool_end = tool_start + len(line) + (1 if line_end == "\r\n" else 0)  # after the CR
        selections.append(
            f'<PlainTextSelection guid="{i:08x}-0000-4000-8000-000000000000" '
            f'startPosition="{tool_start}" endPosition="{tool_end}"><Coding guid="{i:08x}-0000-'
            '4000-8000-000000000001"><CodeRef targetGUID="11111111-1111-4111-8111-111111111111"'
            "/></Coding></PlainTextSelection>")
        at += len(line) + len(line_end)
    segments_csv = base / "segments.csv"
    write_csv(segments_csv, list(segments[0]), segments)
    qde = ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" '
           'name="bench"><CodeBook><Codes><Code guid="11111111-1111-4111-8111-111111111111" '
           'name="Relationships" isCodable="true"/></Codes></CodeBook><Sources><TextSource '
           'guid="22222222-2222-4222-8222-222222222222" name="doc.txt" '
           f'plainTextPath="internal://doc.txt">{"".join(selections)}</TextSource></Sources>'
           "</Project>")
    qdpx = base / "coded.qdpx"
    with zipfile.ZipFile(qdpx, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("sources/doc.txt", raw[1:].encode("utf-8"))
    (base / "codebook.yaml").write_text(CODEBOOK, encoding="utf-8")
    return qdpx, raw_dir, segments_csv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selections", type=int, default=5000)
    args = parser.parse_args()
    for name, line_end in (("CRLF, selections ending between CR and LF", "\r\n"),
                           ("LF", "\n")):
        with tempfile.TemporaryDirectory(prefix="qualtrace-bench-") as tmp:
            base = Path(tmp)
            qdpx, raw_dir, segments_csv = corpus(base, args.selections, line_end)
            began = time.perf_counter()
            summary = qdpx_to_gold(qdpx, discover([str(raw_dir / "*.txt")]),
                                   base / "gold.jsonl", codebook=base / "codebook.yaml",
                                   segments_csv=segments_csv)
            took = time.perf_counter() - began
        print(f"{name}: {args.selections} selections, {summary['codings']} codings, "
              f"{summary['units']} units in {took:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
