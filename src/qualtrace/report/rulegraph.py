"""The workflow's rule graph: `snakemake --rulegraph` drawn with graphviz `dot`.

When `dot` is not installed the SVG is written empty and the report shows the DOT text instead
(and says so); the build does not fail for want of a drawing.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ..common.io import atomic_write_bytes, atomic_write_text
from .render import RenderError


def rulegraph_dot(snakefile: str, directory: str, configfiles: list[str] = ()) -> str:
    """DOT text of the rule graph of `snakefile` run in `directory` (no lock taken)."""
    if not Path(snakefile).is_file():
        raise RenderError(f"{snakefile}: no such Snakefile")
    cmd = [sys.executable, "-m", "snakemake", "-s", str(snakefile), "--directory",
           str(directory), "--rulegraph", "--nolock", "--quiet", "all"]
    for path in configfiles:
        cmd += ["--configfile", str(path)]
    env = dict(os.environ, PYTHONHASHSEED="0")
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        said = result.stderr.strip() or result.stdout.strip()
        raise RenderError(f"snakemake --rulegraph failed (exit {result.returncode})"
                          + (f": {said}" if said else ""))
    text = result.stdout
    start = text.find("digraph")
    if start < 0:
        raise RenderError(f"snakemake --rulegraph printed no graph:\n{text}\n{result.stderr}")
    return canonical_dot(text[start:])


_NODE = re.compile(r'^\s*(\d+)\[label = "([^"]*)"(.*)\];\s*$')
_EDGE = re.compile(r"^\s*(\d+) -> (\d+)\s*$")


def canonical_dot(dot: str) -> str:
    """The rule graph with nodes numbered by rule name and edges sorted.

    Snakemake prints edges in set order, which changes with Python's hash seed; sorting makes
    the DOT text (and graphviz's drawing of it) the same on every run.
    """
    lines = dot.strip().splitlines()
    nodes = {m.group(1): (m.group(2), m.group(3)) for m in map(_NODE.match, lines) if m}
    edges = [m.groups() for m in map(_EDGE.match, lines) if m]
    if not nodes or any(a not in nodes or b not in nodes for a, b in edges):
        return dot.rstrip() + "\n"  # not the shape we know: leave it as printed
    order = {old: str(i) for i, old in enumerate(sorted(nodes, key=lambda n: nodes[n][0]))}
    head = [line for line in lines[:-1] if not (_NODE.match(line) or _EDGE.match(line))]
    body = [f'\t{order[old]}[label = "{label}"{rest}];'
            for old, (label, rest) in sorted(nodes.items(), key=lambda kv: kv[1][0])]
    body += sorted((f"\t{order[a]} -> {order[b]}" for a, b in edges),
                   key=lambda e: tuple(int(x) for x in e.strip().split(" -> ")))
    return "\n".join(head + body + [lines[-1]]) + "\n"


def dot_to_svg(dot: str) -> bytes | None:
    """SVG from graphviz `dot`, or None when `dot` is not installed."""
    exe = shutil.which("dot")
    if not exe:
        return None
    result = subprocess.run([exe, "-Tsvg"], input=dot.encode("utf-8"), capture_output=True)
    if result.returncode != 0:
        raise RenderError(f"dot -Tsvg failed: {result.stderr.decode('utf-8', 'replace')}")
    return result.stdout


def write(snakefile: str, directory: str, dot_path: str, svg_path: str,
          configfiles: list[str] = ()) -> str:
    dot = rulegraph_dot(snakefile, directory, configfiles)
    atomic_write_text(dot_path, dot)
    svg = dot_to_svg(dot)
    atomic_write_bytes(svg_path, svg or b"")
    return "rule graph drawn with dot" if svg else "dot not found: rule graph kept as DOT text"


def read(dot_path: str | Path, svg_path: str | Path) -> tuple[str, bool]:
    """(DOT text, whether the SVG drawing exists and is non-empty)."""
    dot = Path(dot_path).read_text(encoding="utf-8") if Path(dot_path).exists() else ""
    svg = Path(svg_path)
    return dot, svg.exists() and svg.stat().st_size > 0
