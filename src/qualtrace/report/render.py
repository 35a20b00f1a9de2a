"""Render reports/summary.qmd: Quarto where a `quarto` binary exists, pandoc + Typst otherwise.

Both paths render the same file. The pandoc path uses the pandoc binary shipped in the
`pypandoc-binary` wheel (HTML: standalone, every resource embedded, no scripts) and the `typst`
wheel for PDF (pandoc writes Typst, which the wheel compiles with its bundled fonts only, so the
PDF does not depend on the machine's fonts). Nothing is fetched from the network.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..io import atomic_write_bytes

ENGINES = ("auto", "quarto", "pandoc")


class RenderError(RuntimeError):
    pass


@dataclass(frozen=True)
class Engine:
    name: str                                   # "quarto" or "pandoc"
    versions: dict = field(default_factory=dict)  # tool -> version, as reported in the report

    def describe(self) -> str:
        if self.name == "quarto":
            return (f"Rendered with Quarto {self.versions.get('quarto', '?')} from "
                    "reports/summary.qmd.")
        return (f"Rendered from reports/summary.qmd with pandoc "
                f"{self.versions.get('pandoc', '?')} (pypandoc-binary "
                f"{self.versions.get('pypandoc-binary', '?')}) to HTML, and to PDF through "
                f"Typst (typst Python package {self.versions.get('typst', '?')}).")


def resolve(requested: str = "auto") -> Engine:
    """The engine that `requested` (config render.engine) means on this machine."""
    if requested not in ENGINES:
        raise RenderError(f"render.engine must be one of {', '.join(ENGINES)}, not "
                          f"{requested!r}")
    quarto = shutil.which("quarto")
    if requested == "quarto" and not quarto:
        raise RenderError("render.engine is 'quarto' but no `quarto` binary is on PATH; "
                          "install Quarto or set render.engine to 'auto' or 'pandoc'")
    if quarto and requested in ("auto", "quarto"):
        out = subprocess.run([quarto, "--version"], capture_output=True, text=True, check=True)
        return Engine("quarto", {"quarto": out.stdout.strip()})
    return Engine("pandoc", pandoc_versions())


def pandoc_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        import pypandoc
        import typst
    except ImportError as err:
        raise RenderError(f"rendering without Quarto needs the pypandoc-binary and typst "
                          f"packages ({err}); pip install -r requirements.lock") from None
    versions = {"pandoc": pypandoc.get_pandoc_version()}
    for dist in ("pypandoc-binary", "typst"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = getattr(typst, "__version__", "?") if dist == "typst" else "?"
    return versions


def render(qmd: str | Path, engine: Engine, html: str | None = None,
           pdf: str | None = None) -> None:
    qmd = Path(qmd).resolve()
    if engine.name == "quarto":
        for fmt, target in (("html", html), ("typst", pdf)):
            if target:
                _quarto(qmd, fmt, Path(target))
        return
    # Pandoc reads the Markdown once (to its JSON AST, the slow step); the HTML and the Typst
    # writers then run side by side.
    ast = qmd.parent / f".{qmd.stem}.render.json"
    try:
        ast.write_bytes(_pandoc(qmd, "markdown", "--to", "json"))
        with ThreadPoolExecutor(max_workers=2) as pool:
            jobs = []
            if html:
                jobs.append(pool.submit(lambda: atomic_write_bytes(html, pandoc_html(ast))))
            if pdf:
                jobs.append(pool.submit(lambda: atomic_write_bytes(pdf, pandoc_pdf(ast))))
            for job in jobs:
                job.result()
    finally:
        ast.unlink(missing_ok=True)


def _pandoc(source: Path, reader: str, *args: str) -> bytes:
    """Run pandoc on `source` from its folder (so figure paths resolve); return stdout."""
    import pypandoc

    cmd = [pypandoc.get_pandoc_path(), source.name, "--from", reader, "--standalone",
           "--toc", "--toc-depth=2", *args]
    result = subprocess.run(cmd, cwd=source.parent, capture_output=True)
    if result.returncode != 0:
        raise RenderError(f"pandoc failed on {source}:\n"
                          f"{result.stderr.decode('utf-8', 'replace').strip()}")
    return result.stdout


def pandoc_html(source: Path, reader: str = "json") -> bytes:
    """Self-contained HTML: figures and styles embedded, no scripts, no external requests."""
    return _pandoc(source, reader, "--to", "html5", "--embed-resources", "--resource-path", ".")


def pandoc_pdf(source: Path, reader: str = "json") -> bytes:
    """PDF through Typst; dated only when SOURCE_DATE_EPOCH says so (never by the clock)."""
    import typst

    # The .typ sits beside the source so that relative figure paths resolve the same way; its
    # name is fixed so that nothing of a random name can reach the PDF.
    typ = source.parent / f".{source.stem.lstrip('.')}.typ"
    safe = source.parent / f".{source.stem.lstrip('.')}.typst.json"
    try:
        ast = (source.read_bytes() if reader == "json"
               else _pandoc(source, reader, "--to", "json"))
        safe.write_text(json.dumps(typst_literal(json.loads(ast))), encoding="utf-8")
        typ.write_bytes(_pandoc(safe, "json", "--to", "typst"))
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
        kwargs = {"timestamp": int(epoch)} if epoch.isdigit() and int(epoch) > 0 else {}
        try:
            return typst.compile(str(typ), root=str(source.parent), ignore_system_fonts=True,
                                 **kwargs)
        except Exception as err:  # typst.TypstError carries the diagnostics
            raise RenderError(f"typst failed on the Typst made from {source.name}: {err}") \
                from None
    finally:
        typ.unlink(missing_ok=True)
        safe.unlink(missing_ok=True)


# Typst markup shorthands that pandoc's Typst writer leaves bare in text: `...` (an ellipsis)
# and `-?` (a soft hyphen). Text is data, so they are written as escaped Typst instead.
_TYPST_SHORTHAND = re.compile(r"\.\.\.|-\?")
_TYPST_ESCAPED = {"...": "\\.\\.\\.", "-?": "-\\?"}


def typst_literal(node):
    """The pandoc JSON AST with Typst shorthands in Str nodes replaced by escaped raw Typst."""
    if isinstance(node, list):
        out = []
        for item in node:
            if isinstance(item, dict) and item.get("t") == "Str" and _TYPST_SHORTHAND.search(
                    item["c"]):
                out.extend(_split_str(item["c"]))
            else:
                out.append(typst_literal(item))
        return out
    if isinstance(node, dict):
        return {key: typst_literal(value) for key, value in node.items()}
    return node


def _split_str(text: str) -> list[dict]:
    pieces, at = [], 0
    for match in _TYPST_SHORTHAND.finditer(text):
        if match.start() > at:
            pieces.append({"t": "Str", "c": text[at:match.start()]})
        pieces.append({"t": "RawInline", "c": ["typst", _TYPST_ESCAPED[match.group()]]})
        at = match.end()
    if at < len(text):
        pieces.append({"t": "Str", "c": text[at:]})
    return pieces


def _quarto(qmd: Path, fmt: str, target: Path) -> None:
    quarto = shutil.which("quarto")
    if not quarto:
        raise RenderError("no `quarto` binary on PATH")
    result = subprocess.run([quarto, "render", qmd.name, "--to", fmt], cwd=qmd.parent,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RenderError(f"quarto render --to {fmt} failed on {qmd}:\n{result.stderr}")
    produced = qmd.with_suffix(".pdf" if fmt == "typst" else ".html")
    if produced.resolve() != target.resolve():
        atomic_write_bytes(target, produced.read_bytes())
