"""Shared by every stage: file input/output, YAML positions, terminal-safe text, the
workflow config and the checks the Snakefile runs before scheduling anything."""
