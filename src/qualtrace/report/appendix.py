"""The evidence appendix (one anchor per number) and the provenance appendix."""
from __future__ import annotations

import re
from collections import OrderedDict

from .. import layout
from .data import ReportData
from .limits import INPUT_ROWS, MAX_PASSAGES, PASSAGE_BUDGET, passage_cap, spread
from .markdown import evidence_anchor, excerpt, item_part, md_literal, span, strip_bullet
from .media import code_block, figure
from .numbers import Item, Registry

EXCERPT_CHARS = 200
_HEX = re.compile(r"^[0-9a-f]{64}$")


def evidence(reg: Registry, data: ReportData) -> str:
    """Every registered number, by section: its query and the passages behind it; then each of
    those passages once, with its excerpt.

    An entry lists its passages by document and line, each a link to the passage's excerpt in
    the Passages section, which holds one excerpt per passage and theme (the theme decides
    which words are highlighted). A passage counted by many numbers (a theme's total, its
    facet cells, its co-occurrences) is printed once, not once per number: the
    evidence document is a fraction of the size, and both engines render it in a fraction of
    the time. The passages listed per number are capped (limits.passage_cap) so that the
    document stays the same size however large the corpus; a capped list says so and where the
    rest is.
    """
    listed = [item for item in reg.items.values() if item.segment_ids or item.source]
    excerpted = [len(item.segment_ids) for item in listed if not item.compact]
    cap = passage_cap(excerpted)
    parts = ["## Evidence for every number {#evidence}",
             "```{=typst}\n#set text(size: 8pt)\n#set par(justify: false)\n```",
             "For every number in the report that has passages behind it: what was counted "
             f"(the query on the tables in `{layout.PROCESSED}/`) and its passages by document and "
             "line. Each line number links to the passage's excerpt under "
             "[Passages](#passages), with its segment id; excerpts are cut to about 200 "
             "characters, and the words where a theme's rule fired are highlighted. "
             "`qualtrace trace <item id>` prints the full passages with their character "
             "offsets. A number read from an input file (a score measured on another gold "
             "corpus) names the file, line and column instead. Numbers that count nothing "
             "(zero cells) have no entry here; they are in "
             f"`{layout.table('report_numbers')}` with no segment ids."]
    if cap < MAX_PASSAGES and sum(excerpted) > PASSAGE_BUDGET:
        shown = sum(min(n, cap) for n in excerpted)
        parts.append(
            f"So that this document stays readable however large the corpus, a number lists "
            f"at most {cap} of its passages with excerpts (at most {MAX_PASSAGES} in a smaller "
            f"report), taken at even intervals through its sorted list, so from across the "
            f"corpus: {shown} of the {sum(excerpted)} passages behind the numbers are shown. "
            f"Every number's complete list is in `{layout.table('report_numbers')}` (column "
            "`segment_ids`) and `qualtrace trace <item id>` prints it.")
    by_section: OrderedDict[str, list[Item]] = OrderedDict()
    for item in listed:
        by_section.setdefault(item.section or "Report", []).append(item)
    excerpts: dict[tuple[str, str], None] = {}  # (segment id, theme) in first-listed order
    for n, (name, found) in enumerate(by_section.items(), start=1):
        parts.append(f"### {md_literal(name)} {{#evidence-{n}}}")
        parts += [_item(data, item, cap, excerpts) for item in found]
    parts.append(_passages(data, excerpts))
    return "\n\n".join(parts)


def passage_anchor(segment_id: str, theme: str = "") -> str:
    """The id of a passage's excerpt (per theme: the theme picks the highlighted words)."""
    return f"p-{item_part(segment_id)}" + (f"--{item_part(theme)}" if theme else "")


def _item(data: ReportData, item: Item, cap: int = MAX_PASSAGES,
          excerpts: dict | None = None) -> str:
    # The anchor is on a heading: Typst makes a heading's label a PDF named destination, so
    # `evidence.pdf#ev-<id>` opens at it, as `evidence.html#ev-<id>` does in a browser.
    head = (f"#### {md_literal(item.label)}: {md_literal(item.value)} \u00b7 item "
            f"`{item.item_id}` {{#{evidence_anchor(item.item_id)}}}")
    lines = ["::: {.evidence}", head, "", f"Query: {md_literal(item.query)}", ""]
    if item.source:
        path, line, column = item.source.rsplit(":", 2)
        lines.append(f"Read from {md_literal(path)}, line {line}, column `{column}` (`qualtrace trace "
                     f"{item.item_id}` checks that the file still holds it).")
    shown = spread(item.segment_ids, MAX_PASSAGES if item.compact else cap)
    if shown and item.compact:
        lines.append(_compact(data, shown))
    elif shown:
        lines.append(_linked(data, shown, item.theme,
                             {} if excerpts is None else excerpts))
    if len(item.segment_ids) > len(shown):
        lines += ["", f"{len(shown)} of the {len(item.segment_ids)} passages are listed, taken "
                  "at even intervals through the full list; all are in "
                  f"`{layout.table('report_numbers')}` (item `{item.item_id}`) and "
                  f"`qualtrace trace {item.item_id}` prints them."]
    for note in item.notes:
        lines += ["", note]
    lines.append(":::")
    return "\n".join(lines)


def _linked(data: ReportData, segment_ids, theme: str, excerpts: dict) -> str:
    """Passages by document and line, each line a link (class `passage`, its segment id in
    `data-segment`) to the passage's excerpt; records the excerpts to print."""
    by_doc: OrderedDict[str, list[str]] = OrderedDict()
    for sid in segment_ids:
        seg = data.segment.get(sid)
        by_doc.setdefault(seg["doc_id"] if seg else "", []).append(sid)
    parts = []
    for doc, sids in by_doc.items():
        if not doc:  # ids missing from segments.csv: said, not linked
            parts.append("Unknown segments " + ", ".join(
                span(f"`{s}` (not in segments.csv)", "passage", data_segment=s) for s in sids))
            continue
        links = []
        for sid in sids:
            excerpts.setdefault((sid, theme), None)
            links.append(f"[{data.segment[sid]['line']}](#{passage_anchor(sid, theme)})"
                         f"{{.passage data-segment=\"{sid}\"}}")
        word = "line" if len(sids) == 1 else "lines"
        parts.append(f"{md_literal(data.short_chapter(doc))}, {word} {', '.join(links)}")
    return f"{len(segment_ids)} passages: " + "; ".join(parts) + "."
def _compact(data: ReportData, segment_ids) -> str:
    """Passages by document and line only (their excerpts are listed under another item).

    One span per document; its `data-segments` attribute holds the full segment ids.
    """
    by_doc: OrderedDict[str, list[str]] = OrderedDict()
    for sid in segment_ids:
        seg = data.segment.get(sid)
        by_doc.setdefault(seg["doc_id"] if seg else "", []).append(sid)
    parts = []
    for doc, sids in by_doc.items():
        lines = ", ".join(str(data.segment[s]["line"]) if s in data.segment else f"`{s}`"
                          for s in sids)
        name = md_literal(data.short_chapter(doc)) if doc else "Unknown segments"
        word = "line" if len(sids) == 1 else "lines"
        # Bracketed, not a native <span>: pandoc holds on to memory for every <span> that
        # shares a line with others (gigabytes for a few hundred such lines), and these
        # short spans cost little to read in the bracketed form.
        parts.append(f"[{name}, {word} {lines}]{{.passages data-segments=\"{' '.join(sids)}\"}}")
    return f"{len(segment_ids)} passages: " + "; ".join(parts) + "."


def _passages(data: ReportData, excerpts: dict) -> str:
    """The Passages section: each listed (passage, theme) once, by document, in text order."""
    parts = ["## Passages {#passages}",
             "Each passage listed above, once for each theme it is counted under (the "
             "highlighted words are where that theme's rule fired), by document and line. "
             "An entry's line numbers link here."]
    by_doc: OrderedDict[str, list[tuple[str, str]]] = OrderedDict()
    # Segment ids number a document's segments in text order.
    for sid, theme in sorted(excerpts, key=lambda key: (data.segment[key[0]]["doc_id"], key)):
        by_doc.setdefault(data.segment[sid]["doc_id"], []).append((sid, theme))
    for n, (doc, keys) in enumerate(by_doc.items(), start=1):
        parts.append(f"### {md_literal(data.chapter(doc))} {{#passages-{n}}}")
        parts += [_passage(data, sid, theme) for sid, theme in keys]
    return "\n\n".join(parts)


def _passage(data: ReportData, segment_id: str, theme: str) -> str:
    seg = data.segment[segment_id]
    text = seg["text"]
    if seg["kind"] in ("key_point", "list_item"):
        text = strip_bullet(text)  # a list marker is layout, not what was said
    start = seg["start"] + len(seg["text"]) - len(text)
    found = data.evidence.get((segment_id, theme)) if theme else None
    focus = (found[0] - start, found[1] - start) if found else None
    where = (f"Line {seg['line']} \u00b7 `{segment_id}` \u00b7 "
             f"{md_literal(seg['kind'].replace('_', ' '))}")
    if theme:
        where += f" \u00b7 {md_literal(data.theme_label(theme))}"
    return (f"::: {{#{passage_anchor(segment_id, theme)} .excerpt "
            f"data-segment=\"{segment_id}\"}}\n"
            f"{where}: {excerpt(text, EXCERPT_CHARS, focus)}\n:::")


def provenance(data: ReportData, renderer: str, rulegraph: tuple[str, str, str] | None,
               rulegraph_dot: str, versions: dict[str, str]) -> str:
    manifest = data.manifest
    parts = ["## Provenance {#provenance}",
             f"{md_literal(renderer)} Every table it reads is in `{layout.PROCESSED}/`; "
             f"`{layout.table('report_numbers')}` lists each number with its query and "
             f"segment ids, and `{layout.PROVENANCE}` the hashes of every output.",
             "### Inputs {#provenance-inputs}"]
    inputs = manifest.get("inputs", [])
    if inputs:
        parts.append("\n".join(
            f"- {md_literal(data.chapter(i.get('doc_id', '')))}: {md_literal(i.get('path', ''))}"
            f"  \n  sha256 {_hash(i.get('sha256', ''))}" for i in inputs[:INPUT_ROWS]))
        if len(inputs) > INPUT_ROWS:
            parts.append(f"The first {INPUT_ROWS} of {len(inputs)} input files are listed; "
                         f"every one, with its sha256, is in `{layout.table('documents')}` and "
                         f"`{layout.PROVENANCE}`.")
    else:
        parts.append("The run manifest lists no inputs.")
    parts.append("### Codebook and configuration {#provenance-config}")
    files = []
    for key, name in (("codebook", "Codebook"), ("config", "Configuration"),
                      ("external_scores", "Scores on other gold corpora")):
        if key not in manifest and key == "external_scores":
            continue  # none named (config validity.external_scores)
        entry = manifest.get(key) or {}
        for one in entry.get("files", [entry]):  # several config files are listed as `files`
            files.append(f"- {name}: {md_literal(one.get('path', '') or 'not recorded')}  \n"
                         f"  sha256 {_hash(one.get('sha256', ''))}")
    parts.append("\n".join(files))
    parts.append("### Software {#provenance-software}")
    software = dict(sorted((manifest.get("software") or {}).items()))
    software.update({k: v for k, v in versions.items() if k not in software})
    parts.append("\n".join(f"- {md_literal(k)} {md_literal(v)}" for k, v in software.items())
                 or "No software versions recorded.")
    parts.append("### Workflow {#provenance-workflow}")
    if rulegraph:
        parts.append("The rules of the workflow and their dependencies (`snakemake "
                     "--rulegraph`, drawn with graphviz `dot`).")
        parts.append(figure(*rulegraph, "fig-rulegraph"))
    else:
        parts.append("graphviz `dot` was not available when the report was built, so the "
                     "rule graph (`snakemake --rulegraph`) is shown as DOT text.")
        parts.append(code_block(rulegraph_dot or "(empty)", "dot"))
    return "\n\n".join(parts)


def _hash(value: str) -> str:
    return f"`{value}`" if _HEX.match(value or "") else md_literal(value or "not recorded")
