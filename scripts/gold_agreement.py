"""Agreement between two independent codings of the same gold units.

    python scripts/gold_agreement.py tests/fixtures/heldout4/data/gold/heldout4.jsonl \
        tests/fixtures/heldout4/second_coder.jsonl

Both files are in the gold format (SPEC.md, "Gold annotations") and list the same units
(doc + anchor). Per label set it prints Cohen's kappa and Krippendorff's alpha pooled over every
(unit, label) decision, as coding_validation.csv pools them, the F1 of the second coder against
the first, and how many units got exactly the same labels.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from qualtrace.analysis.validation import cohen_kappa, krippendorff_alpha  # noqa: E402



def read_units(path: Path) -> dict[tuple[str, str], dict]:
    units = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            units[row["doc"], row["anchor"]] = row
    return units


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args()
    first, second = read_units(args.first), read_units(args.second)
    if first.keys() != second.keys():
        print(f"{args.second}: does not code the same units as {args.first}", file=sys.stderr)
        return 2
    keys = sorted(first)
    # Label sets: every key of a gold line but doc and anchor (themes, then the codebook's
    # facets by their plurals), in the order the first line gives them.
    label_sets = [k for k in first[keys[0]] if k not in ("doc", "anchor")] if keys else []
    print(f"{len(keys)} units")
    print(f"{'label set':14}{'kappa':>8}{'alpha':>8}{'F1':>8}{'same labels':>14}")
    for label_set in label_sets:
        labels = sorted({l for rows in (first, second) for k in keys for l in rows[k][label_set]})
        a = [l in first[k][label_set] for k in keys for l in labels]
        b = [l in second[k][label_set] for k in keys for l in labels]
        both = sum(x and y for x, y in zip(a, b))
        f1 = 2 * both / (sum(a) + sum(b)) if sum(a) + sum(b) else float("nan")
        same = sum(set(first[k][label_set]) == set(second[k][label_set]) for k in keys)
        print(f"{label_set:14}{cohen_kappa(a, b):8.3f}{krippendorff_alpha(a, b):8.3f}{f1:8.3f}"
              f"{same:>9}/{len(keys)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
