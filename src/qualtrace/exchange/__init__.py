"""Exchange with other qualitative-analysis tools: REFI-QDA projects (.qdpx) and codebooks
(.qdc, Taguette CSV), read and written."""
