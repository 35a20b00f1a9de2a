"""Score the pipeline's coding on any corpus that has gold annotations.

    python scripts/score_corpus.py tests/fixtures/heldout

copies DIR/data/raw and DIR/data/gold with this repository's config into a temporary run
directory, builds data/processed/coding_validation.csv with the real workflow, and prints the
macro- and micro-averaged scores per label set. Nothing is written into DIR.
"""
from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from qualtrace import layout

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a folder with data/raw/ and data/gold/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qualtrace-score-") as tmp:
        work = Path(tmp)
        for part in ("raw", "gold"):
            shutil.copytree(args.corpus / "data" / part, work / "data" / part)
        shutil.copytree(ROOT / "config", work / "config")
        table = layout.table("coding_validation")
        subprocess.run([sys.executable, "-m", "snakemake", table,
                        "-s", str(ROOT / "Snakefile"), "--directory", str(work), "--cores", "2",
                        "--quiet", "all"], check=True)
        with open(work / table, encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if r["label"].startswith("__")]
    print(f"{'label set':14}{'average':10}{'precision':>10}{'recall':>8}{'F1':>8}{'units':>7}")
    for row in rows:
        print(f"{row['label_set']:14}{row['label'].strip('_'):10}{row['precision']:>10}"
              f"{row['recall']:>8}{row['f1']:>8}{row['n_units']:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
