"""Read word boxes back from a PDF (poppler's `pdftotext -bbox-layout`) and find words printed
over one another: what a cell's text running into the next column looks like."""
from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    def overlap(self, other: "Word") -> float:
        """Shared area as a share of the smaller box (0 when they only touch)."""
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        if w <= 0 or h <= 0:
            return 0.0
        smaller = min((self.x1 - self.x0) * (self.y1 - self.y0),
                      (other.x1 - other.x0) * (other.y1 - other.y0))
        return (w * h) / smaller if smaller > 0 else 0.0


def available() -> bool:
    return shutil.which("pdftotext") is not None


def words(pdf: Path) -> list[Word]:
    out = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True,
                         check=True).stdout
    root = ET.fromstring(out)
    found = []
    for n, page in enumerate(root.iter("{http://www.w3.org/1999/xhtml}page"), start=1):
        for w in page.iter("{http://www.w3.org/1999/xhtml}word"):
            found.append(Word(n, w.text or "", *(float(w.get(k)) for k in
                                                 ("xMin", "yMin", "xMax", "yMax"))))
    return found


def overlapping(pdf: Path, threshold: float = 0.15) -> list[tuple[Word, Word]]:
    """Pairs of words on one page whose boxes share more than `threshold` of the smaller one."""
    pairs = []
    by_page: dict[int, list[Word]] = {}
    for w in words(pdf):
        by_page.setdefault(w.page, []).append(w)
    for page_words in by_page.values():
        page_words.sort(key=lambda w: w.y0)
        for i, a in enumerate(page_words):
            for b in page_words[i + 1:]:
                if b.y0 >= a.y1:
                    break
                if a.overlap(b) > threshold:
                    pairs.append((a, b))
    return pairs
