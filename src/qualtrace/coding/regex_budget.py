"""A time budget for the codebook's regex terms, so that no codebook can hang a build.

Python's `re` backtracks: a term with nested quantifiers (`(a+)+$`, `(a|a)+b`, `(?:\\w+\\s?)+;`,
`(a+){2,99}$`) can take longer than anyone will wait on one paragraph, and no static check
catches every such form. So while coding runs, an interval timer ticks (SIGALRM), and `re`
checks for signals as it matches: the tick's handler runs even inside a match, and when the
regex term now running (`running`) has been at one text for longer than `REGEX_BUDGET_S`, it
raises `TermTimeout` naming the term, where the codebook writes it and its rule. The matches
themselves are `re`'s own, unchanged: the budget only ever stops a build, it never changes an
answer. A sound term takes microseconds on a unit of text, so the bound is far from real use.

Without an interval timer (Windows) or outside the main thread, there is no budget.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

REGEX_BUDGET_S = 1.0
_TICK_S = 0.1
_BUDGET_TICKS = round(REGEX_BUDGET_S / _TICK_S)


class TermTimeout(Exception):
    """A regex term ran past its budget on one text; the message names it."""


class _Running:
    """The regex term matching right now, (matcher, term index) or None, and since when (the
    tick count then). Set and cleared around each match by the matcher: cheap stores, no
    clock read."""
    __slots__ = ("term", "since", "ticks")

    def __init__(self):
        self.term: tuple | None = None
        self.since = 0
        self.ticks = 0


running = _Running()
_active = False


def _tick(signum, frame) -> None:
    running.ticks += 1
    term = running.term
    if term is not None and running.ticks - running.since > _BUDGET_TICKS:
        running.term = None
        matcher, t = term
        raise TermTimeout(f"{matcher.describe(t)} ran for more than {REGEX_BUDGET_S:g} s on one text and "
                          "was stopped (nested quantifiers such as (a+)+ backtrack without "
                          "end); simplify it")


def available() -> bool:
    """Can the budget be enforced here (an interval timer, in the main thread)?"""
    return hasattr(signal, "setitimer") and \
        threading.current_thread() is threading.main_thread()


@contextmanager
def regex_budget():
    """Enforce the budget on every regex term matched inside (re-entrant)."""
    global _active
    if _active or not available():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _tick)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, _TICK_S, _TICK_S)
    _active = True
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if previous_timer[0] > 0:  # someone else's timer: give it back (it was paused)
            signal.setitimer(signal.ITIMER_REAL, *previous_timer)
        running.term = None
        _active = False
