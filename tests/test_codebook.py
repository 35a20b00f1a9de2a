"""Codebook loading: the real codebook is valid, and each kind of mistake names its line."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from qualtrace.coding.codebook import CodebookError, load_codebook, parse_codebook, term_regex

ROOT = Path(__file__).resolve().parents[1]

BASE = """\
codebook: test
version: 1
vocab:
  staff_words: [staff*, workforce]
themes:
  - id: resourcing
    label: Resources
    definition: Funding and staffing.
    rules:
      - id: resourcing/staffing_terms
        any: ['@staff_words', funding]
  - id: partnership
    label: Partnership
    definition: Joint working.
    rules:
      - id: partnership/joint
        near: {a: [joint], b: [working, work], within: 2}
facets:
  - id: stakeholder
    label: Stakeholder
    definition: Whose view.
    values:
      - id: client
        label: Clients
        definition: People using services.
        rules:
          - id: stakeholder/client_said
            near: {a: [clients], b: [said], within: 3, order: a_first}
      - id: research
        label: Research
        definition: The research itself.
    fallback:
      - id: stakeholder/review
        value: research
        any: [literature review]
"""


def error_for(text: str, terms: bool = True) -> str:
    with pytest.raises(CodebookError) as info:
        parse_codebook(text, "config/codebook.yaml", terms=terms)
    return str(info.value)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_project_codebook_is_valid_and_covers_the_spec():
    cb = load_codebook(ROOT / "config" / "codebook.yaml")
    spec = (Path("/work/shared/codebook_spec.md") if Path("/work/shared/codebook_spec.md").exists()
            else ROOT.parent / "shared" / "codebook_spec.md")
    themes = {t.id for t in cb.themes}
    assert themes == {"dual_role", "relationships", "person_centred", "flexibility", "consistency",
                      "resourcing", "partnership", "specialist_services", "complex_needs",
                      "stigma_perception", "local_innovation", "outcomes_measurement",
                      "support_timing"}
    facets = {f.id: [v.id for v in f.values] for f in cb.facets}
    assert facets == {"stakeholder": ["client", "jsw_professional", "partner", "research"],
                      "area": ["rural", "urban", "national", "cross_area"]}
    if spec.exists():  # labels match the spec's table
        table = spec.read_text(encoding="utf-8")
        for theme in cb.themes:
            assert f"| {theme.id} | {theme.label} |" in table
    ids = cb.rule_ids()
    assert len(ids) == len(set(ids))
    assert all(t.definition for t in cb.themes)


def test_minimal_codebook_compiles():
    cb = parse_codebook(BASE)
    assert [t.id for t in cb.themes] == ["resourcing", "partnership"]
    assert cb.facets[0].fallback[0].label == "research"


def test_structure_only_load_has_the_same_structure_and_compiles_no_term():
    full = load_codebook(ROOT / "config" / "codebook.yaml")
    light = load_codebook(ROOT / "config" / "codebook.yaml", terms=False)

    def shape(cb):
        return ([(t.id, t.label, t.definition, [r.id for r in t.rules], t.suppressed_by,
                  t.speaker_groups) for t in cb.themes],
                [(f.id, [(v.id, v.label, [r.id for r in v.rules]) for v in f.values],
                  [r.label for r in f.fallback], f.attribution_rule, f.inherit_rule)
                 for f in cb.facets],
                cb.rule_ids(), cb.code_kinds, cb.raw)

    assert shape(light) == shape(full)
    assert not hasattr(light.matcher, "scan")  # nothing compiled: it cannot code
    # structural errors are still refused with file:line; term syntax is left to the coder
    assert "did you mean 'research'" in error_for(
        BASE.replace("        value: research", "        value: reserach"), terms=False)
    parse_codebook(BASE.replace("funding]", "fund(ing]"), terms=False)


def test_unknown_key_names_line_and_suggests():
    text = BASE.replace("        any: ['@staff_words', funding]",
                        "        any: ['@staff_words', funding]\n        unles: [budget]")
    msg = error_for(text)
    assert msg.startswith(f"config/codebook.yaml:{line_of(text, 'unles:')}:")
    assert "resourcing/staffing_terms" in msg and "'unles'" in msg and "did you mean 'unless'" in msg


def test_unknown_facet_value_in_rule_names_line():
    text = BASE.replace("        value: research", "        value: reserach")
    msg = error_for(text)
    assert msg.startswith(f"config/codebook.yaml:{line_of(text, 'value: reserach')}:")
    assert "unknown stakeholder value 'reserach'" in msg and "did you mean 'research'" in msg


def test_unknown_theme_in_suppressed_by_names_line():
    text = BASE.replace("    definition: Joint working.",
                        "    definition: Joint working.\n    suppressed_by: [resourcng]")
    msg = error_for(text)
    assert msg.startswith(f"config/codebook.yaml:{line_of(text, 'suppressed_by')}:")
    assert "unknown theme 'resourcng'" in msg


def test_bad_regex_names_line_and_reason():
    text = BASE.replace("any: ['@staff_words', funding]", "any: ['@staff_words', 're:staff(']")
    msg = error_for(text)
    line = line_of(text, "re:staff(")
    assert re.match(rf"config/codebook\.yaml:{line}:\d+: rule 'resourcing/staffing_terms' has an "
                    r"invalid regex 'staff\(': missing \), unterminated subpattern", msg), msg


def test_malformed_plain_term_is_refused():
    msg = error_for(BASE.replace("funding]", "fund(ing]"))
    assert "not a plain term" in msg and "re:" in msg


def test_catastrophic_regex_is_refused():
    msg = error_for(BASE.replace("funding]", "'re:(a+)+b']"))
    assert "nests quantifiers" in msg


def test_duplicate_rule_id_names_both_lines():
    text = BASE.replace("      - id: partnership/joint", "      - id: resourcing/staffing_terms")
    msg = error_for(text)
    assert "duplicate rule id 'resourcing/staffing_terms'" in msg
    second = [i for i, line in enumerate(text.splitlines(), 1)
              if "id: resourcing/staffing_terms" in line]
    assert msg.startswith(f"config/codebook.yaml:{second[1]}:")
    assert f"line {second[0]}" in msg


def test_duplicate_theme_id():
    text = BASE.replace("  - id: partnership\n", "  - id: resourcing\n")
    assert "duplicate theme id 'resourcing'" in error_for(text)


def test_duplicate_yaml_key_names_line():
    text = BASE.replace("    label: Resources\n", "    label: Resources\n    label: Money\n")
    msg = error_for(text)
    assert msg.startswith(f"config/codebook.yaml:{line_of(text, 'label: Money')}:")
    assert "duplicate key 'label'" in msg


def test_wrong_type_names_line():
    text = BASE.replace("within: 2}", "within: two}")
    msg = error_for(text)
    assert msg.startswith(f"config/codebook.yaml:{line_of(text, 'within: two')}:")
    assert "within" in msg and "integer" in msg


def test_rule_id_must_live_under_its_label():
    text = BASE.replace("      - id: partnership/joint", "      - id: resourcing/joint")
    assert "must start with 'partnership/'" in error_for(text)


def test_rule_needs_exactly_one_form():
    text = BASE.replace("        any: ['@staff_words', funding]",
                        "        any: [funding]\n        near: {a: [x], b: [y]}")
    assert "exactly one of 'any', 'all' or 'near'" in error_for(text)


def test_unknown_vocab_reference():
    msg = error_for(BASE.replace("'@staff_words'", "'@staf_words'"))
    assert "unknown vocab list '@staf_words'" in msg and "@staff_words" in msg


def test_invalid_yaml_names_line():
    msg = error_for(BASE.replace("label: Resources", "label: [Resources"))
    assert re.match(r"config/codebook\.yaml:\d+:\d+: not valid YAML", msg)


def test_term_syntax():
    rx = re.compile(term_regex("rehabilitat*"), re.IGNORECASE)
    assert rx.match("rehabilitative") and rx.match("Rehabilitation")
    rx = re.compile(term_regex("trauma informed"), re.IGNORECASE)
    assert rx.fullmatch("trauma-informed") and rx.fullmatch("Trauma  informed")
    rx = re.compile(r"\b" + term_regex("care"), re.IGNORECASE)
    assert not rx.match("career") and rx.match("care.")


def test_matcher_lives_in_its_own_module():
    from qualtrace.coding import codebook
    from qualtrace.coding import matcher

    assert codebook.term_regex is matcher.term_regex
    cb = parse_codebook(BASE)
    assert isinstance(cb.matcher, matcher.Matcher)
    assert codebook.TermSyntaxError is matcher.TermSyntaxError


def test_unicode_facts_the_case_sensitive_twins_rely_on():
    """qualtrace.coding.matcher runs regex terms as case-sensitive twins over lower-cased text. That is
    exact only if, for every character x whose lower-case form y is one character: str.lower
    agrees with the regex engine's own lower-casing; lower-casing is idempotent; a character
    that lower-cases to another one lower-cases to a cased one; lower-casing keeps word, digit
    and space characters what they are; and upper-casing never yields an uncased character."""
    import _sre

    bad = []
    for i in range(0x110000):
        x = chr(i)
        y = x.lower()
        if len(y) != 1:
            continue
        lo = _sre.unicode_tolower(i)
        if ord(y) != lo or _sre.unicode_tolower(lo) != lo:
            bad.append((hex(i), "lower"))
        elif lo != i and not _sre.unicode_iscased(lo):
            bad.append((hex(i), "uncased lower"))
        elif (x.isalnum() or x == "_") != (y.isalnum() or y == "_") \
                or x.isdecimal() != y.isdecimal() or x.isspace() != y.isspace():
            bad.append((hex(i), "class"))
        up = ord(x.upper()) if len(x.upper()) == 1 else i
        if up != i and not _sre.unicode_iscased(up):
            bad.append((hex(i), "uncased upper"))
    assert not bad, bad[:20]


def test_bad_enum_value_names_line_and_suggests():
    text = BASE.replace("        any: ['@staff_words', funding]",
                        "        any: ['@staff_words', funding]\n        kinds: [paragraf]")
    msg = error_for(text)
    assert msg.startswith(f"config/codebook.yaml:{line_of(text, 'kinds: [paragraf]')}:")
    assert "bad value 'paragraf'" in msg and "did you mean 'paragraph'" in msg


def test_badly_formed_vocab_name_points_at_that_name():
    text = BASE.replace("  staff_words: [staff*, workforce]",
                        "  staff_words: [staff*, workforce]\n  Bad-Name: [x]")
    msg = error_for(text)
    assert msg.startswith(f"config/codebook.yaml:{line_of(text, 'Bad-Name')}:")
    assert "badly formed name 'Bad-Name'" in msg


def test_missing_required_key_is_named():
    text = BASE.replace("    definition: Funding and staffing.\n", "")
    msg = error_for(text)
    assert "theme 'resourcing'" in msg and "missing the required key 'definition'" in msg


# A second facet, for the facet names in the plural (gold keys, validation label sets).
SECOND_FACET = """\
  - id: setting
    label: Setting
    definition: Where.
    values:
      - id: rural
        label: Rural
        definition: Rural places.
"""


def test_a_facet_s_plural_is_its_id_plus_s_unless_given():
    cb = parse_codebook(BASE + SECOND_FACET, terms=False)
    assert [(f.id, f.plural) for f in cb.facets] == [("stakeholder", "stakeholders"),
                                                      ("setting", "settings")]
    given = BASE + SECOND_FACET.replace("    label: Setting\n",
                                        "    label: Setting\n    plural: places\n")
    assert [f.plural for f in parse_codebook(given, terms=False).facets] == [
        "stakeholders", "places"]


@pytest.mark.parametrize("plural, what", [
    ("stakeholders", "the plural of facet 'stakeholder'"),  # two label sets, one name
    ("themes", "a reserved gold key"),
    ("anchor", "a reserved gold key"),
])
def test_a_facet_plural_that_would_mix_two_label_sets_is_refused(plural, what):
    text = BASE + SECOND_FACET.replace("    label: Setting\n",
                                       f"    label: Setting\n    plural: {plural}\n")
    message = error_for(text, terms=False)
    assert message.startswith(f"config/codebook.yaml:{line_of(text, 'plural:')}:")
    assert f"named {plural!r} in the plural" in message and what in message


def test_a_facet_id_whose_default_plural_is_reserved_points_at_the_id():
    text = BASE + SECOND_FACET.replace("id: setting", "id: theme")
    message = error_for(text, terms=False)
    assert message.startswith(f"config/codebook.yaml:{line_of(text, 'id: theme')}:")
    assert "'themes' in the plural" in message


def test_the_voice_facet_is_the_one_with_an_attribution_rule():
    assert parse_codebook(BASE + SECOND_FACET, terms=False).voice_facet() is None
    text = (BASE + SECOND_FACET).replace(
        "    definition: Whose view.\n",
        "    definition: Whose view.\n    attribution: {rule: stakeholder/attribution}\n")
    assert parse_codebook(text, terms=False).voice_facet().id == "stakeholder"
