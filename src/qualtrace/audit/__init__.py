"""Audit: the run manifest and RO-Crate, and `trace` from a number back to its source text."""
