"""Which documents make up the corpus, and how they are spread over ingestion jobs."""
from __future__ import annotations

import pytest

from qualtrace.corpus.discovery import ingestion_batches


def corpus(n: int) -> dict[str, str]:
    return {f"doc_{i:04d}": f"data/raw/doc_{i:04d}.txt" for i in range(n)}


def test_every_document_in_exactly_one_batch_in_order():
    batches = ingestion_batches(corpus(500), 32)
    assert len(batches) <= 32
    docs = [d for ids in batches.values() for d in ids]
    assert sorted(docs) == sorted(corpus(500)) and len(docs) == len(set(docs))
    assert all(ids == sorted(ids) for ids in batches.values())
    # spread, not piled into a few jobs
    assert max(len(ids) for ids in batches.values()) < 3 * 500 / 32


def test_a_documents_batch_does_not_depend_on_the_others():
    small, large = ingestion_batches(corpus(10), 32), ingestion_batches(corpus(1000), 32)
    where = {d: b for b, ids in large.items() for d in ids}
    for batch, ids in small.items():
        assert all(where[d] == batch for d in ids)


def test_names_sort_in_batch_order_and_one_job_takes_all():
    names = list(ingestion_batches(corpus(300), 100))
    assert names == sorted(names) and all(len(n) == len("batch00") for n in names)
    assert ingestion_batches(corpus(5), 1) == {"batch0": sorted(corpus(5))}
    with pytest.raises(ValueError):
        ingestion_batches(corpus(5), 0)
