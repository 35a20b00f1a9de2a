"""Deterministic synthetic corpus: report chapters assembled from the seed chapters' units.

Every document has the shape the parser knows (title, preamble, "N. Chapter title", a key-point
heading and its bullets, sections of paragraphs, quotations with "(Client interview N)" style
attributions, lists after a lead-in, web furniture) in one of the two seed layouts: compact (no
blank lines, "- " bullets) or spaced (blank lines, indented "•" bullets). Units are shuffled with
one seeded `random.Random`, so a corpus is a pure function of (seeds, n, seed), and the first k
documents of a larger corpus are the corpus of k documents.

Paragraphs, key points, list items and quotations are *recombined* from sentences of different
seed units, and every recombination is used at most once in a corpus: the pipeline flags text
repeated across documents as boilerplate (and never codes it), so verbatim repeats would make the
coding stage look cheaper than it is. What does repeat (title, preamble, headings, furniture) is
what repeats in a real report series, and is boilerplate there too.

    python benchmarks/synth.py OUT_DIR --docs 100 [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

SEEDS = sorted((ROOT / "data" / "raw").glob("*.txt"))

# A sentence ends at . ! ? (optionally closed by a quote or bracket) before a capital or a quote.
_SENTENCE = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"“‘(\[]?[A-Z])")
# Quotations are also cut at their printed ellipses ("[…]", "[...]", "…").
_QUOTE_CUT = re.compile(r"\s*(?:\[(?:…|\.\.\.)\]|…)\s*|" + _SENTENCE.pattern)
_BULLET = re.compile(r"^\s*(?:[-–—•*·]|\d{1,2}[.)])\s+")
_QUOTE_MARKS = "“”\"‘’'"
# "(Client interview 5)" -> "Client"
_ATTRIBUTION = re.compile(r"\((?P<group>[^()]*?)\s+interviews?\s*\d+\)\s*$")
_CHAPTER = re.compile(r"^\s*(?P<number>\d{1,3})\.\s+(?P<title>.+)$")


@dataclass
class SeedUnits:
    """What the seed chapters offer to recombine."""
    titles: list[str] = field(default_factory=list)
    preambles: list[str] = field(default_factory=list)
    chapter_titles: list[str] = field(default_factory=list)
    key_point_headings: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)         # from paragraphs and bullets
    quote_fragments: list[str] = field(default_factory=list)   # from quotation bodies
    lead_ins: list[str] = field(default_factory=list)          # "... included:"
    groups: list[str] = field(default_factory=list)            # printed speaker groups
    furniture: list[list[str]] = field(default_factory=list)   # trailing furniture, per seed


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def _usable_sentence(s: str) -> bool:
    return len(s) >= 25 and s[0].isupper() and s.endswith((".", "!", "?")) and "\n" not in s


def _usable_fragment(s: str) -> bool:
    return len(s) >= 12 and (s[0].isupper() or s[0] == "[") and "\n" not in s and not any(
        q in s for q in _QUOTE_MARKS[:3])


def _unique(items):
    return list(dict.fromkeys(items))


def seed_units(paths=SEEDS) -> SeedUnits:
    """Parse the seeds with the pipeline's own parser and collect their units by kind."""
    from qualtrace.corpus.ingest import IngestRules, parse_document
    from qualtrace.common.io import read_raw
    import yaml

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    rules = IngestRules.from_config(config["ingest"])
    units = SeedUnits()
    for path in paths:
        parsed = parse_document(read_raw(path), Path(path).stem, rules)
        tail: list[str] = []
        for seg in parsed.segments:
            kind, text = seg["kind"], seg["text"].lstrip("\ufeff").strip()
            if kind == "title":
                units.titles.append(text)
            elif kind == "preamble":
                units.preambles.append(text)
            elif kind == "chapter_heading":
                units.chapter_titles.append(_CHAPTER.match(text).group("title").strip())
            elif kind == "heading":
                if any(p.fullmatch(text) for p in rules.key_point_headings):
                    units.key_point_headings.append(text)
                else:
                    units.headings.append(text)
            elif kind in ("paragraph", "key_point", "list_item"):
                body = _BULLET.sub("", text)
                if kind == "paragraph" and body.endswith(":"):
                    units.lead_ins.append(_sentences(body)[-1])
                units.sentences += [s for s in _sentences(body) if _usable_sentence(s)]
            elif kind == "quote":
                match = _ATTRIBUTION.search(text)
                if match:
                    units.groups.append(match.group("group").strip())
                body = text[:match.start()] if match else text
                body = body.strip().strip(_QUOTE_MARKS).strip()
                units.quote_fragments += [
                    f.strip() for f in _QUOTE_CUT.split(body)
                    if f and _usable_fragment(f.strip())]
            if kind == "furniture" and text:
                tail.append(text)
        units.furniture.append(tail)
    for name in ("titles", "preambles", "chapter_titles", "key_point_headings", "headings",
                 "sentences", "quote_fragments", "lead_ins", "groups"):
        setattr(units, name, _unique(getattr(units, name)))
    return units


def _normalise(text: str) -> str:
    # The gather's notion of "the same text" (qualtrace.corpus.gather.normalise).
    return " ".join(text.lstrip("\ufeff").split()).casefold()


class Generator:
    """Documents one after another from one random stream; no content unit is used twice."""

    def __init__(self, units: SeedUnits, seed: int = 0):
        self.units = units
        self.rng = random.Random(seed)
        self.used: set[str] = set()

    def _fresh(self, make) -> str:
        """A unit made by `make(extra)` that no earlier document has; `extra` grows on clashes."""
        for attempt in range(200):
            text = make(attempt // 20)
            key = _normalise(text)
            if key not in self.used:
                self.used.add(key)
                return text
        raise RuntimeError("could not make a unique unit; the seed pool is too small")

    def _pick(self, pool, k):
        return [self.rng.choice(pool) for _ in range(k)]

    def paragraph(self, lo=2, hi=5) -> str:
        return self._fresh(lambda extra: " ".join(
            self._pick(self.units.sentences, self.rng.randint(lo, hi) + extra)))

    def bullet(self) -> str:
        return self._fresh(lambda extra: " ".join(
            self._pick(self.units.sentences, self.rng.randint(1, 2) + extra)))

    def lead_in(self) -> str:
        return self._fresh(lambda extra: " ".join(
            self._pick(self.units.sentences, self.rng.randint(1, 2) + extra)
            + [self.rng.choice(self.units.lead_ins)]))

    def quotation(self, curly: bool) -> str:
        def make(extra):
            body = " […] ".join(self._pick(self.units.quote_fragments,
                                           self.rng.randint(2, 3) + extra))
            if not body.endswith((".", "!", "?")):
                body += "."
            group = self.rng.choice(self.units.groups)
            number = self.rng.randint(1, 30)
            opening, closing = ("“", "”") if curly else ('"', '"')
            return f"{opening}{body}{closing} ({group} interview {number})"
        return self._fresh(make)

    def document(self, index: int, target_chars: int) -> str:
        rng, units = self.rng, self.units
        spaced = rng.random() < 0.5
        bullet = "  • " if spaced else "- "
        blocks: list[str] = [rng.choice(units.titles), rng.choice(units.preambles)]
        chapter = rng.choice(units.chapter_titles + units.headings)
        blocks.append(f"{rng.randint(1, 12)}. {chapter}")
        blocks.append(rng.choice(units.key_point_headings))
        blocks.append("\n".join(bullet + self.bullet() for _ in range(rng.randint(3, 6))))
        for _ in range(rng.randint(1, 2)):
            blocks.append(self.paragraph())
        size = sum(len(b) for b in blocks)
        headings = [h for h in units.headings if h != chapter]
        while size < target_chars:
            section = [rng.choice(headings)]
            for _ in range(rng.randint(2, 7)):
                roll = rng.random()
                if roll < 0.6:
                    section.append(self.paragraph())
                elif roll < 0.87:
                    section.append(self.quotation(curly=rng.random() < 0.7))
                else:
                    section.append(self.lead_in())
                    section.append("\n".join(bullet + self.bullet()
                                             for _ in range(rng.randint(2, 5))))
            blocks += section
            size += sum(len(b) for b in section)
        blocks += rng.choice(units.furniture)
        if spaced:  # the spaced seed: a blank line between blocks, two after the preamble
            return blocks[0] + "\n\n" + blocks[1] + "\n\n\n" + "\n\n".join(blocks[2:]) + "\n"
        return "\n".join(blocks) + "\n"


def generate(out_dir: str | Path, n_docs: int, seed: int = 0, mean_kb: float = 20.0,
             seeds=SEEDS) -> dict:
    """Write n_docs documents doc_00001.txt ... into out_dir; return a summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gen = Generator(seed_units(seeds), seed)
    n_bytes = 0
    mean = int(mean_kb * 1000)
    for index in range(1, n_docs + 1):
        target = gen.rng.randint(mean // 2, mean * 3 // 2)
        data = gen.document(index, target).encode("utf-8")
        (out / f"doc_{index:05d}.txt").write_bytes(data)
        n_bytes += len(data)
    return {"documents": n_docs, "bytes": n_bytes, "seed": seed}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--docs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mean-kb", type=float, default=20.0, help="mean document size (kB)")
    args = ap.parse_args(argv)
    print(json.dumps(generate(args.out_dir, args.docs, args.seed, args.mean_kb)))


if __name__ == "__main__":
    main()
