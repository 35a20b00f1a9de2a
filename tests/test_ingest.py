from collections import Counter

import pytest

from conftest import MINI, SEEDS
from qualtrace.corpus.blocks import split_blocks
from qualtrace.corpus.ingest import is_list_item, parse_document
from qualtrace.common.io import read_raw
from qualtrace.corpus.spans import coverage_problems

MINI_FILES = sorted((MINI / "data" / "raw").glob("*.txt"))


def parse(path, rules):
    text = read_raw(path)
    return text, parse_document(text, path.stem, rules)


@pytest.mark.parametrize("path", SEEDS + MINI_FILES, ids=lambda p: p.name)
def test_spans_exact_and_lossless(path, ingest_rules):
    text, doc = parse(path, ingest_rules)
    for seg in doc.segments:
        assert text[seg["start"]:seg["end"]] == seg["text"]
        assert seg["text"] == seg["text"].strip() or seg["text"][0] == "\ufeff"
    assert coverage_problems(text, [(s["start"], s["end"]) for s in doc.segments]) == []


def test_coverage_problems_detects_gap_and_overlap():
    text = "ab cd"
    assert coverage_problems(text, [(0, 2), (3, 5)]) == []
    assert "character 4 ('d') belongs to no segment" in coverage_problems(text, [(0, 2), (3, 4)])
    assert any("more than one" in p for p in coverage_problems(text, [(0, 2), (1, 5)]))


def test_seed_quotations_and_interviews(ingest_rules):
    quotes = [s for path in SEEDS for s in parse(path, ingest_rules)[1].segments
              if s["kind"] == "quote"]
    attributed = [q for q in quotes if q["speaker_group_raw"]]
    assert len(attributed) == 20
    assert len({q["interview_id"] for q in attributed}) == 11
    # One interview, two spellings of its group, one id.
    spellings = {q["speaker_group_raw"] for q in attributed
                 if q["interview_id"] == "senior_manager_team_leader-07"}
    assert spellings == {"Senior manager / team leader interview 7"}
    groups = Counter(q["speaker_group"] for q in attributed)
    assert set(groups) == {"client", "justice_social_worker", "senior_manager_team_leader",
                           "paraprofessional"}


def test_seed_structure(ingest_rules):
    (text6, ch6), (text2, ch2) = (parse(p, ingest_rules) for p in SEEDS)
    assert (ch6.chapter_number, ch6.chapter_title) == ("6", "Delivering for clients")
    assert (ch2.chapter_number, ch2.chapter_title) == (
        "2", "Ethos and approach of Justice Social Work")
    for doc in (ch6, ch2):
        kinds = [s["kind"] for s in doc.segments]
        assert kinds[:4] == ["title", "preamble", "chapter_heading", "heading"]
        assert doc.segments[3]["text"] == "Key points"
        assert all(s["boilerplate"] for s in doc.segments if s["kind"] in ("preamble",
                                                                          "furniture"))
    count6 = Counter(s["kind"] for s in ch6.segments)
    count2 = Counter(s["kind"] for s in ch2.segments)
    assert (count6["key_point"], count2["key_point"]) == (6, 5)
    assert (count6["list_item"], count2["list_item"]) == (7, 4)
    assert [s["text"] for s in ch6.segments if s["kind"] == "furniture"] == [
        "Contact", "Email: NCSJustice@gov.scot", "There is a problem",
        "Thanks for your feedback"]
    assert [s["text"] for s in ch2.segments if s["kind"] == "furniture"][-1] == "Back to top"
    headings2 = [s["text"] for s in ch2.segments if s["kind"] == "heading"]
    assert headings2 == ["Key points", "Justice Social Workers’ identity and values",
                         "Other stakeholders’ views of JSW", "Professional partners", "Clients",
                         "General public"]
    # A lead-in sentence ending in a colon is a paragraph, not a heading.
    lead_in = next(s for s in ch2.segments if s["text"].startswith("Other key professional"))
    assert lead_in["kind"] == "paragraph"
    # Sections follow headings.
    first_quote = next(s for s in ch2.segments if s["kind"] == "quote")
    assert first_quote["section"] == "Justice Social Workers’ identity and values"


def test_heading_recognition_is_by_shape(ingest_rules):
    text = ("A Study Title\nAn introduction that repeats.\n3. Working together\nKey findings\n"
            "* First finding here.\nA new section\nA paragraph that ends with a full stop.\n"
            "a lower-case wrapped\ncontinuation line.\nShort line with a comma,\n")
    doc = parse_document(text, "t", ingest_rules)
    kinds = [(s["kind"], s["text"].split("\n")[0]) for s in doc.segments]
    assert kinds == [
        ("title", "A Study Title"), ("preamble", "An introduction that repeats."),
        ("chapter_heading", "3. Working together"), ("heading", "Key findings"),
        ("key_point", "* First finding here."), ("heading", "A new section"),
        ("paragraph", "A paragraph that ends with a full stop."),
        ("paragraph", "a lower-case wrapped"), ("paragraph", "Short line with a comma,"),
    ]
    assert doc.segments[7]["text"] == "a lower-case wrapped\ncontinuation line."


def test_no_chapter_heading_keeps_everything_as_content(ingest_rules):
    doc = parse_document("Just a paragraph of findings.\nAnother one.\n", "t", ingest_rules)
    assert [s["kind"] for s in doc.segments] == ["paragraph", "paragraph"]
    assert doc.chapter_number == ""


def test_numbered_list_far_down_is_not_a_chapter(ingest_rules):
    body = "".join(f"Paragraph number {i} ends here.\n" for i in range(10))
    doc = parse_document("Title\n" + body + "1. Reduce waiting times\n", "t", ingest_rules)
    assert doc.chapter_number == ""
    assert doc.segments[-1]["kind"] == "list_item"


def test_mini_corpus_crlf_bom_wrap_and_new_group(ingest_rules):
    path = MINI / "data" / "raw" / "ch08_spaced_crlf.txt"
    text, doc = parse(path, ingest_rules)
    assert text.startswith("\ufeff") and "\r\n" in text
    title = doc.segments[0]
    assert title["kind"] == "title" and title["start"] == 0 and doc.title.startswith("Community")
    wrapped = next(s for s in doc.segments if s["text"].startswith("Managers described"))
    assert wrapped["text"].endswith("varied between areas.") and "\r\n" in wrapped["text"]
    police = next(s for s in doc.segments if "Police" in s["speaker_group_raw"])
    assert (police["speaker_group"], police["speaker_group_known"]) == ("police", True)
    assert police["interview_id"] == "police-01"
    quote = next(s for s in doc.segments if s["interview_id"] == "client-02")
    assert text[quote["attribution_start"]:quote["end"]] == "(Client interview 2)"


def test_list_markers():
    assert all(map(is_list_item, ["- a", "• a", "* a", "1. a", "2) a", "– a"]))
    assert not any(map(is_list_item, ["-a", "JSW - a", "2023 was"]))


def test_blocks_only_join_adjacent_lines():
    blocks = split_blocks("One line without end\n\nlower case after a blank\n", is_list_item)
    assert len(blocks) == 2
