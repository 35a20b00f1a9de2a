"""Stage 4, analysis: breakdown tables and agreement with gold codings."""
