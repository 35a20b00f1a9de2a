"""Consistency checks: the pipeline audits its own tables before anyone reads a number.

Each check returns a `CheckResult` listing the items it found (failing items, or findings worth a
reviewer's eye such as spelling variants); `run_checks` runs them all in a fixed order.
"""
from __future__ import annotations

from .base import CheckResult, Finding, Tables
from .runner import DEFAULT_SEVERITY, run_checks

__all__ = ["CheckResult", "Finding", "Tables",
           "DEFAULT_SEVERITY", "run_checks"]
