"""Pandoc Markdown building blocks: literal text, number links, tables, evidence excerpts.

Source text is data, never markup. `md_literal` backslash-escapes every ASCII punctuation
character, which pandoc's Markdown (extension `all_symbols_escapable`, on by default and in
Quarto) reads as that character, literally. So `<script>`, raw HTML, `{{< shortcodes >}}`
(Quarto looks for the two-character sequence `{{`, which no longer occurs), `$math$`,
`@citations`, `{=html}` raw blocks, emphasis, headings, list markers and table pipes all
print as written, in HTML and in Typst/PDF alike; the writers escape whatever their own format
needs. Line breaks and control characters become spaces: a passage is shown as one run of text.
"""
from __future__ import annotations

import html
import re
import string
import unicodedata
from typing import Sequence

_PUNCTUATION = frozenset(string.punctuation)
_SPACES = re.compile(r"\s+")


def md_literal(text: str, strip: bool = True) -> str:
    """`text` as pandoc Markdown that renders exactly as `text` (on one line).

    Runs of whitespace become one space; `strip=False` keeps one at either end (for joining
    pieces of a passage).
    """
    out = []
    for ch in str(text):
        if ch in _PUNCTUATION:
            out.append("\\" + ch)
        elif ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(" ")  # newlines, tabs, controls, zero-width and bidi marks
        else:
            out.append(ch)
    text = _SPACES.sub(" ", "".join(out))
    return text.strip() if strip else text


def number(value: object, item_id: str) -> str:
    """A number that opens its evidence: `[12](#ev-<item_id>){.num}`."""
    return f"[{value}](#{evidence_anchor(item_id)}){{.num}}"


def evidence_anchor(item_id: str) -> str:
    return f"ev-{item_id}"


_ITEM_PART = re.compile(r"[^A-Za-z0-9_.]+")


def item_part(value: str) -> str:
    """A readable, stable piece of an item id (ids from the tables are kept as they are)."""
    return _ITEM_PART.sub("-", str(value)).strip("-") or "x"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None,
          caption: str = "", widths: Sequence[int] | None = None,
          identifier: str = "") -> str:
    """A pipe table; cells are Markdown already (escape data with md_literal first).

    align: one letter per column, l/r/c. widths: relative column widths (dash counts), used
    when cells are long enough that pandoc wraps them.
    """
    n = len(headers)
    align = align or "l" * n
    widths = widths or [3] * n
    marks = {"l": (":", "-"), "r": ("-", ":"), "c": (":", ":")}
    rule = []
    for a, w in zip(align, widths):
        left, right = marks[a]
        rule.append(left + "-" * max(1, w) + right)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    text = "\n".join(lines)
    if caption:
        text += f"\n\n: {caption}" + (f" {{#{identifier}}}" if identifier else "")
    return text


_LEAD_MARK = re.compile(r"^[\s\-\u2013\u2014\u2022*\u00b7]+")


def strip_bullet(text: str) -> str:
    """Text without a leading list marker (`- `, `• `), as a reader sees the item."""
    return _LEAD_MARK.sub("", text)


def excerpt(text: str, limit: int = 300, focus: tuple[int, int] | None = None) -> str:
    """Markdown for a window of at most ~`limit` characters of `text`, escaped.

    With `focus` (offsets into `text`), the window is placed around it and the focused span is
    highlighted; an ellipsis marks text left out at either end.
    """
    text = str(text)
    if focus is None or not (0 <= focus[0] < focus[1] <= len(text)):
        focus = None
        start, end = 0, min(len(text), limit)
    else:
        lead = max(0, min(limit // 3, limit - (focus[1] - focus[0])))
        start = max(0, focus[0] - lead)
        end = min(len(text), start + limit)
        start = max(0, min(start, end - limit))
    start, end = _word_edge(text, start, backwards=True), _word_edge(text, end)
    pre = "\u2026 " if start > 0 else ""
    post = " \u2026" if end < len(text) else ""
    if focus is None:
        return pre + md_literal(text[start:end]) + post
    fs, fe = max(start, focus[0]), min(end, focus[1])
    # Whitespace at the edges of the focus stays outside the highlight.
    while fs < fe and text[fs].isspace():
        fs += 1
    while fe > fs and text[fe - 1].isspace():
        fe -= 1
    body = (md_literal(text[start:fs], strip=False) + mark(text[fs:fe])
            + md_literal(text[fe:end], strip=False))
    return pre + body.strip() + post


def span(inner: str, cls: str, **attrs: str) -> str:
    """A span of Markdown `inner` with a class and `data-*` attributes, written as a native
    `<span>` (pandoc's `native_spans`, on in pandoc Markdown and Quarto).

    Same AST as the bracketed form `[inner]{.cls data-x="..."}`, but pandoc's reader tries a
    bracketed text first as a link and a reference and re-reads it each time, which made long
    evidence passages the slowest part of rendering; a `<span>` is read once. Use it for one
    long span on a line of its own: many `<span>`s on one line make pandoc's reader use a lot
    of memory. `inner` must be Markdown already (escaped with md_literal: no bare `<`).
    """
    extra = "".join(f' {name.replace("_", "-")}="{html.escape(str(value), quote=True)}"'
                    for name, value in attrs.items())
    return f'<span class="{html.escape(cls, quote=True)}"{extra}>{inner}</span>'


def mark(text: str) -> str:
    """Highlighted literal text (a `.mark` span: <mark> in HTML, highlight in Typst)."""
    inner = md_literal(text)
    return f"[{inner}]{{.mark}}" if inner else ""


def _word_edge(text: str, i: int, backwards: bool = False) -> int:
    """Move a cut point to the nearest space within 25 characters, so words stay whole."""
    if i <= 0 or i >= len(text):
        return max(0, min(i, len(text)))
    rng = range(i, max(0, i - 25), -1) if backwards else range(i, min(len(text), i + 25))
    for j in rng:
        if text[j - 1].isspace() or text[j].isspace():
            return j
    return i


def series(words, last: str = "and") -> str:
    """'a, b and c' (or 'a, b or c'); '' for no words."""
    words = list(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1] if len(words) > 1 else "".join(words)
