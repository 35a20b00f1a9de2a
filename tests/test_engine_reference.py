"""The coding engine against a small reference coder that follows the codebook's definitions
literally, on random codebooks over random text.

The engine takes shortcuts for speed (one pass per document, hits filed by group, bit masks,
skipping rules that cannot beat the evidence so far, the earliest pair searched directly). The
reference below takes none: each term is tried at every word start of the unit, vetoes are
checked against every hit, every pair of a proximity rule is listed, and every rule of every
theme is evaluated. Any shortcut that changes an answer fails here.
"""
from __future__ import annotations

import random
import re

import pytest

from qualtrace.coding.codebook import parse_codebook
from qualtrace.coding.engine import code_segments
from qualtrace.coding.matcher import term_regex

from test_coding import make

WORDS = ["care", "careful", "control", "social", "work", "worker", "workers", "client",
         "clients", "client's", "risk", "trust", "trusted", "staff", "said", "felt", "the",
         "of", "and", "well", "being", "wellbeing", "re-offend", "police", "health", "caf\u00e9",
         "Social", "CARE", "Clients", "x_y", "2023", "e.g"]
GAPS = [" ", " ", " ", " ", "  ", "-", " / ", "\u2013", "'", "\u2019", ", ", ". ", ". ", "? ",
        "; ", "\n", "(", ") "]
TERMS = ["care", "care and control", "social work", "social work*", "social worker", "work*",
         "worker", "client's", "client*", "clients", "risk", "trust*", "staff", "said", "felt",
         "the", "of the", "well being", "wellbeing", "re-offend*", "police", "health",
         "caf\u00e9", "x_y", "2023", "client s", "work* well", "care*"]

_WORD_START = re.compile(r"(?<!\w)\w")
_WORD = re.compile(r"\w+")
_SENTENCE_BREAK = re.compile(
    r"[.!?\u2026][\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")


# ---------------------------------------------------------------- the reference coder
def term_hits(term: str, text: str) -> list[tuple[int, int]]:
    """A plain term's hits: its regex tried at every word start."""
    rx = re.compile(term_regex(term), re.IGNORECASE)
    found = []
    for start in (mo.start() for mo in _WORD_START.finditer(text)):
        mo = rx.match(text, start)
        if mo:
            found.append(mo.span())
    return found


def group_hits(terms, text) -> list[tuple[int, int]]:
    return sorted(span for term in terms for span in term_hits(term, text))


def unvetoed(spans, vetoes):
    return [(s, e) for s, e in spans if not any(vs < e and s < ve for vs, ve in vetoes)]


def sentence_break_in(text: str, lo: int, hi: int) -> bool:
    return any(_SENTENCE_BREAK.match(text, p) for p in range(lo, hi))


def near_pairs(rule: dict, a, b, text: str):
    pairs = []
    for s1, e1 in a:
        for s2, e2 in b:
            if s1 < e2 and s2 < e1:
                continue  # the same words cannot be both ends
            if s2 < s1:
                if rule["order"] == "a_first":
                    continue
                gap, span = (e2, s1), (s2, e1)
            else:
                gap, span = (e1, s2), (s1, e2)
            if len(_WORD.findall(text[gap[0]:gap[1]])) > rule["within"]:
                continue
            if rule["same_sentence"] and sentence_break_in(text, *gap):
                continue
            pairs.append(span)
    return sorted(pairs)


def fire(rule: dict, label_unless, text: str):
    """The rule's evidence span in a unit, or None."""
    if any(term_hits(t, text) for t in rule["not_with"]):
        return None
    vetoes = group_hits(label_unless, text) + group_hits(rule["unless"], text)
    groups = [unvetoed(group_hits(g, text), vetoes) for g in rule["groups"]]
    if rule["kind"] == "any":
        spans = groups[0]
    elif rule["kind"] == "all":
        if not all(groups):
            return None
        spans = sorted(s for g in groups for s in g)
    else:
        spans = near_pairs(rule, groups[0], groups[1], text)
    if not spans or len({text[s:e].lower() for s, e in spans}) < rule["min_hits"]:
        return None
    return spans[0]


def reference_themes(themes: list[dict], text: str) -> dict[str, tuple]:
    evidence = {}
    for theme in themes:
        best = None
        for rule in theme["rules"]:  # (in codebook order: ties go to the rule listed first)
            span = fire(rule, theme["unless"], text)
            if span is not None and (best is None or span[0] < best[0]):
                best = (span[0], span[1], rule["id"])
        if best is not None:
            evidence[theme["id"]] = best
    return {tid: ev for tid, ev in evidence.items()
            if not any(s in evidence for s in next(t for t in themes
                                                    if t["id"] == tid)["suppressed_by"])}


# ---------------------------------------------------------------- random codebooks and text
def random_rule(rng: random.Random, rid: str) -> dict:
    def terms(k):
        return rng.sample(TERMS, rng.randint(1, k))
    kind = rng.choice(["any", "any", "all", "near", "near", "near"])
    groups = {"any": lambda: [terms(4)], "all": lambda: [terms(3), terms(3)],
              "near": lambda: [terms(3), terms(3)]}[kind]()
    return {"id": rid, "kind": kind, "groups": groups,
            "within": rng.randint(0, 6), "order": rng.choice(["any", "a_first"]),
            "same_sentence": rng.random() < 0.7,
            "min_hits": 1 if rng.random() < 0.8 else 2,
            "unless": terms(2) if rng.random() < 0.25 else [],
            "not_with": terms(1) if rng.random() < 0.15 else []}


def random_themes(rng: random.Random) -> list[dict]:
    themes = []
    for i in range(rng.randint(1, 6)):
        themes.append({"id": f"t{i}", "unless": rng.sample(TERMS, 1) if rng.random() < 0.2 else [],
                       "rules": [random_rule(rng, f"t{i}/r{j}") for j in range(rng.randint(1, 4))],
                       "suppressed_by": []})
    for theme in themes:
        others = [t["id"] for t in themes if t is not theme]
        if others and rng.random() < 0.2:
            theme["suppressed_by"] = [rng.choice(others)]
    return themes


def _yaml_list(terms) -> str:
    return "[" + ", ".join("'" + t.replace("'", "''") + "'" for t in terms) + "]"


def codebook_yaml(themes: list[dict]) -> str:
    # The reference reads terms literally; inflected forms (qualtrace.coding.inflect) are tested on
    # their own in test_inflect.py.
    lines = ["codebook: reference", "version: 1", "settings: {inflect: false}", "themes:"]
    for theme in themes:
        lines += [f"  - id: {theme['id']}", f"    label: {theme['id']}", "    definition: X."]
        if theme["unless"]:
            lines.append(f"    unless: {_yaml_list(theme['unless'])}")
        if theme["suppressed_by"]:
            lines.append(f"    suppressed_by: {theme['suppressed_by']}")
        lines.append("    rules:")
        for rule in theme["rules"]:
            lines.append(f"      - id: {rule['id']}")
            g = rule["groups"]
            if rule["kind"] == "any":
                lines.append(f"        any: {_yaml_list(g[0])}")
            elif rule["kind"] == "all":
                lines.append(f"        all: [{_yaml_list(g[0])}, {_yaml_list(g[1])}]")
            else:
                lines.append(f"        near: {{a: {_yaml_list(g[0])}, b: {_yaml_list(g[1])}, "
                             f"within: {rule['within']}, order: {rule['order']}, "
                             f"same_sentence: {str(rule['same_sentence']).lower()}}}")
            if rule["min_hits"] > 1:
                lines.append(f"        min_hits: {rule['min_hits']}")
            for key in ("unless", "not_with"):
                if rule[key]:
                    lines.append(f"        {key}: {_yaml_list(rule[key])}")
    return "\n".join(lines) + "\n"


def random_text(rng: random.Random, n: int) -> str:
    text = "".join(rng.choice(WORDS) + rng.choice(GAPS) for _ in range(n))
    # capitals after stops, so that sentences end
    return re.sub(r"([.?]) (\w)", lambda m: f"{m.group(1)} {m.group(2).upper()}", text).strip()


@pytest.mark.parametrize("seed", range(12))
def test_engine_codes_like_the_reference(seed):
    rng = random.Random(seed)
    for _ in range(6):
        themes = random_themes(rng)
        cb = parse_codebook(codebook_yaml(themes), "reference.yaml")
        units = [random_text(rng, rng.randint(1, 30)) for _ in range(12)]
        raw, segs = make([("paragraph", u) for u in units])
        codings, _ = code_segments(segs, {"d1": raw}, cb)
        got = {}
        for row in codings:
            seg = next(s for s in segs if s["segment_id"] == row["segment_id"])
            base = int(seg["start"])
            got.setdefault(row["segment_id"], {})[row["theme"]] = (
                int(row["evidence_start"]) - base, int(row["evidence_end"]) - base, row["rule"])
        for seg, text in zip(segs, units):
            want = reference_themes(themes, text)
            assert got.get(seg["segment_id"], {}) == want, (codebook_yaml(themes), text)
