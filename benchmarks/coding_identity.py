"""Coding speed and identity on synthetic documents from `benchmarks/synth.py`.

    PYTHONPATH=src python benchmarks/coding_identity.py speed [--docs 100] [--runs 5]
        CPU-time MB/s of `code_segments` over --docs generated documents (best and median).
    python benchmarks/coding_identity.py compare [--docs 300] [--ref main] [--raw DIR]
        codes the same documents with this tree's package and with git ref --ref's package
        (exported to a temporary folder) and checks the coding tables are byte-identical.

The documents are ingested with the package's own parser; segments pass through CSV text so
the engine sees exactly the strings it reads in the workflow.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def corpus(n_docs: int, seed: int, workdir: Path, raw_dir: Path | None = None):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synth import generate
    from qualtrace.common.config import validate_config_file
    from qualtrace.corpus.ingest import IngestRules, ingest_file

    if raw_dir is None:
        generate(workdir, n_docs, seed=seed)
    config = _own(raw_dir, "config.yaml")
    rules = IngestRules.from_config(validate_config_file(config)["ingest"])
    segments, raw = [], {}
    for path in sorted((raw_dir or workdir).rglob("*.txt")):
        segments += ingest_file(str(path), path.stem, rules)["segments"]
        raw[path.stem] = path.read_text(encoding="utf-8")
    return _as_read(segments, workdir), raw


def _as_read(segments: list[dict], workdir: Path) -> list[dict]:
    """The segments as the package's own `code` step reads them from segments.csv: typed rows
    where the package has the typed tables module, else the CSV's text cells (an older ref)."""
    try:
        from qualtrace.common.tables import read_table, records, write_table
    except ImportError:
        from qualtrace.common.io import csv_text

        return list(csv.DictReader(io.StringIO(csv_text(list(segments[0]), segments))))
    path = workdir / "segments.csv"  # the flag gather adds across documents; coding ignores it
    write_table([{"repeated_across_documents": False, **s} for s in segments], path, "segments")
    return records(read_table(path, "segments"))


def _own(raw_dir: Path | None, name: str) -> Path:
    """A fixture corpus's own config/NAME (beside DIR or one up) if it has one, else the repo's."""
    for folder in (raw_dir.parents[:2] if raw_dir is not None else ()):
        if (folder / "config" / name).exists():
            return folder / "config" / name
    return ROOT / "config" / name


def emit(n_docs: int, seed: int, out: Path, raw_dir: Path | None = None) -> None:
    from qualtrace.coding.codebook import load_codebook
    from qualtrace.coding.engine import CODING_FIELDS, FACET_FIELDS, code_segments
    from qualtrace.common.io import csv_text

    with tempfile.TemporaryDirectory() as tmp:
        rows, raw = corpus(n_docs, seed, Path(tmp), raw_dir)
    codings, facets = code_segments(rows, raw, load_codebook(_own(raw_dir, "codebook.yaml")))
    out.write_text(csv_text(CODING_FIELDS, codings) + "\0" + csv_text(FACET_FIELDS, facets))


def speed(n_docs: int, seed: int, runs: int) -> None:
    from qualtrace.coding.codebook import load_codebook
    from qualtrace.coding.engine import code_segments

    with tempfile.TemporaryDirectory() as tmp:
        rows, raw = corpus(n_docs, seed, Path(tmp))
    codebook = load_codebook(ROOT / "config" / "codebook.yaml")
    mb = sum(len(t.encode("utf-8")) for t in raw.values()) / 1e6
    cpu = []
    for _ in range(runs):
        c0 = time.process_time()
        code_segments(rows, raw, codebook)
        cpu.append(time.process_time() - c0)
    print(f"{n_docs} documents, {mb:.2f} MB, {len(rows)} segments; CPU s per run: "
          + ", ".join(f"{c:.2f}" for c in cpu))
    print(f"code_segments CPU MB/s: first run (the codebook's caches cold, as in a workflow "
          f"job) {mb / cpu[0]:.2f}; later runs best {mb / min(cpu[1:] or cpu):.2f}, "
          f"median {mb / statistics.median(cpu[1:] or cpu):.2f}")


def compare(n_docs: int, seed: int, ref: str, raw_dir: Path | None = None) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run(f"git -C {ROOT} archive {ref} src | tar -x -C {tmp}", shell=True, check=True)
        digests = {}
        for name, src in (("ref", tmp / "src"), ("this", ROOT / "src")):
            out = tmp / f"{name}.out"
            env = dict(os.environ, PYTHONPATH=str(src))
            subprocess.run([sys.executable, __file__, "emit", "--docs", str(n_docs),
                            "--seed", str(seed), "--out", str(out)]
                           + (["--raw", str(raw_dir)] if raw_dir else []), env=env, check=True)
            digests[name] = hashlib.sha256(out.read_bytes()).hexdigest()
            print(f"{name}: {digests[name]} ({out.stat().st_size} bytes)")
    same = digests["ref"] == digests["this"]
    print("identical" if same else "DIFFERENT")
    return 0 if same else 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["speed", "compare", "emit"])
    ap.add_argument("--docs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ref", default="main")
    ap.add_argument("--out")
    ap.add_argument("--raw", type=Path, default=None,
                    help="code the .txt files under this folder (e.g. tests/fixtures/mini/data/raw) "
                         "instead of generated ones; its corpus's config/ is used if it has one")
    args = ap.parse_args()
    if args.mode == "speed":
        speed(args.docs or 100, args.seed, args.runs)
    elif args.mode == "emit":
        emit(args.docs or 300, args.seed, Path(args.out), args.raw)
    else:
        raw = args.raw.resolve() if args.raw else None
        sys.exit(compare(args.docs or 300, args.seed, args.ref, raw))


if __name__ == "__main__":
    main()
