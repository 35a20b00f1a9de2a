"""Researcher review, measured: merge cost, review app start-up, and the time to review 100
codings as a person would (estimated from a scripted Playwright session in Debian's Chromium).

    python benchmarks/review.py --docs 1000 [--workdir DIR] [--repeats 3] [--codings 100]

1. A synthetic corpus of --docs documents (benchmarks/synth.py), coded by the workflow up to
   codings_auto.csv / facets_auto.csv (nothing after).
2. Decisions on a tenth of the automatic codings by three reviewers (accepts, rejects, some
   disagreements, adds on uncoded segments), then `qualtrace review-merge` timed as the rule
   runs it (a new process: start-up, reading, merging, writing).
3. `qualtrace review --no-browser`: time to the printed URL and to the first page served.
4. A Playwright session that reviews --codings codings the way the queue offers them (accept,
   and every fourth one reject), waiting for each "Saved" page. The person's time is estimated
   as reading the segment (200 words a minute) plus 3 s to look at the evidence and click,
   per segment, plus the app's measured latency per decision.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from qualtrace import layout  # noqa: E402
from qualtrace.common.tables import read_table, records  # noqa: E402
from qualtrace.review.decisions import append_decisions, text_sha256  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WORDS_PER_MINUTE = 200
SECONDS_PER_DECISION = 3.0


def prepare(work: Path, docs: int) -> None:
    if (work / layout.table("codings_auto")).is_file():
        return
    subprocess.run([sys.executable, str(ROOT / "benchmarks/synth.py"), str(work / "data/raw"),
                    "--docs", str(docs)], check=True)
    shutil.copytree(ROOT / "config", work / "config", dirs_exist_ok=True)
    subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"),
                    "--directory", str(work), "--cores", "2",
                    layout.table("codings_auto"), layout.table("facets_auto"),
                    "--quiet", "rules"], check=True, cwd=work)


def synthetic_decisions(work: Path) -> int:
    """Decisions on a tenth of the codings by alice, bob and carol; returns how many."""
    review = work / layout.REVIEW
    shutil.rmtree(review, ignore_errors=True)
    segments = {s["segment_id"]: s for s in records(read_table(work / layout.table("segments")))}
    codings = records(read_table(work / layout.table("codings_auto")))
    rng = random.Random(0)
    rows: dict[str, list[dict]] = {"alice": [], "bob": [], "carol": []}
    for row in rng.sample(codings, len(codings) // 10):
        reviewer = rng.choice(sorted(rows))
        word = "reject" if rng.random() < 0.25 else "accept"
        rows[reviewer].append({"segment_id": row["segment_id"], "facet": "theme",
                               "label": row["theme"], "decision": word,
                               "text_sha256": text_sha256(segments[row["segment_id"]]["text"]),
                               "reviewer": reviewer, "note": "synthetic"})
        if rng.random() < 0.05:  # a second reviewer disagrees
            other = rng.choice([r for r in rows if r != reviewer])
            rows[other].append({**rows[reviewer][-1], "reviewer": other,
                                "decision": "accept" if word == "reject" else "reject"})
    coded = {c["segment_id"] for c in codings}
    uncoded = [s for s in segments.values() if s["segment_id"] not in coded
               and s["kind"] == "paragraph" and not s["boilerplate"]]
    for seg in rng.sample(uncoded, min(len(uncoded), len(codings) // 100)):
        rows["alice"].append({"segment_id": seg["segment_id"], "facet": "theme",
                              "label": "resourcing", "decision": "add", "reviewer": "alice",
                              "text_sha256": text_sha256(seg["text"]), "note": "synthetic"})
    for reviewer, decided in rows.items():
        append_decisions(review / f"{reviewer}.csv", decided)
    return sum(len(d) for d in rows.values())


def time_merge(work: Path, repeats: int) -> list[float]:
    def table(name: str) -> str:
        return str(work / layout.table(name))

    command = [sys.executable, "-m", "qualtrace", "review-merge",
               "--codebook", "config/codebook.yaml", "--segments", table("segments"),
               "--codings-auto", table("codings_auto"), "--facets-auto", table("facets_auto"),
               "--codings", table("codings"), "--facets", table("facets"),
               "--outcomes", table("review_decisions"),
               "--decisions", *sorted(str(p) for p in work.glob(layout.REVIEW_GLOB))]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=work)
        times.append(time.perf_counter() - start)
    return times


def start_app(work: Path):
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "qualtrace", "review", "--reviewer",
                                "bench", "--no-browser", "--directory", str(work)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = process.stdout.readline().strip()
    printed = time.perf_counter() - start
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()
    served = time.perf_counter() - start
    return process, url, printed, served


def review_session(work: Path, n_codings: int) -> dict:
    from playwright.sync_api import sync_playwright

    (work / layout.review_file("bench")).unlink(missing_ok=True)
    process, url, _, _ = start_app(work)
    latencies, reading, segments_seen = [], 0.0, set()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(url + "&status=unreviewed")
            done = 0
            while done < n_codings:
                article = page.locator("article").first
                seg_id = article.get_attribute("id")
                if seg_id not in segments_seen:
                    segments_seen.add(seg_id)
                    words = len(article.locator(".text").inner_text().split())
                    reading += 60.0 * words / WORDS_PER_MINUTE
                row = article.locator("tr.coding:not(:has(.mine))").first
                word = "Reject" if done % 4 == 3 else "Accept"
                start = time.perf_counter()
                row.get_by_role("button", name=word).click()
                page.wait_for_selector("#saved")
                latencies.append(time.perf_counter() - start)
                done += 1
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    saved = list(csv.DictReader(open(work / layout.review_file("bench"), encoding="utf-8")))
    assert len(saved) == n_codings, (len(saved), n_codings)
    person = reading + SECONDS_PER_DECISION * n_codings + sum(latencies)
    return {"codings": n_codings, "segments": len(segments_seen),
            "latency_median_s": statistics.median(latencies),
            "latency_max_s": max(latencies), "app_total_s": sum(latencies),
            "reading_s": reading, "person_estimate_min": person / 60}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--workdir", help="kept between runs (default: a temporary folder)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--codings", type=int, default=100)
    args = ap.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    work = Path(args.workdir or tempfile.mkdtemp(prefix="qualtrace-review-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    prepare(work, args.docs)
    n_decisions = synthetic_decisions(work)
    merge = time_merge(work, args.repeats)
    outcomes = records(read_table(work / layout.table("review_decisions")))
    counts = {o: sum(r["outcome"] == o for r in outcomes) for o in
              ("applied", "conflict", "superseded", "stale", "unknown")}
    startups = []
    for _ in range(args.repeats):
        process, _, printed, served = start_app(work)
        process.terminate()
        process.wait(timeout=10)
        startups.append((printed, served))
    session = review_session(work, args.codings)
    n_codings = sum(1 for _ in open(work / layout.table("codings_auto"))) - 1
    result = {
        "documents": args.docs, "automatic_theme_codings": n_codings,
        "decisions": n_decisions, "outcomes": counts,
        "merge_s_median": statistics.median(merge), "merge_s_all": merge,
        "app_url_printed_s_median": statistics.median(p for p, _ in startups),
        "app_first_page_s_median": statistics.median(s for _, s in startups),
        "review_session": session,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
