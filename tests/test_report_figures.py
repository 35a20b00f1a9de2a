"""Charts: deterministic SVG, alt text from the same rows as the chart."""
from __future__ import annotations

import re

import pytest

from qualtrace.report import figures

pytest.importorskip("matplotlib")

THEMES = ["a", "b", "c"]
LABELS = {"a": "Alpha $x$", "b": "Beta", "c": "Gamma"}
SUMMARY = [{"theme": "a", "n_segments": 2}, {"theme": "b", "n_segments": 5},
           {"theme": "c", "n_segments": 2}]
PAIRS = [{"theme_a": "a", "theme_b": "a", "n_segments": 2},
         {"theme_a": "a", "theme_b": "b", "n_segments": 1},
         {"theme_a": "a", "theme_b": "c", "n_segments": 0},
         {"theme_a": "b", "theme_b": "b", "n_segments": 5},
         {"theme_a": "b", "theme_b": "c", "n_segments": 2},
         {"theme_a": "c", "theme_b": "c", "n_segments": 2}]
FACET = [{"theme": t, "value": v, "n_segments": n} for t, v, n in
         [("a", "x", 1), ("a", "y", 0), ("b", "x", 3), ("b", "y", 2),
          ("c", "x", 0), ("c", "y", 2)]]
# (counts typed as read_table gives them)


def test_prevalence_orders_by_count_then_codebook():
    grid = figures.prevalence_grid(SUMMARY, THEMES, LABELS)
    assert grid.rows == ["Beta", "Alpha $x$", "Gamma"]
    assert grid.values == [[5], [2], [2]]
    alt = figures.prevalence_alt(grid)
    assert "Beta 5; Alpha $x$ 2; Gamma 2" in alt


def test_cooccurrence_shows_each_pair_once():
    grid = figures.cooccurrence_grid(SUMMARY, PAIRS, THEMES, LABELS)
    assert grid.rows == ["Beta", "Alpha $x$"] and grid.columns == ["Alpha $x$", "Gamma"]
    assert grid.values == [[1, 2], [None, 0]]
    assert "Beta with Gamma 2" in figures.cooccurrence_alt(grid)


def test_facet_heatmap_grid_and_alt():
    grid = figures.facet_grid(SUMMARY, FACET, THEMES, LABELS, ["x", "y"], {"x": "X", "y": "Y"})
    assert grid.values == [[3, 2], [1, 0], [0, 2]]
    assert "Beta: X 3, Y 2" in figures.heatmap_alt(grid, "area setting")


@pytest.mark.parametrize("draw", [
    lambda: figures.prevalence_svg(figures.prevalence_grid(SUMMARY, THEMES, LABELS)),
    lambda: figures.heatmap_svg(figures.cooccurrence_grid(SUMMARY, PAIRS, THEMES, LABELS), "",
                                rotate=True),
    lambda: figures.heatmap_svg(figures.facet_grid(SUMMARY, FACET, THEMES, LABELS, ["x", "y"],
                                                   {"x": "X", "y": "Y"}), "Area"),
])
def test_svg_is_byte_identical_across_draws_and_has_no_date(draw):
    first, second = draw(), draw()
    assert first == second
    text = first.decode("utf-8")
    assert text.startswith("<?xml") and "<svg" in text
    assert "<dc:date>" not in text
    assert not re.search(r"20\d\d-\d\d-\d\d", text)
