"""What a reviewer needs from the report: how to read it and its limits, passages by group with
contrast cues shown as cues, key-point support that says what it checked, uncoded segments,
validity on held-out text before tuned text."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from qualtrace import SCHEMA_DIR
from qualtrace.common.tables import frame, records
from workflow_helpers import read_rows
from qualtrace.report import contrast
from qualtrace.report.numbers import Registry
from test_report_helpers import ROOT, evidence_item, numbers, passages, section_of, soup


def test_contrast_cues_are_found_as_written_and_listed_once():
    text = ("Clients were positive. However, staff had MIXED\nviews; on the other hand "
            "partners disagreed. However again, but not a cue.")
    assert contrast.cues(text) == ["however", "mixed views", "on the other hand", "disagreed"]
    assert contrast.cues("But although it was good, nothing contrasts here.") == []
    assert contrast.cues("Thowever is not a word boundary") == []
    # A cue starts after a non-word character or at the start, never inside a word (digits,
    # underscores and non-ASCII letters are word characters too).
    assert contrast.cues("_however 2however \u00e9however whereasx") == []
    assert contrast.cues("however.(Whereas) \u00abnevertheless\u00bb") == [
        "however", "whereas", "nevertheless"]


def _validity_rows(name, tuned, f1):
    base = {"gold_set": name, "tuned": tuned, "label_set": "themes", "n_units": "4",
            "n_labels": "1", "support": "2", "predicted": "2", "tp": "1", "fp": "1", "fn": "1",
            "tn": "1", "precision": "0.5", "recall": "0.5", "kappa": "0.1", "alpha": "0.1"}
    return [dict(base, label="care", f1=f1, tp_ids=f"{name}-1", fp_ids=f"{name}-2",
                 fn_ids=f"{name}-3"),
            dict(base, label="__macro__", f1=f1, tp_ids="", fp_ids="", fn_ids=""),
            dict(base, label="__micro__", f1=f1, tp_ids="", fp_ids="", fn_ids="")]


def test_validity_puts_held_out_sets_first_and_calls_tuned_scores_optimistic():
    from qualtrace.report.validity import gold_sets_context

    def corpus(rows):  # no scores on other gold corpora: only this corpus's gold files
        typed = records(frame("coding_validation_by_set", rows))  # as the report reads it
        return SimpleNamespace(tables={"coding_validation_by_set": typed}, gold_units=[],
                               theme_label=lambda t: t, external=[], external_path="",
                               external_note="", codebook=SimpleNamespace(facets=[]),
                               manifest={})

    data = corpus(_validity_rows("seeds", "true", "0.9")
                  + _validity_rows("heldout", "false", "0.6"))
    found = gold_sets_context(Registry(), data)
    assert [s["name"] for s in found["held_out"] + found["tuned"]] == ["heldout", "seeds"]
    sentence = found["sentence"]
    assert sentence.index("never tuned") < sentence.index("heldout") < sentence.index("seeds")
    assert "optimistic" in sentence and "0.60" in sentence and "0.90" in sentence
    only_tuned = corpus(_validity_rows("seeds", "true", "0.9"))
    assert "unmeasured" in gold_sets_context(Registry(), only_tuned)["sentence"]


@pytest.mark.slow
def test_how_to_read_says_what_a_count_counts(mini_build):
    page = soup(mini_build)
    section = section_of(page, "how-to-read")
    text = " ".join(section.get_text().split())
    assert "not participants" in text and "authors' own text" in text.replace("\u2019", "'")
    assert "rules' first pass" in text.replace("\u2019", "'")
    rows = numbers(mini_build)
    authored = rows["corpus-authored-segments"]["segment_ids"].split()
    segments = {s["segment_id"]: s for s in read_rows(mini_build / "data/processed/segments.csv")}
    assert authored and all(segments[s]["kind"] != "quote" for s in authored)
    links = {evidence_item(a["href"]) for a in section.select("a.num")}
    assert {"corpus-authored-segments", "corpus-quotations", "corpus-segments"} <= links


@pytest.mark.slow
def test_uncoded_segments_are_listed(mini_build):
    page, evidence = soup(mini_build), soup(mini_build, "evidence")
    coded = {r["segment_id"] for r in read_rows(mini_build / "data/processed/codings.csv")}
    content = numbers(mini_build)["corpus-segments"]["segment_ids"].split()
    uncoded = sorted(set(content) - coded)
    section = section_of(page, "uncoded")
    if uncoded:
        link = section.find("a", class_="num")
        assert int(link.get_text()) == len(uncoded)
        assert passages(evidence, f"ev-{evidence_item(link['href'])}") == uncoded
        shown = re.findall(r"\b[\w.-]+-\d{4}\b", section.get_text())
        assert shown and set(shown) <= set(uncoded)
        # a list, one item per passage shown (not run into the paragraph above it)
        items = [re.findall(r"\b[\w.-]+-\d{4}\b", li.get_text())
                 for li in section.find_all("li")]
        assert items == [[s] for s in shown]
    else:
        assert "Every content segment carries at least one theme" in section.get_text()


@pytest.mark.slow
def test_group_passages_show_contrast_cues_only_where_the_text_has_them(mini_build):
    page = soup(mini_build)
    segments = {s["segment_id"]: s for s in read_rows(mini_build / "data/processed/segments.csv")}
    items = page.select('[id^="theme-"] li') or page.select("li")
    checked = 0
    for li in items:
        text = " ".join(li.get_text().split())
        ids = [i for i in re.findall(r"[\w.-]+-\d{4}", text) if i in segments]
        if not ids or "passage" not in text:
            continue
        found = contrast.cues(segments[ids[-1]]["text"])
        assert ("[cue:" in text) == bool(found), text
        checked += 1
    assert checked


@pytest.mark.slow
def test_key_point_support_says_what_it_checked(mini_build):
    text = " ".join(section_of(soup(mini_build), "key-points").get_text().split())
    assert "only that: a shared theme code" in text
    assert "Shares a theme code" in text or "Not supported" in text


@pytest.mark.slow
def test_seeds_validity_is_marked_as_tuned_on(seeds_build):
    import jsonschema
    import yaml

    from qualtrace.analysis.validation import BY_SET_FIELDS

    rows = read_rows(seeds_build / "data/processed/coding_validation_by_set.csv")
    assert rows and {(r["gold_set"], r["tuned"]) for r in rows} == {("seeds", "true")}
    spec = yaml.safe_load((SCHEMA_DIR / "coding_validation_by_set.schema.yaml")
                          .read_text(encoding="utf-8"))
    assert BY_SET_FIELDS == spec["required"]
    for row in rows:
        jsonschema.validate(row, spec)
    pooled = {(r["label_set"], r["label"]): r for r in
              read_rows(seeds_build / "data/processed/coding_validation.csv")}
    for r in rows:  # one set: its scores are the pooled ones
        assert {k: v for k, v in r.items() if k not in ("gold_set", "tuned")} == \
            pooled[(r["label_set"], r["label"])]
    text = " ".join(section_of(soup(seeds_build), "how-to-read").get_text().split())
    assert "tuned on" in text and "optimistic" in text
    assert soup(seeds_build).find(id="tbl-validity-by-set") is not None
