"""Run code under a wall-clock and memory bound, so a test of a hang or a memory blow-up fails
quickly instead of taking the machine down."""
from __future__ import annotations

import contextlib
import resource
import signal


class Overrun(Exception):
    """The code ran past its time bound."""


def _vm_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * resource.getpagesize()


@contextlib.contextmanager
def bounded(seconds: float = 5.0, extra_mb: int = 500):
    """Raise Overrun after `seconds`; MemoryError past `extra_mb` more address space."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _vm_bytes() + extra_mb * 2**20
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))

    def overrun(signum, frame):
        raise Overrun(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, overrun)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
