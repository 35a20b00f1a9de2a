"""Stage 1, the corpus: find the raw documents, parse them into blocks and segments, and gather
the documents and segments tables."""
