"""Benchmark the workflow on the seeds and on synthetic corpora of 10, 100 and 1,000 documents.

    python benchmarks/run.py                       # seeds + 10/100/1000 documents, 3 repeats
    python benchmarks/run.py --sizes 10 100 --repeats 1

Per corpus and repeat, in a scratch project made like the end-to-end tests make theirs
(tests/workflow_helpers.make_project: raw data, gold, config; nothing generated), with the
report rendered by pandoc (config render.engine, `--engine`):

1. if the workflow has report rules: a clean build without them (`--omit-from`; provenance.json,
   which lists the report, goes with them);
2. a clean build of the whole workflow, `snakemake --cores 2` (what `rule all` builds): wall
   time, peak memory, and per-rule times from the rules' `benchmark:` files. A build slower than
   `--full-build-timeout` is stopped; for that corpus steps 3 and 5 then leave out the report;
3. a no-op re-run, then Snakemake's own no-op on an empty Snakefile, back to back;
4. the coding stage alone, in this process pinned to one CPU: `code_segments` over the corpus's
   segments, then the plain single-pass regex scan of benchmarks/coding_speed.py over the same
   raw bytes for the same patterns;
5. an incremental re-run after appending a paragraph to one document (which ingestion jobs ran,
   and did they read that document), then after editing the codebook (a comment line: a new
   mtime, nothing else; did ingestion stay untouched).

Peak memory is the largest sum of resident set sizes over the whole process tree (Snakemake and
every job it started), polled every 50 ms with psutil: an upper bound (shared pages count once
per process), and a job shorter than 50 ms can be missed (none of those is large). cgroup
counters are not used: on a shared machine they include other work.

Writes benchmarks/results/benchmark.csv (every measurement, long format), benchmarks/results/
benchmark.svg (plot) and logs/, and benchmarks/RESULTS.md (medians, the targets, pass/fail).
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
SNAKEFILE = ROOT / "Snakefile"
for path in (ROOT / "src", ROOT / "tests", BENCH):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import psutil  # noqa: E402

from qualtrace import layout  # noqa: E402

RESULTS = ROOT / layout.BENCHMARKS

import synth  # noqa: E402

JOB = re.compile(r"^(?:local)?rule (\w+):\n((?:    \w+: .*\n?)*)", re.MULTILINE)
INGESTION = re.compile(r"^segment_(?!s)")  # segment_document, segment_batch: not segments_table
GENERATED = (layout.INTERIM, layout.PROCESSED, layout.LOGS, layout.BENCHMARKS, ".snakemake",
             layout.CRATE)
# Targets of the issue (seconds, MB, ratios).
TARGET_SEEDS_BUILD_S = 15
TARGET_SEEDS_BUILD_REPORT_S = 6   # issue 17: the concise report, pandoc path
TARGET_QUARTO_RATIO = 2           # issue 17: Quarto render time vs pandoc's
TARGET_NOOP_RATIO = 1.5
TARGET_1000_BUILD_S = 180
TARGET_1000_BUILD_ISSUE14_S = 60  # issue 14: the 1,000-document clean build
TARGET_1000_PEAK_MB = 2000
TARGET_SCALING = 12
# Issue 14: one pure-Python coding engine (no C module) at >= 4 MB/s on one core.
TARGET_CODING_MBS = 4


# ---------------------------------------------------------------- running snakemake
class TreeMemory:
    """Poll the summed RSS of a process and all its descendants; keep the maximum."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            total = 0
            try:
                procs = [self.root] + self.root.children(recursive=True)
            except psutil.Error:
                break
            for proc in procs:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


class TimedOut(Exception):
    pass


def snakemake(work: Path, *args: str, snakefile: Path = SNAKEFILE, cores: int = 2,
              log: Path | None = None, timeout: float | None = None) -> dict:
    """Run Snakemake in `work`; return wall seconds, peak tree RSS (MB), jobs run, output.

    On `timeout` the whole process tree is killed and TimedOut raised."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(snakefile), "--directory", str(work),
           "--cores", str(cores), *args]
    # Jobs import qualtrace from this checkout, whatever else is installed.
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=path)
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    memory = TreeMemory(proc.pid)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        memory.stop()
        if log:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(" ".join(cmd) + "\n\n" + out + "\n(timed out)\n", encoding="utf-8")
        raise TimedOut(f"{' '.join(args) or 'build'} did not finish in {timeout:.0f} s")
    seconds = time.perf_counter() - start
    after = os.times()
    # CPU seconds of Snakemake and every job it waited for (on a shared machine wall time
    # includes waiting for other people's work; CPU time does not)
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    peak = memory.stop()
    if log:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(" ".join(cmd) + "\n\n" + out, encoding="utf-8")
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake failed in {work} ({' '.join(args)}):\n{out[-4000:]}")
    jobs = [(rule, dict(line.strip().split(": ", 1) for line in body.splitlines()
                        if ": " in line)) for rule, body in JOB.findall(out)]
    return {"seconds": seconds, "cpu": cpu, "peak_mb": peak / 1e6, "jobs": Counter(r for r, _ in jobs),
            "job_details": jobs, "output": out}


def list_rules(work: Path) -> list[str]:
    out = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory",
                          str(work), "--list-rules"], cwd=work, capture_output=True, text=True,
                         check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def clean(work: Path) -> None:
    from workflow_helpers import remove_generated

    remove_generated(work, GENERATED)
    reports = work / layout.REPORTS
    if reports.is_dir():  # generated, but keep what the project commits there
        for path in reports.iterdir():
            if path.name in ("summary.qmd", "_quarto.yml") and (ROOT / layout.REPORTS / path.name).is_file():
                continue
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def rule_times(work: Path) -> dict[str, dict]:
    """Per rule: jobs, summed and largest wall seconds, largest max_rss (MB) from benchmark:."""
    times: dict[str, dict] = {}
    base = work / layout.BENCHMARKS / "rules"
    for tsv in sorted(base.rglob("*.tsv")):
        rel = tsv.relative_to(base)
        rule = rel.parts[0] if len(rel.parts) > 1 else tsv.stem
        with open(tsv, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        if not rows:
            continue
        entry = times.setdefault(rule, {"jobs": 0, "s": 0.0, "max_s": 0.0, "max_rss": 0.0})
        s = float(rows[-1]["s"])
        rss = rows[-1].get("max_rss", "-")
        entry["jobs"] += 1
        entry["s"] += s
        entry["max_s"] = max(entry["max_s"], s)
        entry["max_rss"] = max(entry["max_rss"], float(rss) if rss not in ("-", "NA", "") else 0)
    return times


# ---------------------------------------------------------------- corpora
def make_corpus(name: str, n_docs: int | None, base: Path, seed: int, engine: str) -> Path:
    """A scratch project: the seeds (with their gold) or n synthetic documents (no gold)."""
    from workflow_helpers import make_project

    root = base / name
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    if n_docs is None:
        work = make_project(root, ROOT)
    else:
        fixture = root / "fixture"
        synth.generate(fixture / "data" / "raw", n_docs, seed=seed)
        work = make_project(root, fixture)
        shutil.rmtree(fixture)
    config = work / "config" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"(?m)^(\s*engine:\s*)\S+", rf"\g<1>{engine}", text, count=1),
                      encoding="utf-8")
    return work


def corpus_stats(work: Path) -> dict:
    from qualtrace.common.tables import read_table, records

    raw = sorted((work / "data" / "raw").glob("*"))
    segments = records(read_table(work / layout.table("segments")))
    content = [s for s in segments if s["kind"] in ("key_point", "paragraph", "quote",
                                                    "list_item")]
    return {
        "n_docs": len(raw),
        "mb": sum(p.stat().st_size for p in raw) / 1e6,
        "n_segments": len(segments),
        "boilerplate_fraction": sum(s["boilerplate"] for s in segments)
        / max(len(segments), 1),
        "content_boilerplate_fraction": sum(s["boilerplate"] for s in content)
        / max(len(content), 1),
        "n_codings": max(sum(1 for _ in open(work / layout.table("codings"),
                                             encoding="utf-8")) - 1, 0),
    }


def coding_speed(work: Path) -> dict:
    """code_segments vs a plain scan of the same bytes, in this process pinned to one CPU, back
    to back (benchmarks/coding_speed.py's measure and pin)."""
    from coding_speed import measure, pin
    from qualtrace.coding.codebook import load_codebook
    from qualtrace.common.io import read_raw
    from qualtrace.common.tables import read_table, records

    codebook = load_codebook(work / "config" / "codebook.yaml")
    documents = records(read_table(work / layout.table("documents")))
    raw = {d["doc_id"]: read_raw(work / d["path"]) for d in documents}
    segments = records(read_table(work / layout.table("segments")))
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    pinned = pin(None)
    try:
        result = measure(segments, raw, codebook, runs=1)  # once per repeat; medians over repeats
    finally:
        if affinity is not None:
            os.sched_setaffinity(0, affinity)
    result["pinned"] = pinned
    return result


# ---------------------------------------------------------------- one repeat on one corpus
def edit_document(work: Path, repeat: int) -> tuple[Path, bytes]:
    docs = sorted((work / "data" / "raw").glob("*.txt"))
    doc = docs[len(docs) // 2]
    original = doc.read_bytes()
    newline = b"\r\n" if b"\r\n" in original else b"\n"
    addition = (f"One more finding was added to this chapter for benchmark repeat {repeat}, and "
                "staff said that support for clients had improved.").encode("utf-8")
    doc.write_bytes(original.rstrip() + newline + newline + addition + newline)
    return doc, original


def run_repeat(case: str, work: Path, repeat: int, report_rules: list[str], logs: Path,
               empty: Path, rows: list, args, state: dict) -> None:
    """One repeat on one corpus; `state` carries 'full_timed_out' across repeats of a case."""
    def record(measure, value, unit="s", detail=""):
        rows.append({"case": case, "repeat": repeat, "measure": measure,
                     "value": round(value, 4) if isinstance(value, float) else value,
                     "unit": unit, "detail": detail})
        shown = f"{value:.3f}" if isinstance(value, float) else value
        print(f"  [{case} #{repeat}] {measure} = {shown} {unit} {detail}", flush=True)

    def record_rules(suffix=""):
        for rule, t in sorted(rule_times(work).items()):
            record(f"rule:{rule}{suffix}", t["s"], detail=f"{t['jobs']} jobs, max {t['max_s']:.2f}"
                   f" s, max_rss {t['max_rss']:.0f} MB")

    tag, cores = f"{case}-{repeat}", args.cores
    omit = ["--omit-from", *report_rules] if report_rules else []
    record("load_average_1min", os.getloadavg()[0], "", "other processes on the machine")
    if report_rules:  # 1. the workflow without the report (and provenance, which lists it)
        clean(work)
        run = snakemake(work, *omit, cores=cores, log=logs / f"{tag}-build-no-report.log")
        record("clean_build_no_report", run["seconds"],
               detail=f"{sum(run['jobs'].values())} jobs, --omit-from {' '.join(report_rules)}")
        record("peak_rss_no_report", run["peak_mb"], "MB")
        if state.get("full_timed_out"):
            record_rules()
    full = not state.get("full_timed_out")
    if full:  # 2. the whole workflow, what `snakemake --cores 2` builds
        clean(work)
        try:
            run = snakemake(work, cores=cores, log=logs / f"{tag}-build.log",
                            timeout=args.full_build_timeout)
        except TimedOut as err:
            state["full_timed_out"] = True
            full = False
            record("clean_build_timed_out", float(args.full_build_timeout), "s", str(err))
            clean(work)
            snakemake(work, *omit, cores=cores, log=logs / f"{tag}-build-no-report.log")
            record_rules()
        else:
            record("clean_build", run["seconds"], detail=f"{sum(run['jobs'].values())} jobs")
            record("clean_build_cpu", run["cpu"], detail="Snakemake and its jobs, user+system")
            record("peak_rss", run["peak_mb"], "MB")
            record("jobs", sum(run["jobs"].values()), "jobs")
            record_rules()
            for engine, seconds, cpu in render_times(work, args.quarto):
                record(f"render_{engine}", seconds, detail="summary and evidence, HTML and "
                       f"PDF, on a copy of {layout.REPORTS}/")
                record(f"render_{engine}_cpu", cpu, detail="the render and its children")
    if repeat == 1:
        for key, value in corpus_stats(work).items():
            record(key, float(value) if isinstance(value, float) else value,
                   "" if key.startswith("n_") else ("MB" if key == "mb" else "fraction"))
    targets = [] if full else omit
    scope = "whole workflow" if full else "without the report"

    # No-op, then Snakemake's own no-op on an empty Snakefile, back to back.
    noop = snakemake(work, *targets, cores=cores, log=logs / f"{tag}-noop.log")
    if sum(noop["jobs"].values()):
        raise RuntimeError(f"{case}: the re-run was not a no-op: {noop['jobs']}")
    base = snakemake(empty, snakefile=empty / "Snakefile", cores=cores,
                     log=logs / f"{tag}-empty.log")
    record("noop", noop["seconds"], detail=scope)
    record("empty_snakefile_noop", base["seconds"])
    record("noop_ratio", noop["seconds"] / base["seconds"], "x")

    if not args.no_coding_speed:
        speed = coding_speed(work)
        mb = speed["mb"]
        record("coding_mb_per_s", mb / speed["code_s"], "MB/s",
               f"wall; code_segments {speed['code_s']:.2f} s over {mb:.2f} MB, {speed['pinned']}")
        if "code_cpu_s" in speed:
            record("coding_cpu_mb_per_s", mb / speed["code_cpu_s"], "MB/s", "CPU time")
        record("plain_scan_mb_per_s", mb / speed["plain_s"], "MB/s", "wall")
        record("coding_vs_plain_scan", speed["code_s"] / speed["plain_s"], "x", "wall")
        if "trie_s" in speed:
            record("coding_vs_engine_single_pass", speed["code_s"] / speed["trie_s"], "x",
                   "code_segments / the engine's own single pass (its trie regex), wall")
        rule_s = rule_times(work).get("theme_codings", {}).get("s")
        if rule_s:  # the whole job: codebook load, CSV read and write, coding
            record("theme_codings_job_mb_per_s", speed["mb"] / rule_s, "MB/s",
                   "from the job's benchmark: file (includes start-up, codebook load, I/O)")

    doc, original = edit_document(work, repeat)
    rel = str(doc.relative_to(work))
    codebook = work / "config" / "codebook.yaml"
    codebook_original = codebook.read_bytes()
    try:
        # Edit one document: one ingestion job (the one reading it), the gather, what follows.
        run = snakemake(work, *targets, cores=cores, log=logs / f"{tag}-edit-doc.log")
        ingested = [d for rule, d in run["job_details"] if INGESTION.match(rule)]
        only_it = len(ingested) == 1 and rel in ingested[0].get("input", "").split(", ")
        n_docs_reparsed = len(ingested[0].get("input", "").split(", ")) if ingested else 0
        record("edit_document", run["seconds"], detail=f"{scope}: {_jobs(run['jobs'])}")
        record("edit_document_only_its_jobs", int(only_it), "bool",
               f"{len(ingested)} ingestion job(s), re-reading {n_docs_reparsed} document(s)")
        # Edit the codebook: coding and what follows, never ingestion.
        codebook.write_bytes(codebook_original + f"# benchmark edit {repeat}\n".encode())
        run = snakemake(work, *targets, cores=cores, log=logs / f"{tag}-edit-codebook.log")
        ingestion = [r for r in run["jobs"] if INGESTION.match(r) or r == "segments_table"]
        record("edit_codebook", run["seconds"], detail=f"{scope}: {_jobs(run['jobs'])}")
        record("edit_codebook_no_ingestion",
               int(not ingestion and "theme_codings" in run["jobs"]), "bool")
    finally:
        doc.write_bytes(original)
        codebook.write_bytes(codebook_original)


def render_times(work: Path, quarto: str | None):
    """(engine, wall s, CPU s of the render and its children) for rendering the report's two
    documents from a copy of the build's reports/, with pandoc and, if given, with Quarto."""
    engines = [("pandoc", None)] + ([("quarto", Path(quarto))] if quarto else [])
    out = []
    for engine, launcher in engines:
        copy = work.parent / f"render-{engine}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(work / layout.REPORTS, copy / layout.REPORTS)
        env = dict(os.environ)
        if launcher:
            env["PATH"] = f"{launcher.parent}{os.pathsep}{env['PATH']}"
        before = os.times()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qualtrace", "report", "render",
                        *(layout.report_file(doc, "qmd") for doc in layout.REPORT_DOCUMENTS),
                        "--engine", engine],
                       cwd=copy, env=env, check=True, capture_output=True)
        wall = time.perf_counter() - start
        after = os.times()
        cpu = (after.children_user - before.children_user
               + after.children_system - before.children_system)
        out.append((engine, wall, cpu))
        shutil.rmtree(copy, ignore_errors=True)
    return out


def _jobs(jobs: Counter) -> str:
    return ", ".join(f"{rule} x{n}" if n > 1 else rule for rule, n in sorted(jobs.items()))


# ---------------------------------------------------------------- summary
def medians(rows: list[dict]) -> dict[tuple[str, str], float]:
    values = defaultdict(list)
    for row in rows:
        if isinstance(row["value"], (int, float)):
            values[(row["case"], row["measure"])].append(float(row["value"]))
    return {key: statistics.median(v) for key, v in values.items()}


def case_order(rows):
    return list(dict.fromkeys(row["case"] for row in rows if row["case"]))


def _fmt(v, spec="{:.1f}", missing="n/a"):
    return missing if v is None else spec.format(v)


def _build(med, case):
    """The clean build time to judge: the whole workflow, or without the report if it timed out."""
    whole = med.get((case, "clean_build"))
    if whole is not None:
        return whole, "whole workflow"
    return med.get((case, "clean_build_no_report")), "without the report"


def targets(med: dict, cases: list[str], report: bool) -> list[tuple[str, str, str]]:
    """(target, measured, pass/fail) for every target of the issue that this run can judge."""
    out = []

    def get(case, measure):
        return med.get((case, measure))

    if "seeds" in cases:
        v = get("seeds", "clean_build")
        out.append(("seeds: clean build, whole `rule all` (pandoc engine) < 15 s",
                    _fmt(v, "{:.1f} s"), _ok(v is not None and v < TARGET_SEEDS_BUILD_S)))
        cpu = get("seeds", "clean_build_cpu")
        out.append(("seeds: clean build, whole `rule all` (pandoc engine) <= 6 s (issue 17)",
                    _fmt(v, "{:.1f} s") + (f" (CPU {cpu:.1f} s, {cpu / 2:.1f} s on 2 idle cores "
                                           "at best)" if cpu is not None else ""),
                    _ok(v is not None and v <= TARGET_SEEDS_BUILD_REPORT_S)))
    for case in cases:
        pandoc, quarto = get(case, "render_pandoc"), get(case, "render_quarto")
        if pandoc is not None and quarto is not None:
            p_cpu, q_cpu = get(case, "render_pandoc_cpu"), get(case, "render_quarto_cpu")
            cpu = (f"; CPU {q_cpu:.1f} s / {p_cpu:.1f} s = {q_cpu / p_cpu:.1f}x"
                   if p_cpu and q_cpu is not None else "")
            out.append((f"{case}: Quarto render of the report within 2x of pandoc's",
                        f"wall {quarto:.1f} s / {pandoc:.1f} s = {quarto / pandoc:.1f}x{cpu}",
                        _ok(quarto <= TARGET_QUARTO_RATIO * pandoc)))
    for case in cases:  # (the issue sets this target on the seeds; larger corpora are reported)
        v = get(case, "noop_ratio")
        measured = (f"{_fmt(get(case, 'noop'), '{:.2f}')} s / "
                    f"{_fmt(get(case, 'empty_snakefile_noop'), '{:.2f}')} s = "
                    f"{_fmt(v, '{:.2f}')}x")
        if case == "seeds":
            out.append(("seeds: no-op re-run <= 1.5x Snakemake's no-op on an empty Snakefile",
                        measured, _ok(v is not None and v <= TARGET_NOOP_RATIO)))
        else:
            out.append((f"{case}: no-op re-run vs Snakemake's no-op on an empty Snakefile "
                        "(reported: the target is on the seeds)", measured,
                        "within 1.5x" if v is not None and v <= TARGET_NOOP_RATIO
                        else "over 1.5x"))
    for case in cases:
        v = get(case, "edit_document_only_its_jobs")
        out.append((f"{case}: editing one document re-runs only its ingestion job and what "
                    "follows the gather", f"{_fmt(get(case, 'edit_document'))} s", _ok(v == 1)))
        v = get(case, "edit_codebook_no_ingestion")
        out.append((f"{case}: editing the codebook re-runs coding and after, not ingestion",
                    f"{_fmt(get(case, 'edit_codebook'))} s", _ok(v == 1)))
    big = str(max(int(c) for c in cases if c.isdigit())) if any(c.isdigit() for c in cases) \
        else None
    if big == "1000":
        whole = get("1000", "clean_build")
        timed_out = get("1000", "clean_build_timed_out")
        out.append(("1000 docs: clean build, whole workflow < 3 min",
                    _fmt(whole, "{:.1f} s") if whole is not None else
                    f"did not finish in {_fmt(timed_out, '{:.0f}')} s",
                    _ok(whole is not None and whole < TARGET_1000_BUILD_S)))
        out.append(("1000 docs: clean build, whole workflow < 60 s (issue 14)",
                    _fmt(whole, "{:.1f} s") + f" (CPU {_fmt(get('1000', 'clean_build_cpu'))} s)"
                    if whole is not None else "did not finish",
                    _ok(whole is not None and whole < TARGET_1000_BUILD_ISSUE14_S)))
        if report:
            v = get("1000", "clean_build_no_report")
            out.append(("1000 docs: clean build without the report < 3 min",
                        f"{_fmt(v, '{:.1f} s')} ({_fmt(get('1000', 'mb'))} MB)",
                        _ok(v is not None and v < TARGET_1000_BUILD_S)))
        for measure, label in (("peak_rss", "whole workflow"),
                               ("peak_rss_no_report", "without the report")):
            v = get("1000", measure)
            if v is not None:
                out.append((f"1000 docs: peak memory of the process tree < 2 GB ({label})",
                            f"{v:.0f} MB", _ok(v < TARGET_1000_PEAK_MB)))
        if "100" in cases:
            for measure, label in (("clean_build", "whole workflow"),
                                   ("clean_build_no_report", "without the report")):
                a, b = get("1000", measure), get("100", measure)
                if a is not None and b is not None:
                    out.append((f"time(1000) / time(100) <= 12 ({label})", f"{a / b:.1f}",
                                _ok(a / b <= TARGET_SCALING)))
    for case in cases:
        wall, cpu = get(case, "coding_mb_per_s"), get(case, "coding_cpu_mb_per_s")
        if wall is None or (get(case, "mb") or 0) < 1:
            continue  # a throughput needs a corpus that takes more than the fixed costs
        judged = cpu if cpu is not None else wall
        goal = f"{case}: coding stage alone >= {TARGET_CODING_MBS} MB/s"
        out.append((f"{goal} on one core (pinned; judged on CPU time)" if cpu is not None
                    else goal,
                    f"{_fmt(cpu)} MB/s CPU, {wall:.1f} MB/s wall; "
                    f"{get(case, 'coding_vs_plain_scan'):.2f}x the time of a plain single-pass "
                    f"regex scan ({get(case, 'plain_scan_mb_per_s'):.2f} MB/s)",
                    _ok(judged >= TARGET_CODING_MBS)))
    return out


def _ok(flag: bool) -> str:
    return "pass" if flag else "**FAIL**"


def results_table(med: dict, cases: list[str], report: bool) -> str:
    columns = [("documents", "n_docs", "{:.0f}"), ("MB", "mb", "{:.2f}"),
               ("segments", "n_segments", "{:.0f}"), ("jobs", "jobs", "{:.0f}"),
               ("clean build (s)", "clean_build", "{:.1f}"),
               ("clean build CPU (s)", "clean_build_cpu", "{:.1f}")]
    if report:
        columns.append(("without report (s)", "clean_build_no_report", "{:.1f}"))
        columns += [("render, pandoc (s)", "render_pandoc", "{:.1f}"),
                    ("render, pandoc CPU (s)", "render_pandoc_cpu", "{:.1f}"),
                    ("render, Quarto (s)", "render_quarto", "{:.1f}"),
                    ("render, Quarto CPU (s)", "render_quarto_cpu", "{:.1f}")]
    columns += [("peak memory (MB)", "peak_rss", "{:.0f}")]
    if report:
        columns.append(("peak without report (MB)", "peak_rss_no_report", "{:.0f}"))
    columns += [("no-op (s)", "noop", "{:.2f}"),
                ("empty-Snakefile no-op (s)", "empty_snakefile_noop", "{:.2f}"),
                ("no-op ratio", "noop_ratio", "{:.2f}"),
                ("edit 1 document (s)", "edit_document", "{:.1f}"),
                ("edit codebook (s)", "edit_codebook", "{:.1f}"),
                ("coding (MB/s, 1 core, wall)", "coding_mb_per_s", "{:.1f}"),
                ("coding (MB/s, CPU)", "coding_cpu_mb_per_s", "{:.1f}"),
                ("coding / plain scan", "coding_vs_plain_scan", "{:.2f}x"),
                ("boilerplate segments", "boilerplate_fraction", "{:.1%}"),
                ("boilerplate content units", "content_boilerplate_fraction", "{:.1%}")]
    lines = ["| corpus | " + " | ".join(c[0] for c in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for case in cases:
        cells = []
        for _, key, fmt in columns:
            v = med.get((case, key))
            if v is None and key == "clean_build" and (case, "clean_build_timed_out") in med:
                cells.append(f"> {med[(case, 'clean_build_timed_out')]:.0f} (stopped)")
            else:
                cells.append("" if v is None else fmt.format(v))
        lines.append(f"| {case} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rule_table(med: dict, cases: list[str]) -> str:
    rules = sorted({m[5:] for (_, m) in med if m.startswith("rule:")},
                   key=lambda r: -max(med.get((c, f"rule:{r}"), 0) for c in cases))
    lines = ["| rule | " + " | ".join(cases) + " |", "|---|" + "---:|" * len(cases)]
    for rule in rules:
        cells = [f"{med[(c, f'rule:{rule}')]:.1f}" if (c, f"rule:{rule}") in med else ""
                 for c in cases]
        lines.append(f"| `{rule}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(med: dict, cases: list[str], path: Path, rows: list[dict] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    without_report = {(r["case"], r["measure"]) for r in rows or ()
                      if str(r.get("detail", "")).startswith("without the report")}
    sized = [c for c in cases if c.isdigit()]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [1, 1.25]})
    if sized:
        xs = [int(c) for c in sized]
        for measure, label in (("clean_build", "clean build"),
                               ("clean_build_no_report", "clean build without report"),
                               ("edit_document", "edit one document"),
                               ("edit_codebook", "edit the codebook"), ("noop", "no-op re-run"),
                               ("empty_snakefile_noop", "empty Snakefile no-op")):
            pts = [(x, med[(c, measure)], (c, measure) in without_report)
                   for x, c in zip(xs, sized) if (c, measure) in med]
            if not pts:
                continue
            line, = left.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
            hollow = [p for p in pts if p[2]]
            if hollow:
                left.plot([p[0] for p in hollow], [p[1] for p in hollow], ls="", marker="o",
                          mfc="white", color=line.get_color())
        stopped = [(x, med[(c, "clean_build_timed_out")]) for x, c in zip(xs, sized)
                   if (c, "clean_build_timed_out") in med]
        if stopped:
            left.plot(*zip(*stopped), ls="", marker="x", ms=9, color="C0",
                      label="clean build stopped (time limit)")
        ref = next((med[(sized[0], m)] for m in ("clean_build_no_report", "clean_build")
                    if (sized[0], m) in med), None)
        if ref:
            left.plot(xs, [ref * x / xs[0] for x in xs], ls=":", color="grey",
                      label="linear from the smallest")
        left.axhline(TARGET_1000_BUILD_S, color="red", lw=0.8, ls="--", label="3 min target")
        left.set_xscale("log")
        left.set_yscale("log")
        left.set_xlabel("documents (hollow marker: measured without the report)")
        left.set_ylabel("wall time (s), median")
        left.set_title(f"Wall time on {os.cpu_count()} cores")
        left.legend(fontsize=7)
    rules = sorted({m[5:] for (_, m) in med if m.startswith("rule:")})
    bottoms = [0.0] * len(cases)
    for i, rule in enumerate(rules):
        vals = [med.get((c, f"rule:{rule}"), 0.0) for c in cases]
        right.bar(cases, vals, bottom=bottoms, label=rule, color=plt.cm.tab20(i % 20))
        bottoms = [b + v for b, v in zip(bottoms, vals)]
    right.set_yscale("symlog")
    right.set_ylabel("summed job wall time (s), median")
    right.set_title("Per-rule time (the rules' benchmark: files)")
    right.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def write_results_md(rows, med, cases, report: bool, args, started: str) -> str:
    env = (f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
           f"{psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM; "
           f"`--cores {args.cores}`; median of {args.repeats} repeat(s); run started {started}")
    loads = [r["value"] for r in rows if r["measure"] == "load_average_1min"]
    plugins = next((r["detail"] for r in rows if r["measure"] == "meta:executor_plugins"), "")
    engine = next((r["detail"] for r in rows if r["measure"] == "meta:coding_engine"), "")
    lines = [
        "# Benchmark results",
        "",
        "Made by `python benchmarks/run.py` (method in its docstring); every measurement is in "
        f"`{layout.BENCHMARKS}/benchmark.csv` and plotted in `{layout.BENCHMARKS}/benchmark.svg` "
        "(both git-ignored, regenerated by the command).",
        "",
        f"Machine: {env}. 1-minute load average before the builds: "
        f"{min(loads):.1f} to {max(loads):.1f} (other work on the machine adds noise)."
        if loads else f"Machine: {env}.",
    ]
    if plugins:
        lines += ["", f"Installed executor plugins: {plugins}. Snakemake imports every installed "
                  "plugin at start-up, so they add to both sides of the no-op comparison (the "
                  "SLURM plugin imports pandas)."]
    if engine:
        lines += ["", f"Coding engine: {engine}."]
    if args.note:
        lines += ["", args.note]
    lines += [
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
        *[f"| {t} | {m} | {ok} |" for t, m, ok in targets(med, cases, report)],
        "",
        "## Per corpus",
        "",
        results_table(med, cases, report),
        "",
        "Times are wall seconds of the whole `snakemake` command; the CPU columns are the "
        "user+system seconds of Snakemake and every job (or of the render and its pandoc, Typst "
        "or Quarto processes), which other work on a shared machine does not inflate (clean build: what "
        "`snakemake --cores 2` builds; 'without report': `--omit-from` the report rules, which "
        "also leaves out provenance.json, since it lists the report). A whole-workflow build "
        f"slower than {args.full_build_timeout:.0f} s is stopped, and for that corpus the no-op "
        "and edit runs exclude the report. Peak memory is the largest summed RSS of Snakemake and "
        "all its jobs (psutil, every 50 ms). Coding: `code_segments` over the corpus in one "
        "process pinned to one CPU, then the plain scan of `benchmarks/coding_speed.py` over the "
        "same raw bytes, back to back (one run per repeat, so a cold start like the job's). Synthetic corpora come from `benchmarks/synth.py` (seed 0); 'boilerplate "
        "content units' is the share of paragraphs, key points, quotations and list items flagged "
        "boilerplate (text repeated across documents), which are never coded.",
        "",
        "## Per rule (summed job wall time, s, from the rules' `benchmark:` files)",
        "",
        rule_table(med, cases),
        "",
    ]
    return "\n".join(lines)


README_START = "<!-- benchmark:start (written by benchmarks/run.py; do not edit) -->"
README_END = "<!-- benchmark:end -->"


def update_readme(path: Path, med, cases, report: bool, args, started: str) -> None:
    """Put the targets and per-corpus tables between the README's benchmark markers, so the
    README shows what the last run measured and nothing typed by hand."""
    text = path.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        print(f"{path}: no benchmark markers; README not updated", file=sys.stderr)
        return
    block = "\n".join([
        README_START,
        f"Measured {started} on {psutil.cpu_count()} CPUs, `--cores {args.cores}`, median of "
        f"{args.repeats} repeat(s); details, per-rule times and method in "
        "[`benchmarks/RESULTS.md`](benchmarks/RESULTS.md).",
        "",
        "| target | measured | |",
        "|---|---|---|",
        *[f"| {t} | {m} | {ok} |" for t, m, ok in targets(med, cases, report)],
        "",
        results_table(med, cases, report),
        README_END])
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    path.write_text(head + block + tail, encoding="utf-8")


# ---------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[10, 100, 1000],
                    help="synthetic corpus sizes (documents); default 10 100 1000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="synthetic corpus seed")
    ap.add_argument("--no-seeds", action="store_true", help="skip the seed corpus")
    ap.add_argument("--engine", default="pandoc", help="render engine for the report (config)")
    ap.add_argument("--quarto", default=os.environ.get("QUALTRACE_QUARTO") or shutil.which("quarto"),
                    help="a quarto launcher: the report's render is also timed with it "
                         "(default $QUALTRACE_QUARTO or PATH's quarto)")
    ap.add_argument("--workdir", default=None,
                    help="scratch directory for the corpora (default: a new temporary one)")
    ap.add_argument("--no-coding-speed", action="store_true")
    ap.add_argument("--full-build-timeout", type=float, default=600,
                    help="seconds; a whole-workflow build slower than this is stopped and, for "
                         "that corpus, only the build without the report is measured (default "
                         "600)")
    ap.add_argument("--note", default="", help="a line added to RESULTS.md (what was measured)")
    ap.add_argument("--from-csv", metavar="CSV",
                    help="run nothing: rewrite the plot and RESULTS.md from an earlier CSV")
    ap.add_argument("--results", default=str(RESULTS), help="where the CSV, plot and logs go")
    ap.add_argument("--summary", default=str(BENCH / "RESULTS.md"),
                    help="the committed summary (default benchmarks/RESULTS.md)")
    ap.add_argument("--readme", default=str(ROOT / "README.md"),
                    help="README whose benchmark block is rewritten ('' for none)")
    args = ap.parse_args(argv)

    import tempfile

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = Path(args.results)
    if args.from_csv:
        return summarize_csv(Path(args.from_csv), results, args)
    logs = results / "logs"
    scratch = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="qt-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    empty = scratch / "empty"
    empty.mkdir(exist_ok=True)
    (empty / "Snakefile").write_text("", encoding="utf-8")

    cases = ([] if args.no_seeds else [("seeds", None)]) + [(str(n), n) for n in args.sizes]
    rows: list[dict] = []
    report_rules: list[str] | None = None
    try:
        for case, n_docs in cases:
            print(f"== {case}", flush=True)
            work = make_corpus(case, n_docs, scratch, args.seed, args.engine)
            if report_rules is None:
                report_rules = [r for r in list_rules(work)
                                if re.search(r"report|render|rulegraph", r)]
                print(f"report rules: {report_rules or 'none'}", flush=True)
            state: dict = {}
            for repeat in range(1, args.repeats + 1):
                run_repeat(case, work, repeat, report_rules, logs, empty, rows, args, state)
                write_outputs(rows, results, args, bool(report_rules), started, final=False)
            shutil.rmtree(work.parent)
    finally:
        if rows:
            write_outputs(rows, results, args, bool(report_rules), started, final=True)
        if not args.workdir:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


def summarize_csv(path: Path, results: Path, args) -> int:
    """Rewrite the plot and RESULTS.md from an earlier run's CSV (the run's settings from it)."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["repeat"] = int(row["repeat"])
        try:
            row["value"] = float(row["value"])
        except ValueError:
            pass
    meta = {row["measure"][5:]: row["detail"] for row in rows if row["measure"].startswith("meta:")}
    args.repeats = max(row["repeat"] for row in rows)
    args.cores = int(meta.get("cores", args.cores))
    args.full_build_timeout = float(meta.get("full_build_timeout", args.full_build_timeout))
    args.note = args.note or meta.get("note", "")
    report = any(row["measure"] == "clean_build_no_report" for row in rows)
    if results.resolve() != path.parent.resolve():
        results.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, results / "benchmark.csv")
    med = medians(rows)
    cases = case_order(rows)
    plot(med, cases, results / "benchmark.svg", rows)
    Path(args.summary).write_text(
        write_results_md(rows, med, cases, report, args, meta.get("started", "?")),
        encoding="utf-8")
    if args.readme:
        update_readme(Path(args.readme), med, cases, report, args, meta.get("started", "?"))
    print(f"wrote {results / 'benchmark.svg'} and {args.summary}")
    return 0


def coding_engine() -> str:
    """Which engine the coding stage ran with (recorded with the results)."""
    return "pure Python (qualtrace.coding.matcher and qualtrace.coding.engine)"


def executor_plugins() -> list[str]:
    """Installed Snakemake executor plugins: every Snakemake start imports them all."""
    from importlib import metadata

    names = sorted({d.metadata["Name"] + "==" + d.version for d in metadata.distributions()
                    if (d.metadata["Name"] or "").lower().startswith(
                        "snakemake-executor-plugin-")})
    return names


def write_outputs(rows, results: Path, args, report: bool, started: str, final: bool) -> None:
    results.mkdir(parents=True, exist_ok=True)
    if not any(row["measure"].startswith("meta:") for row in rows):
        for key, value in (("started", started), ("cores", args.cores),
                           ("full_build_timeout", args.full_build_timeout), ("note", args.note),
                           ("executor_plugins", " ".join(executor_plugins())),
                           ("coding_engine", coding_engine())):
            rows.insert(0, {"case": "", "repeat": 0, "measure": f"meta:{key}", "value": "",
                            "unit": "", "detail": str(value)})
    with open(results / "benchmark.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["case", "repeat", "measure", "value", "unit", "detail"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    if not final:
        return
    med = medians(rows)
    cases = case_order(rows)
    plot(med, cases, results / "benchmark.svg", rows)
    summary = write_results_md(rows, med, cases, report, args, started)
    Path(args.summary).write_text(summary, encoding="utf-8")
    if args.readme:
        update_readme(Path(args.readme), med, cases, report, args, started)
    print(summary)


if __name__ == "__main__":
    raise SystemExit(main())
