"""Coding throughput: MB/s of `code_segments` on ~20 MB made by repeating the seed segments.

Also times a plain single-pass scan of the same text with one regex holding every codebook term,
the floor any matcher pays, and prints the ratio. Three runs each; medians are reported.
`measure()` is also what `benchmarks/run.py` uses on each benchmark corpus.

    PYTHONPATH=src python benchmarks/coding_speed.py [--mb 20] [--segments data/processed/segments.csv]
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from qualtrace.codebook import load_codebook, term_regex  # noqa: E402
from qualtrace.coding import code_segments  # noqa: E402
from qualtrace.io import read_csv  # noqa: E402


def synthetic_corpus(segments: list[dict], raw_dir: Path, target_bytes: int):
    """Repeat the coded segments into one long synthetic document with exact offsets."""
    raws = {p.stem: p.read_text(encoding="utf-8") for p in raw_dir.glob("*.txt")}
    units = [s for s in segments if s["boilerplate"] != "true"]
    parts, rows, pos, n = [], [], 0, 0
    while pos < target_bytes:
        for seg in units:
            raw = raws[seg["doc_id"]]
            text = raw[int(seg["start"]):int(seg["end"])]
            n += 1
            row = dict(seg, doc_id="synthetic", segment_id=f"synthetic-{n:07d}",
                       start=str(pos), end=str(pos + len(text)))
            if seg.get("attribution_start"):
                row["attribution_start"] = str(pos + int(seg["attribution_start"]) - int(seg["start"]))
            rows.append(row)
            parts.append(text + "\n")
            pos += len(text) + 1
    return "".join(parts), rows


def plain_regex(codebook) -> re.Pattern:
    """One alternation of every codebook term: what a single-pass scan must look for."""
    terms = [term_regex(t) for t in codebook.matcher.terms]
    return re.compile(r"\b(?:" + "|".join(terms) + ")", re.IGNORECASE)


def plain_scan(codebook, text: str, rx: re.Pattern | None = None) -> int:
    rx = rx or plain_regex(codebook)
    return sum(1 for _ in rx.finditer(text))


def measure(rows: list[dict], raw_texts: dict[str, str], codebook, runs: int = 3) -> dict:
    """Median seconds of `code_segments` over rows and of a plain scan of the same raw texts,
    run back to back in this process; `mb` is the size of those texts (UTF-8)."""
    rx = plain_regex(codebook)
    coding, plain = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        code_segments(rows, raw_texts, codebook)
        coding.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for text in raw_texts.values():
            plain_scan(codebook, text, rx)
        plain.append(time.perf_counter() - t0)
    return {"code_s": statistics.median(coding), "plain_s": statistics.median(plain),
            "mb": sum(len(t.encode("utf-8")) for t in raw_texts.values()) / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=float, default=20.0)
    ap.add_argument("--segments", default=str(ROOT / "data/processed/segments.csv"))
    ap.add_argument("--raw", default=str(ROOT / "data/raw"))
    ap.add_argument("--codebook", default=str(ROOT / "config/codebook.yaml"))
    args = ap.parse_args()

    t0 = time.perf_counter()
    codebook = load_codebook(args.codebook)
    compile_s = time.perf_counter() - t0
    text, rows = synthetic_corpus(read_csv(args.segments), Path(args.raw), int(args.mb * 1e6))
    raw = {"synthetic": text}
    size_mb = len(text.encode("utf-8")) / 1e6

    timed = measure(rows, raw, codebook, runs=3)
    c, p = timed["code_s"], timed["plain_s"]
    codings, facets = code_segments(rows, raw, codebook)
    print(f"codebook: {len(codebook.matcher.terms)} terms, {len(codebook.rule_ids())} rules, "
          f"compiled in {compile_s * 1000:.0f} ms")
    print(f"corpus: {size_mb:.1f} MB, {len(rows)} segments; {len(codings)} codings, "
          f"{len(facets)} facet rows")
    print(f"code_segments: median {c:.2f} s = {size_mb / c:.1f} MB/s")
    print(f"plain single-pass regex scan: median {p:.2f} s = {size_mb / p:.1f} MB/s")
    print(f"ratio code_segments / plain scan: {c / p:.2f}x the time "
          f"({p / c:.1f}x faster than the plain scan)")


if __name__ == "__main__":
    main()
