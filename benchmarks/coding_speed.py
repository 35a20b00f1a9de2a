"""Coding throughput: MB/s of `code_segments`, and of a plain single-pass regex scan of the same
bytes for the same patterns, measured in the same run, in one process pinned to one core.

The corpus is made by repeating the seed segments (exact offsets, every unit coded as in the
seeds). Three runs of each; medians of wall-clock and of CPU time are reported, with the load on
the machine before and after. The plain scan is one regex holding every codebook term as an
alternation (`\\b(?:t1|t2|...)`, case-insensitive): what a single-pass scan for the same patterns
costs in Python's `re`. For reference the engine's own single pass (the trie-shaped alternation
it scans each document with) is timed too.
`measure()` is also what `benchmarks/run.py` uses on each benchmark corpus.

    PYTHONPATH=src python benchmarks/coding_speed.py [--mb 5] [--segments data/processed/segments.csv]
        [--cpu N | --no-pin]
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from qualtrace import layout  # noqa: E402
from qualtrace.coding.codebook import load_codebook, term_regex  # noqa: E402
from qualtrace.coding.engine import code_segments  # noqa: E402
from qualtrace.common.tables import read_table, records  # noqa: E402


def synthetic_corpus(segments: list[dict], raw_dir: Path, target_bytes: int):
    """Repeat the coded segments into one long synthetic document with exact offsets."""
    raws = {p.stem: p.read_text(encoding="utf-8") for p in raw_dir.glob("*.txt")}
    units = [s for s in segments if not s["boilerplate"]]
    parts, rows, pos, n = [], [], 0, 0
    while pos < target_bytes:
        for seg in units:
            raw = raws[seg["doc_id"]]
            text = raw[seg["start"]:seg["end"]]
            n += 1
            row = dict(seg, doc_id="synthetic", segment_id=f"synthetic-{n:07d}",
                       start=pos, end=pos + len(text))
            if seg["attribution_start"] is not None:
                row["attribution_start"] = pos + seg["attribution_start"] - seg["start"]
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


def trie_scan(codebook, text: str) -> int:
    """The engine's own single pass (every plain term, one trie-shaped regex) over a text."""
    matcher = codebook.matcher
    if hasattr(matcher, "master_matches"):
        return len(matcher.master_matches(text.lower()))
    return sum(1 for _ in matcher.master.finditer(text.lower()))  # engines before the split


def _timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def measure(rows: list[dict], raw_texts: dict[str, str], codebook, runs: int = 3,
            plain: bool = True) -> dict:
    """Medians over `runs` of `code_segments` over rows and of a plain scan of the same raw
    texts, run back to back in this process; `mb` is the size of those texts (UTF-8).

    Keys: code_s / plain_s (wall), code_cpu_s / plain_cpu_s (CPU), mb, and trie_s /
    trie_cpu_s for the engine's own single pass; the *_runs keys hold every run."""
    rx = plain_regex(codebook) if plain else None
    times: dict[str, list] = {"code": [], "plain": [], "trie": []}
    for _ in range(runs):
        times["code"].append(_timed(lambda: code_segments(rows, raw_texts, codebook)))
        times["trie"].append(_timed(lambda: [trie_scan(codebook, t) for t in raw_texts.values()]))
        if plain:
            times["plain"].append(_timed(
                lambda: [plain_scan(codebook, t, rx) for t in raw_texts.values()]))
    out = {"mb": sum(len(t.encode("utf-8")) for t in raw_texts.values()) / 1e6}
    for name, pairs in times.items():
        if not pairs:
            continue
        out[f"{name}_s"] = statistics.median(w for w, _ in pairs)
        out[f"{name}_cpu_s"] = statistics.median(c for _, c in pairs)
        out[f"{name}_runs"] = pairs
    return out


def pin(cpu: int | None) -> str:
    """Pin this process to one CPU (the last one it may use, unless told); say which."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this system)"
    allowed = sorted(os.sched_getaffinity(0))
    cpu = allowed[-1] if cpu is None else cpu
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu} (of {len(allowed)} this process may use)"


def load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} CPUs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=5.0, help="corpus size to build (default 5)")
    ap.add_argument("--segments", default=str(ROOT / layout.table("segments")))
    ap.add_argument("--raw", default=str(ROOT / "data/raw"))
    ap.add_argument("--codebook", default=str(ROOT / "config/codebook.yaml"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the last)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    ap.add_argument("--no-plain", action="store_true",
                    help="skip the plain alternation scan (slow: well under 1 MB/s)")
    args = ap.parse_args()

    pinned = "not pinned (--no-pin)" if args.no_pin else pin(args.cpu)
    load_before = load()
    t0 = time.perf_counter()
    codebook = load_codebook(args.codebook)
    compile_s = time.perf_counter() - t0
    text, rows = synthetic_corpus(records(read_table(args.segments, "segments")), Path(args.raw), int(args.mb * 1e6))
    raw = {"synthetic": text}

    m = measure(rows, raw, codebook, runs=args.runs, plain=not args.no_plain)
    codings, facets = code_segments(rows, raw, codebook)
    mb = m["mb"]

    def rate(name: str) -> str:
        wall, cpu = m[f"{name}_s"], m[f"{name}_cpu_s"]
        return (f"median {wall:.2f} s wall = {mb / wall:.2f} MB/s, "
                f"{cpu:.2f} s CPU = {mb / cpu:.2f} MB/s")

    print(f"python {platform.python_version()}, {pinned}, single process")
    print(f"load before: {load_before}")
    print(f"codebook: {len(codebook.matcher.terms)} terms, {len(codebook.rule_ids())} rules, "
          f"compiled in {compile_s * 1000:.0f} ms")
    print(f"corpus: {mb:.2f} MB, {len(rows)} segments; {len(codings)} codings, "
          f"{len(facets)} facet rows; {args.runs} runs each")
    print(f"code_segments:                {rate('code')}")
    if not args.no_plain:
        print(f"plain single-pass regex scan: {rate('plain')}")
        print(f"ratio code_segments / plain scan: {m['code_s'] / m['plain_s']:.3f}x the time "
              f"(wall), {m['code_cpu_s'] / m['plain_cpu_s']:.3f}x (CPU): code_segments runs "
              f"{m['plain_cpu_s'] / m['code_cpu_s']:.1f}x faster than the plain scan")
    print(f"engine's own single pass:     {rate('trie')}; code_segments takes "
          f"{m['code_cpu_s'] / m['trie_cpu_s']:.1f}x its CPU time")
    print("runs (wall s, CPU s): " + "; ".join(
        f"{name} " + ", ".join(f"{w:.2f}/{c:.2f}" for w, c in m[f"{name}_runs"])
        for name in ("code", "plain", "trie") if f"{name}_runs" in m))
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
