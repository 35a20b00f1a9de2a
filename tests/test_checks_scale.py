"""The checks stay linear in corpus size and their shortcuts change no result (issue 8)."""
from __future__ import annotations

import random
import re

from qualtrace.checks import content, integrity, run_checks
from qualtrace.corpus.spans import coverage_problems

from test_checks import make_tables


class CountingList(list):
    """A list that counts how often it is iterated over from the start."""

    def __iter__(self):
        self.passes = getattr(self, "passes", 0) + 1
        return super().__iter__()


def _many_documents(n_docs: int):
    """make_tables' one chapter copied to n_docs documents with their own ids."""
    base = make_tables()
    tables = make_tables()
    tables.documents, tables.raw_bytes, tables.raw_texts = [], {}, {}
    segments, codings = [], []
    for i in range(n_docs):
        doc_id = f"d{i}"
        tables.documents.append({**base.documents[0], "doc_id": doc_id, "path": f"{doc_id}.txt"})
        tables.raw_bytes[doc_id], tables.raw_texts[doc_id] = base.raw_bytes["d1"], base.raw_texts["d1"]
        segments += [{**s, "doc_id": doc_id, "segment_id": s["segment_id"].replace("d1", doc_id)}
                     for s in base.segments]
        codings += [{**c, "doc_id": doc_id, "segment_id": c["segment_id"].replace("d1", doc_id)}
                    for c in base.codings]
    tables.segments, tables.codings = CountingList(segments), CountingList(codings)
    return tables


def test_tables_are_read_a_fixed_number_of_times_whatever_the_corpus_size():
    # A per-document scan of all segments made `lossless` quadratic in the corpus size.
    passes = []
    for n_docs in (1, 40):
        tables = _many_documents(n_docs)
        run_checks(tables)
        passes.append((tables.segments.passes, tables.codings.passes))
    assert passes[0] == passes[1]


def test_fast_coverage_check_agrees_with_the_per_character_one():
    rng = random.Random(8)
    for _ in range(3000):
        text = "".join(rng.choice("ab \n\t\u00a0") for _ in range(rng.randint(0, 30)))
        spans = []
        for _ in range(rng.randint(0, 6)):
            start = rng.randint(-2, len(text) + 2)
            spans.append((start, start + rng.randint(-1, 12)))
        assert integrity._coverage_problems(text, spans) == coverage_problems(text, spans), (
            text, spans)


def test_reference_hints_never_skip_a_match():
    # The hints are necessary conditions; here on case, dotted and spaced variants.
    rng = random.Random(3)
    words = ["see", "SEE", "on", "At", "and", "or", "also", "chapter", "CHAPTERS", "Chapter",
             "p", "P", "pp", "PP.", "p.", "page", "PAGES", "pageſ", "ſee", "12", "3", "and",
             "to", "–", "-", ",", ".", " ", "  ", "\t", "\u00a0", "x"]
    for _ in range(20000):
        text = "".join(rng.choice(words) + rng.choice(["", " ", ""]) for _ in range(6))
        lowered = text.lower()
        if content.CHAPTER_REF.search(text):
            assert content.CHAPTER_HINT in lowered, text
        if content.PAGE_REF.search(text):
            assert content.PAGE_HINT.search(lowered), text


def test_cross_references_unchanged_by_the_hints(monkeypatch):
    tables = make_tables()
    para = next(s for s in tables.segments if "see chapter 4" in s["text"])
    para["text"] = para["text"].replace("p12", "Pages 12, CHAPTER 9 and P. 3")
    with_hints = vars(content.cross_references(tables))
    monkeypatch.setattr(content, "CHAPTER_HINT", "")             # always present
    monkeypatch.setattr(content, "PAGE_HINT", re.compile(""))    # always matches
    assert with_hints == vars(content.cross_references(tables))
    assert sorted(i.item for i in with_hints["items"]) == [
        "chapter 4", "chapter 9", "page 12", "page 3"]
