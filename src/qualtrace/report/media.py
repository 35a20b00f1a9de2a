"""Figures and code blocks in the report's Markdown."""
from __future__ import annotations

import re

from .markdown import md_literal


def attribute(text: str) -> str:
    """A double-quoted pandoc attribute value holding `text` literally (one line)."""
    text = re.sub(r"\s+", " ", str(text)).strip()
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;") + '"'


def figure(path: str, caption: str, alt: str, identifier: str) -> str:
    """An image with a caption and alt text; `fig-alt` for Quarto, `alt` for pandoc."""
    return (f"![{md_literal(caption)}]({path}){{#{identifier} fig-alt={attribute(alt)} "
            f"alt={attribute(alt)}}}")


def code_block(text: str, language: str = "") -> str:
    """A fenced code block that shows `text` verbatim, whatever backticks it contains."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"
