"""Text bound for a terminal: source text, file names and member names are data, never
terminal control. An ESC in a source file must not retitle or clear the reader's terminal,
and a bidi override must not reorder what they read, so such characters are shown escaped.
"""
from __future__ import annotations

import re
import sys

# C0 and C1 controls and DEL (ESC, CSI, BEL, CR, ...), line and paragraph separators,
# lone surrogates, and the bidi embedding, override and isolate marks.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
                      "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control character shown as an escape (`\\x1b`, `\\u202e`)."""
    return _CONTROL.sub(_escape, text)


def one_line(text: str) -> str:
    """An error message as one printable line (line ends become spaces, then `printable`)."""
    return printable(" ".join(str(text).splitlines()))


def tolerant_stdout() -> None:
    """Print what the terminal's encoding cannot show as escapes instead of failing: under a
    non-UTF-8 locale a curly quote must not turn a verified trace into an exception."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def stdout_is_utf8() -> bool:
    import codecs

    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


__all__ = ["printable", "one_line", "tolerant_stdout", "stdout_is_utf8"]
