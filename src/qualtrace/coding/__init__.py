"""Stage 2, coding: the codebook, its term matcher and the engine that codes each segment."""
