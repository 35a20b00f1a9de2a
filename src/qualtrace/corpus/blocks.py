"""Split raw text into blocks (visual paragraphs) with exact character spans.

A block is one non-blank line, or several when a paragraph was hard-wrapped (a line that does not
end a sentence followed by one that starts in lower case). Spans exclude surrounding whitespace,
so every non-whitespace character lands in exactly one block.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|\Z)")
SENTENCE_END = tuple(".!?:;\"”’)…]")


@dataclass(frozen=True)
class Block:
    start: int
    end: int
    line: int  # 1-based line of `start`
    text: str
    last_line: int = 0  # 1-based line of `end`


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def lines(text: str):
    """Yield (start, end, line_number) for each non-blank line, ends excluding whitespace."""
    number = 0
    for match in LINE.finditer(text):
        if match.start() == match.end():
            break
        number += 1
        start, end = _strip_span(text, match.start(), match.end())
        if start < end:
            yield start, end, number


def is_wrapped_continuation(previous: str, current: str, is_list_marker) -> bool:
    if not previous or not current or is_list_marker(current):
        return False
    return not previous.rstrip().endswith(SENTENCE_END) and current[0].islower()


def split_blocks(text: str, is_list_marker) -> list[Block]:
    blocks: list[Block] = []
    for start, end, number in lines(text):
        piece = text[start:end]
        previous = blocks[-1] if blocks else None
        if (previous and previous.last_line == number - 1
                and is_wrapped_continuation(previous.text, piece, is_list_marker)):
            blocks[-1] = Block(previous.start, end, previous.line, text[previous.start:end], number)
        else:
            blocks.append(Block(start, end, number, piece, number))
    return blocks
