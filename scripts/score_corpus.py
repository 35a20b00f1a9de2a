"""Score the pipeline's coding on any corpus that has gold annotations.

    python scripts/score_corpus.py tests/fixtures/heldout

copies DIR/data/raw and DIR/data/gold with this repository's config into a temporary run
directory, builds data/processed/coding_validation.csv with the real workflow, and prints the
macro- and micro-averaged scores per label set. Nothing is written into DIR.

    python scripts/score_corpus.py tests/fixtures/heldout3 --write docs/gold_set_scores.csv

also records the set's micro precision/recall/F1 per label set in that CSV (one row per set and
label set, replacing the set's earlier rows; rows kept sorted), with the sha256 of the codebook
file they were measured with and the command that made them:
the committed record of scores on sets the build cannot score itself (gold kept outside
data/gold, such as the never-tuned held-out sets).
"""
from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from qualtrace import layout
from qualtrace.analysis.gold_scores import record
from qualtrace.common.io import sha256_file

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a folder with data/raw/ and data/gold/")
    parser.add_argument("--write", type=Path, metavar="CSV",
                        help="record this set's micro scores in CSV (see above)")
    parser.add_argument("--tuned", action="store_true",
                        help="with --write: the rules were tuned on this set")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qualtrace-score-") as tmp:
        work = Path(tmp)
        for part in ("raw", "gold"):
            shutil.copytree(args.corpus / "data" / part, work / "data" / part)
        shutil.copytree(ROOT / "config", work / "config")
        # This build only scores the coding: it makes no report, so it needs no external scores
        # (the file it may be about to rewrite).
        settings = work / "config" / "config.yaml"
        config = yaml.safe_load(settings.read_text(encoding="utf-8"))
        if config.pop("validity", None) is not None:
            settings.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        # The codebook the scores are measured with (its sha256 goes into the scores file).
        codebook_sha256 = sha256_file(work / config["codebook"])
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
    if args.write:
        record_scores(args.write, args.corpus, rows, args.tuned, codebook_sha256)
    return 0


def record_scores(path: Path, corpus: Path, rows: list[dict], tuned: bool,
                  codebook_sha256: str) -> None:
    """Replace the set's rows in the scores CSV, with the codebook's sha256 and this command."""
    def shown(p: Path):
        try:
            return p.resolve().relative_to(ROOT)
        except ValueError:
            return p
    command = (f"python scripts/score_corpus.py {shown(corpus)} --write {shown(path)}"
               + (" --tuned" if tuned else ""))
    record(path, corpus.resolve().name, [r for r in rows if r["label"] == "__micro__"], tuned,
           codebook_sha256, command)


if __name__ == "__main__":
    raise SystemExit(main())
