"""Inflected forms of a codebook term, judged by a Snowball stemmer (snowballstemmer, BSD).

A plain term also matches the plural and verb forms of its last word ("statutory framework" ->
"statutory frameworks"; "relapse" -> "relapsed", "relapsing") without a `*`. Only that way: a
term written inflected ("caring", "partnerships", "targets") was chosen as written, and its base
word ("care", "partnership", "target") is often a different point. Forms are made by
adding or swapping common English endings and kept only when the stemmer gives them the same
stem as the written word, so "care" gains "cares", "cared", "caring" but never "career". Each
form is an ordinary term, so what a unit matched is still its exact characters.
"""
from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

_STEMMER = snowballstemmer.stemmer("english")
_PLAIN_WORD = re.compile(r"[a-z]{3,}")
_LAST_WORD = re.compile(r"([\w*]+)$")
_VOWELS = "aeiou"


def _endings(word: str) -> set[str]:
    """Plural and verb forms of a base word (-s/-es, -ed, -ing, with the usual spelling
    changes)."""
    if word.endswith("y") and word[-2] not in _VOWELS:
        return {word[:-1] + "ies", word[:-1] + "ied", word + "ing"}
    if word.endswith("e"):
        return {word + "s", word + "d", word[:-1] + "ing"}
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return {word + "es", word + "ed", word + "ing"}
    forms = {word + "s", word + "ed", word + "ing"}
    if len(word) <= 5 and word[-1] not in _VOWELS + "wxy" and word[-2] in _VOWELS \
            and word[-3] not in _VOWELS:
        forms.update((word + word[-1] + "ed", word + word[-1] + "ing"))
    return forms


@lru_cache(maxsize=None)
def _forms(word: str) -> tuple[str, ...]:
    stem = _STEMMER.stemWord(word)
    candidates = _endings(word)
    return tuple(sorted(c for c in candidates
                        if c != word and _STEMMER.stemWord(c) == stem))


def inflections(term: str) -> list[str]:
    """The other forms of a plain term (its last word inflected); none for regex terms, words
    with a `*`, words with capitals (names, acronyms) or words shorter than three letters."""
    if term.startswith("re:"):
        return []
    found = _LAST_WORD.search(term.strip())
    if found is None or not _PLAIN_WORD.fullmatch(found.group(1)):
        return []
    head = term.strip()[: found.start(1)]
    return [head + form for form in _forms(found.group(1))]
