"""Span arithmetic shared by ingestion tests and the consistency checks."""
from __future__ import annotations

from typing import Iterable


def coverage_problems(text: str, spans: Iterable[tuple[int, int]]) -> list[str]:
    """Describe every non-whitespace character not covered exactly once by the spans.

    Returns human-readable problems (empty when the segmentation is lossless), each naming the
    offset so a reviewer can find it.
    """
    counts = bytearray(len(text))
    problems: list[str] = []
    for start, end in spans:
        if not 0 <= start <= end <= len(text):
            problems.append(f"span {start}:{end} lies outside the text (length {len(text)})")
            continue
        for index in range(start, end):
            counts[index] = min(counts[index] + 1, 2)
    for index, char in enumerate(text):
        if char.isspace():
            continue
        if counts[index] == 0:
            problems.append(f"character {index} ({char!r}) belongs to no segment")
        elif counts[index] > 1:
            problems.append(f"character {index} ({char!r}) belongs to more than one segment")
        if len(problems) >= 20:
            problems.append("... (further problems not listed)")
            break
    return problems


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset (LF, CRLF and CR all end a line)."""
    line = 1 + text.count("\n", 0, offset) + text.count("\r", 0, offset) - text.count(
        "\r\n", 0, offset)
    line_start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    return line, offset - line_start + 1
