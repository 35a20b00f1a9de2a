"""Render reports/summary.qmd: Quarto where a `quarto` binary exists, pandoc + Typst otherwise.

Both paths render the same file. The pandoc path uses the pandoc binary shipped in the
`pypandoc-binary` wheel (HTML: standalone, every resource embedded, no scripts) and the `typst`
wheel for PDF (pandoc writes Typst, which the wheel compiles with its bundled fonts only, so the
PDF does not depend on the machine's fonts). Nothing is fetched from the network.
"""
from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import layout
from ..common.io import InputError, atomic_write_bytes

ENGINES = ("auto", "quarto", "pandoc")


class RenderError(InputError, RuntimeError):
    pass


@dataclass(frozen=True)
class Engine:
    name: str                                   # "quarto" or "pandoc"
    versions: dict = field(default_factory=dict)  # tool -> version, as reported in the report

    def describe(self) -> str:
        if self.name == "quarto":
            return (f"Rendered with Quarto {self.versions.get('quarto', '?')} from "
                    f"{layout.report_file('summary', 'qmd')}.")
        return (f"Rendered from {layout.report_file('summary', 'qmd')} with pandoc "
                f"{self.versions.get('pandoc', '?')} (pypandoc-binary "
                f"{self.versions.get('pypandoc-binary', '?')}) to HTML, and to PDF through "
                f"Typst (typst Python package {self.versions.get('typst', '?')}).")


def missing_engine(requested: str) -> str:
    """Why `requested` cannot render here ("" if it can); cheap, so the Snakefile can refuse it
    before any job (a failed report job would delete the report it was to replace)."""
    if requested == "quarto" and not shutil.which("quarto"):
        return ("render.engine is 'quarto' but no `quarto` binary is on PATH; install Quarto or "
                "set render.engine to 'auto' or 'pandoc'")
    return ""


def resolve(requested: str = "auto") -> Engine:
    """The engine that `requested` (config render.engine) means on this machine."""
    if requested not in ENGINES:
        raise RenderError(f"render.engine must be one of {', '.join(ENGINES)}, not "
                          f"{requested!r}")
    problem = missing_engine(requested)
    if problem:
        raise RenderError(problem)
    quarto = shutil.which("quarto")
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
        quarto_render(qmd, html=html, pdf=pdf)
        return
    options = format_options(qmd)
    # Pandoc reads the Markdown once (to its JSON AST, the slow step); the HTML and the Typst
    # writers then run side by side.
    ast = qmd.parent / f".{qmd.stem}.render.json"
    try:
        ast.write_bytes(_pandoc(qmd, "markdown", "--to", "json"))
        with ThreadPoolExecutor(max_workers=2) as pool:
            jobs = []
            if html:
                jobs.append(pool.submit(lambda: atomic_write_bytes(
                    html, pandoc_html(ast, options=options.get("html", {})))))
            if pdf:
                jobs.append(pool.submit(lambda: atomic_write_bytes(
                    pdf, pandoc_pdf(ast, options=options.get("typst", {})))))
            for job in jobs:
                job.result()
    finally:
        ast.unlink(missing_ok=True)


def format_options(qmd: Path) -> dict[str, dict]:
    """The `format:` options of the .qmd's YAML front matter (format name -> options)."""
    import yaml

    text = Path(qmd).read_text(encoding="utf-8")
    if not text.startswith("---\n") or "\n---\n" not in text[3:]:
        return {}
    front = yaml.safe_load(text[4:text.index("\n---\n", 3)]) or {}
    formats = front.get("format") or {}
    return {name: dict(opts or {}) for name, opts in formats.items()} \
        if isinstance(formats, dict) else {}


# Options of a Quarto format that the pandoc path passes to pandoc as template variables.
_VARIABLES = ("papersize", "fontsize", "mainfont", "page-numbering")


def pandoc_options(options: dict) -> list[str]:
    """Pandoc arguments for one format's Quarto options (toc, headings, header, variables), so
    the pandoc path renders what `quarto render` does from the same front matter."""
    args = []
    if options.get("toc"):
        args += ["--toc", f"--toc-depth={int(options.get('toc-depth', 3))}"]
    if options.get("shift-heading-level-by"):
        args.append(f"--shift-heading-level-by={int(options['shift-heading-level-by'])}")
    header = (options.get("include-in-header") or {})
    if isinstance(header, dict) and header.get("text"):
        args += ["--variable", f"header-includes={header['text']}"]
    for name in _VARIABLES:
        if options.get(name) is not None:
            args += ["--variable", f"{name}={options[name]}"]
    return args


def _pandoc(source: Path, reader: str, *args: str) -> bytes:
    """Run pandoc on `source` from its folder (so figure paths resolve); return stdout."""
    import pypandoc

    cmd = [pypandoc.get_pandoc_path(), source.name, "--from", reader, "--standalone", *args]
    result = subprocess.run(cmd, cwd=source.parent, capture_output=True)
    if result.returncode != 0:
        raise RenderError(f"pandoc failed on {source}:\n"
                          f"{result.stderr.decode('utf-8', 'replace').strip()}")
    return result.stdout


def pandoc_html(source: Path, reader: str = "json", options: dict | None = None) -> bytes:
    """Self-contained HTML: figures and styles embedded, no scripts, no external requests.

    The styles are inline already (header-includes) and the only resources are the figures,
    which `embed_images` writes into the page as data URIs: pandoc's own `--embed-resources`
    re-parses and re-serialises the whole page to do the same, which cost more than writing it.
    """
    page = _pandoc(source, reader, "--to", "html5", "--wrap=none",
                   *pandoc_options(options or {}))
    return embed_images(page, source.parent)


_IMG_SRC = re.compile(rb'(<img\b[^>]*?\ssrc=")([^"]*)(")')
# Markup that would load something from outside the page. In pandoc's HTML every `<` of text is
# written `&lt;`, so each `<name ...>` is a real tag; quotes in text are not escaped, so only
# what is inside a tag is checked.
_TAG = re.compile(rb"<([A-Za-z][A-Za-z0-9-]*)([^>]*)>")
_LOADS = {b"script", b"link", b"iframe", b"frame", b"object", b"embed", b"base", b"audio",
          b"video", b"source", b"track", b"portal"}
_EXTERNAL_ATTR = re.compile(rb'\s(?:src|srcset|poster)\s*=\s*"(?!data:)|\sstyle\s*=\s*"[^"]*'
                            rb'(?:url\(\s*(?![\'"]?(?:data:|#))|@import)', re.IGNORECASE)
_STYLE = re.compile(rb"<style\b[^>]*>(.*?)</style>", re.IGNORECASE | re.DOTALL)
_URL = re.compile(rb"url\(\s*(?![\"']?(?:data:|#))|@import", re.IGNORECASE)
_MEDIA_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
                ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}


def embed_images(page: bytes, base: Path) -> bytes:
    """Every `<img src>` with a relative path replaced by the file's bytes as a data URI; then
    refuse the page if anything else in it would load from outside (it must stand alone)."""
    from html import unescape
    from urllib.parse import unquote

    def inline(match: re.Match) -> bytes:
        src = match.group(2).decode("utf-8")
        if src.startswith("data:"):
            return match.group(0)
        path = Path(unquote(unescape(src)))
        kind = _MEDIA_TYPES.get(path.suffix.lower())
        if path.is_absolute() or ".." in path.parts or "://" in src or kind is None:
            raise RenderError(f"the report links an image that cannot be embedded: {src}")
        try:
            data = (base / path).read_bytes()
        except OSError as err:
            raise RenderError(f"cannot embed {src} in the HTML report: {err}") from None
        return (match.group(1) + f"data:{kind};base64,".encode("ascii")
                + base64.b64encode(data) + match.group(3))

    page = _IMG_SRC.sub(inline, page)
    found = next((m.group(0) for m in _TAG.finditer(page) if m.group(1).lower() in _LOADS
                  or _EXTERNAL_ATTR.search(m.group(2))), None)
    if found is None and any(_URL.search(m.group(1)) for m in _STYLE.finditer(page)):
        found = b"url() or @import in a style"
    if found is not None:
        raise RenderError("the HTML report would load a resource from outside itself: "
                          f"{found[:120].decode('utf-8', 'replace')}")
    return page


def pandoc_pdf(source: Path, reader: str = "json", options: dict | None = None) -> bytes:
    """PDF through Typst; dated only when SOURCE_DATE_EPOCH says so (never by the clock)."""
    import typst

    # The .typ sits beside the source so that relative figure paths resolve the same way; its
    # name is fixed so that nothing of a random name can reach the PDF.
    stem = source.stem.lstrip(".")
    typ = source.parent / f".{stem}.typ"
    safe = source.parent / f".{stem}.typst.json"
    try:
        ast = (source.read_bytes() if reader == "json"
               else _pandoc(source, reader, "--to", "json"))
        safe.write_bytes(typst_literal(ast))
        typ.write_bytes(_pandoc(safe, "json", "--to", "typst", *pandoc_options(options or {})))
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
# and `-?` (a soft hyphen). Text is data, so they are written as escaped Typst instead: each Str
# node holding one is split around it into Str and raw Typst pieces. This is done on the bytes
# of pandoc's compact JSON, not on a parsed AST (or in a Lua filter), because it is the same
# rewrite at a small part of the cost: a Str node is exactly `{"t":"Str","c":"..."}` there (a
# `"` inside a JSON string is always escaped, so the pattern cannot start inside one), and JSON
# escapes never contain `.`, `-` or `?`, so splitting the escaped text splits the text.
# tests/test_report_markdown.py prints such text through Typst; tests/test_report_scale_render.py
# checks the rewrite against a walk of the parsed AST.
# A Str node whose text holds a shorthand (the text cannot run past its closing quote).
_STR_NODE = re.compile(rb'\{"t":"Str","c":"((?:[^"\\]|\\.)*?(?:\.\.\.|-\?)(?:[^"\\]|\\.)*)"\}')
_TYPST_SHORTHAND = re.compile(rb"\.\.\.|-\?")
_TYPST_ESCAPED = {b"...": rb'{"t":"RawInline","c":["typst","\\.\\.\\."]}',
                  b"-?": rb'{"t":"RawInline","c":["typst","-\\?"]}'}


def typst_literal(ast: bytes) -> bytes:
    """Pandoc JSON (bytes) with Typst shorthands in Str nodes replaced by escaped raw Typst."""
    def split(match: re.Match) -> bytes:
        text = match.group(1)
        pieces, at = [], 0
        for found in _TYPST_SHORTHAND.finditer(text):
            if found.start() > at:
                pieces.append(b'{"t":"Str","c":"' + text[at:found.start()] + b'"}')
            pieces.append(_TYPST_ESCAPED[found.group()])
            at = found.end()
        if at < len(text):
            pieces.append(b'{"t":"Str","c":"' + text[at:] + b'"}')
        return b",".join(pieces)

    return _STR_NODE.sub(split, ast)


# What `quarto render` writes for each format (Quarto's format name, the file it produces).
# The filter escapes Typst shorthands in text; it leaves other formats alone.
TYPST_LITERAL_FILTER = Path(__file__).with_name("typst_literal.lua")
_QUARTO_FORMATS = (("html", ".html"), ("typst", ".pdf"))


def quarto_render(qmd: Path, html: str | None = None, pdf: str | None = None) -> None:
    """`quarto render` of the .qmd, each format in turn, in a private folder beside it.

    Quarto leaves a `.quarto/` folder (and, mid-render, `<name>_files/` and `<name>.typ`) next
    to the document it renders; rendering a copy in `.<name>.quarto/` (the qmd's neighbours,
    e.g. its figures, linked in) keeps those out of the output folder, lets two documents in the
    same folder render at once, and the folder is removed whatever happens. Its fixed name
    keeps the outputs free of anything random. Typst's date comes from the document's own
    `#set document(date: ...)` (style.typst_header), never from the clock.
    """
    quarto = shutil.which("quarto")
    if not quarto:
        raise RenderError("no `quarto` binary on PATH")
    work = qmd.parent / f".{qmd.stem}.quarto"
    shutil.rmtree(work, ignore_errors=True)
    try:
        work.mkdir()
        for entry in sorted(qmd.parent.iterdir()):
            # not the document's own files (its outputs would be written through a link)
            if not entry.name.startswith((".", f"{qmd.stem}.", f"{qmd.stem}_")):
                (work / entry.name).symlink_to(entry.resolve())
        shutil.copyfile(qmd, work / qmd.name)
        wanted = [(fmt, suffix, target) for (fmt, suffix), target
                  in zip(_QUARTO_FORMATS, (html, pdf)) if target]
        if not wanted:
            return
        # One `quarto render` for all formats: Quarto's start-up (Deno, its TypeScript, the
        # format and project resolution) is paid once, not once per format.
        formats = ",".join(fmt for fmt, _, _ in wanted)
        result = subprocess.run([quarto, "render", qmd.name, "--to", formats,
                                 "--lua-filter", str(TYPST_LITERAL_FILTER)], cwd=work,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RenderError(f"quarto render --to {formats} failed on {qmd}:\n"
                              f"{result.stderr.strip()}")
        for fmt, suffix, target in wanted:
            produced = work / (qmd.stem + suffix)
            if not produced.is_file() or produced.is_symlink():
                raise RenderError(f"quarto render --to {fmt} did not write {produced.name}")
            atomic_write_bytes(target, produced.read_bytes())
            produced.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
