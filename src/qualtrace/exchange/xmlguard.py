"""XML from outside (a `.qdpx` or `.qdc` someone sends): no DOCTYPE reaches a parser.

REFI-QDA files have no DTD. A DOCTYPE can only declare entities (the billion-laughs and
external-entity attacks) and, with libxml2's streaming schema validation, an internal entity
crashed the interpreter. So the prolog (everything before the root element) is read first by
expat, which only looks, and a document that declares a DOCTYPE is refused before libxml2 or
ElementTree sees any of it. Every place that parses REFI-QDA XML goes through `guarded`.
"""
from __future__ import annotations

from typing import Iterable, Iterator
from xml.parsers import expat

from ..common.io import InputError

PROLOG_LIMIT = 1 << 20  # bytes before the root element; a real prolog is a line or two


class UnsafeXmlError(InputError, ValueError):
    """The document declares a DOCTYPE, or its prolog cannot be read; the message reads after
    the document's name ("FILE: <message>")."""


class _RootReached(Exception):
    pass


def guarded(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The pieces of a document, unchanged, but none before its prolog has been read and
    found free of any DOCTYPE; raises UnsafeXmlError otherwise. Streams: only the prolog is
    held back."""
    parser = expat.ParserCreate()

    def doctype(name, *_):
        raise UnsafeXmlError(f"declares a DOCTYPE ({name}); DTDs and entities are refused "
                             "(REFI-QDA files have none)")

    def root(*_):
        raise _RootReached

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = root
    pieces = iter(pieces)
    held, size = [], 0
    try:
        for piece in pieces:
            held.append(piece)
            size += len(piece)
            parser.Parse(piece, False)
            if size > PROLOG_LIMIT:
                raise UnsafeXmlError(f"has no root element in its first {PROLOG_LIMIT} bytes")
        parser.Parse(b"", True)
    except _RootReached:
        pass
    except expat.ExpatError as err:
        raise UnsafeXmlError(f"is not well-formed XML at line {err.lineno}, column "
                             f"{err.offset + 1}: {expat.ErrorString(err.code)}") from None
    yield from held
    yield from pieces


def check(data: bytes) -> bytes:
    """`data` if its prolog holds no DOCTYPE; else UnsafeXmlError."""
    for _ in guarded((data,)):
        pass
    return data


__all__ = ["UnsafeXmlError", "guarded", "check", "PROLOG_LIMIT"]
