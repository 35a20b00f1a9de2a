"""Find the documents of the corpus and give each a stable, path-safe id."""
from __future__ import annotations

import glob
import hashlib
import re
import unicodedata
from pathlib import Path

from .io import InputError

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def doc_id_for(path: str) -> str:
    """The file stem when it is already safe; otherwise an ASCII slug plus a short hash of the
    name, so "Kapitel ä.txt" and "Kapitel a.txt" stay distinct and shell metacharacters never
    reach a command line or a wildcard."""
    stem = Path(path).stem
    if SAFE_ID.fullmatch(stem):
        return stem
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", ascii_stem).strip("_") or "doc"
    digest = hashlib.sha1(Path(path).name.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}"


def discover(patterns: list[str]) -> dict[str, str]:
    """Map doc_id -> path for every file matching the patterns, in sorted path order."""
    paths = sorted({p for pattern in patterns for p in glob.glob(pattern) if Path(p).is_file()})
    documents: dict[str, str] = {}
    for path in paths:
        doc_id = doc_id_for(path)
        if doc_id in documents:
            raise InputError(
                f"{path}: gets the same document id '{doc_id}' as {documents[doc_id]}; "
                "rename one of them (ids come from the file name without its extension)")
        documents[doc_id] = path
    return documents


def ingestion_batches(documents: dict[str, str], batches: int) -> dict[str, list[str]]:
    """Spread the documents over at most `batches` ingestion jobs: batch name -> doc ids.

    A document's batch depends only on its own id (a hash), never on the other documents, so
    adding or editing a document re-runs only its own batch's job; one Python start then parses
    many documents, which is what makes a thousand documents cheap.
    """
    if batches < 1:
        raise ValueError(f"batches must be at least 1, not {batches}")
    width = len(str(batches - 1))
    grouped: dict[str, list[str]] = {}
    for doc_id in sorted(documents):
        digest = hashlib.sha256(doc_id.encode("utf-8")).digest()
        name = f"batch{int.from_bytes(digest[:8], 'big') % batches:0{width}d}"
        grouped.setdefault(name, []).append(doc_id)
    return dict(sorted(grouped.items()))


def refuse_duplicate_files(documents: dict[str, str]) -> None:
    """Refuse the same text under two names before any job runs, so no table is touched.

    Compared after dropping a BOM and folding whitespace (CRLF vs LF is the same document); the
    gather step checks again on the decoded text.
    """
    # Every Snakemake start (each no-op, each cluster job) runs this, so only files that can be
    # duplicates are normalised and hashed: equal text means an equal count of non-whitespace
    # bytes, one C-speed pass per file (0.26 s -> 0.05 s for 1,000 files, 22 MB).
    paths = list(documents.values())
    by_size: dict[int, int] = {}
    sizes = []
    for path in paths:
        size = _non_space_bytes(Path(path).read_bytes().removeprefix(b"\xef\xbb\xbf"))
        sizes.append(size)
        by_size[size] = by_size.get(size, 0) + 1
    seen: dict[bytes, str] = {}
    for path, size in zip(paths, sizes):
        if by_size[size] < 2:
            continue  # nothing else has this many non-whitespace bytes: no duplicate
        key = hashlib.sha256(b" ".join(Path(path).read_bytes().removeprefix(
            b"\xef\xbb\xbf").split())).digest()
        if key in seen:
            raise InputError(
                f"{path}: has the same text as {seen[key]}; the same document under two "
                "names would be counted twice. Remove one of them from the corpus")
        seen[key] = path


_ASCII_SPACE = b" \t\n\r\x0b\x0c"  # exactly what bytes.split() splits on


def _non_space_bytes(data: bytes) -> int:
    return len(data.translate(None, _ASCII_SPACE))
