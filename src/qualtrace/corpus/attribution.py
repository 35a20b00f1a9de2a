"""Quotations: recognise them and parse the attribution printed after them.

"(Senior managers / team leaders interview 1)" -> group text "Senior managers / team leaders",
canonical group `senior_manager_team_leader` (from the configured speaker groups) and interview id
`senior_manager_team_leader-01`, so the same interview quoted in two chapters gets one id whatever
the spelling of its group.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

OPENING_QUOTES = "“\"‘'«„"
CLOSING_QUOTES = "”\"’'»“"
# A closing quote (optionally after an ellipsis), then "( ... )" at the very end of the block.
ATTRIBUTION = re.compile(r"[”\"’'»…]\s*(\(([^()\n]{2,160})\))\s*\.?\s*$")
SOURCE = re.compile(
    r"^(?P<group>.*?)[\s,]*\b(?P<kind>interviews?|focus groups?|group discussions?|workshops?|"
    r"participants?|respondents?)\b\s*(?:no\.?\s*)?(?P<number>\d+)?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Attribution:
    raw: str          # as printed, without the parentheses
    start: int        # offset of "(" within the block text
    group: str        # canonical speaker group id
    known: bool       # whether a configured speaker group matched
    interview_id: str


@dataclass(frozen=True)
class SpeakerGroup:
    id: str
    pattern: re.Pattern


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def canonical_group(group_text: str, groups: list[SpeakerGroup]) -> tuple[str, bool]:
    for group in groups:
        if group.pattern.search(group_text):
            return group.id, True
    words = [_singular(word) for word in slug(group_text).split("_") if word]
    return "_".join(words) or "unknown", False


def is_quotation(text: str) -> bool:
    body = text[2:].lstrip() if text.startswith(">") else text
    return bool(body) and body[0] in OPENING_QUOTES and (
        ATTRIBUTION.search(body) is not None or body.rstrip(" .").endswith(tuple(CLOSING_QUOTES))
        or body[0] in "“«„")


def parse_attribution(text: str, groups: list[SpeakerGroup]) -> Attribution | None:
    match = ATTRIBUTION.search(text)
    if not match:
        return None
    raw = match.group(2).strip()
    source = SOURCE.match(raw)
    group_text = source.group("group") if source and source.group("group") else raw
    group, known = canonical_group(group_text, groups)
    interview_id = ""
    if source and source.group("number"):
        kind = source.group("kind").lower()
        prefix = "" if kind.startswith("interview") else slug(_singular(kind)) + "-"
        interview_id = f"{group}-{prefix}{int(source.group('number')):02d}"
    return Attribution(raw, match.start(1), group, known, interview_id)
