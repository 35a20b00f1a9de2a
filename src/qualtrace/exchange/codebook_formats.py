"""The codebook in the formats other qualitative-analysis tools import.

- `codebook.qdc`: a REFI-QDA codebook (QDA-XML `urn:QDA-XML:codebook:1.0`), which NVivo,
  ATLAS.ti, MAXQDA and QualCoder import. The same code tree, with the same GUIDs, is the
  CodeBook of the `.qdpx` project export (`qualtrace.exchange.refiqda`), so a coder can load either.
- `codebook_taguette.csv`: the CSV Taguette imports (`tag`, `description`).

The code tree: one code per theme (name = label, description = definition), in codebook order,
then one non-codable parent code per facet (name = facet label) whose children are its values
(name = value label), so a human coder sees and can apply facets as codes. GUIDs are uuid5 over
stable keys (`code:<theme>`, `code:facet:<facet>`, `code:<facet>/<value>`), so the files are
byte-stable and a re-import can map codes back by GUID as well as by name.
"""
from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .. import __version__
from ..common.io import atomic_write_bytes, atomic_write_text, csv_text, spreadsheet_cell

# uuid5(NAMESPACE_URL, "qualtrace:refi-qda"); never change it, or every GUID changes.
GUID_NAMESPACE = uuid.UUID("0fa1c177-af5e-53ea-9527-6a4dd2ca42d9")
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
ORIGIN = f"qualtrace {__version__}"
TAGUETTE_FIELDS = ["tag", "description"]
TAGUETTE_MAX_TAG = 200  # taguette.validate.tag_path
# Okabe-Ito then Tableau 10: distinguishable, colour-blind friendly first; by theme position.
PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
           "#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1",
           "#FF9DA7", "#9C755F", "#BAB0AC", "#000000"]
# Characters XML 1.0 cannot carry (C0 controls other than tab/LF/CR, surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def guid(key: str) -> str:
    """A deterministic GUID for a stable key such as `code:dual_role` or `source:<doc_id>`."""
    return str(uuid.uuid5(GUID_NAMESPACE, key))


def xml_text(value: object) -> str:
    """Text safe for XML 1.0: forbidden characters become U+FFFD, line ends become LF (an XML
    parser would normalise CR anyway; doing it here keeps the bytes what a reader sees)."""
    text = "" if value is None else str(value)
    return _NOT_XML.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))


@dataclass
class CodeNode:
    key: str            # `theme:<id>`, `facet:<id>` or `value:<facet>/<value>`
    guid: str
    name: str
    description: str
    codable: bool = True
    color: str | None = None
    children: list["CodeNode"] = field(default_factory=list)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def code_tree(codebook) -> list[CodeNode]:
    """Themes, then one parent per facet with its values; names unique (casefolded) so tools
    that key codes by name (qc, Taguette) keep them apart."""
    nodes = [CodeNode(f"theme:{t.id}", guid(f"code:{t.id}"), t.label, t.definition,
                      color=PALETTE[i % len(PALETTE)])
             for i, t in enumerate(codebook.themes)]
    for facet in codebook.facets:
        parent = CodeNode(f"facet:{facet.id}", guid(f"code:facet:{facet.id}"), facet.label,
                          getattr(facet, "definition", "") or "", codable=False)
        parent.children = [CodeNode(f"value:{facet.id}/{v.id}", guid(f"code:{facet.id}/{v.id}"),
                                    v.label, v.definition) for v in facet.values]
        nodes.append(parent)
    seen: set[str] = set()
    for node in (n for root in nodes for n in root.walk()):
        if node.name.casefold() in seen:
            node.name = f"{node.name} ({node.key.split(':', 1)[1]})"
        seen.add(node.name.casefold())
    return nodes


def code_index(codebook) -> dict[str, CodeNode]:
    """key -> node for every code in the tree."""
    return {n.key: n for root in code_tree(codebook) for n in root.walk()}


def code_element(node: CodeNode, ns: str) -> ET.Element:
    attrs = {"guid": node.guid, "name": xml_text(node.name),
             "isCodable": "true" if node.codable else "false"}
    if node.color:
        attrs["color"] = node.color
    element = ET.Element(f"{{{ns}}}Code", attrs)
    if node.description:
        ET.SubElement(element, f"{{{ns}}}Description").text = xml_text(node.description)
    for child in node.children:
        element.append(code_element(child, ns))
    return element


def codes_element(codebook, ns: str) -> ET.Element:
    codes = ET.Element(f"{{{ns}}}Codes")
    for node in code_tree(codebook):
        codes.append(code_element(node, ns))
    return codes


def serialize(root: ET.Element, ns: str) -> bytes:
    """Deterministic XML: default namespace, two-space indent, UTF-8, declaration, final LF."""
    ET.register_namespace("", ns)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def codebook_qdc(codebook) -> bytes:
    """The codebook as a REFI-QDA `.qdc` document."""
    root = ET.Element(f"{{{CODEBOOK_NS}}}CodeBook", {"origin": ORIGIN})
    root.append(codes_element(codebook, CODEBOOK_NS))
    return serialize(root, CODEBOOK_NS)


def taguette_rows(codebook) -> list[dict[str, str]]:
    """One tag per theme (its label) and per facet value (`<facet label>: <value label>`)."""
    rows = [{"tag": t.label, "description": t.definition} for t in codebook.themes]
    for facet in codebook.facets:
        rows += [{"tag": f"{facet.label}: {v.label}", "description": v.definition}
                 for v in facet.values]
    seen: set[str] = set()
    for row in rows:
        tag = " ".join(row["tag"].split())  # Taguette strips; keep what it will store
        if not tag or len(tag) > TAGUETTE_MAX_TAG:
            raise ValueError(f"Taguette tag {tag!r} must have 1 to {TAGUETTE_MAX_TAG} characters")
        if tag.casefold() in seen:
            raise ValueError(f"Taguette tag {tag!r} occurs twice; give the labels distinct names")
        seen.add(tag.casefold())
        row["tag"], row["description"] = tag, row["description"].strip()
    return rows


def taguette_csv(codebook) -> str:
    """CSV text for Taguette's codebook import. Taguette guesses the encoding with chardet,
    which can take short UTF-8 for another code page; the writer adds a BOM so it cannot.
    People open this file in spreadsheets too: a cell that would run as a formula (a
    definition starting with '=', '-', ...) is neutralised (labels cannot start so)."""
    return csv_text(TAGUETTE_FIELDS, ({k: spreadsheet_cell(v) for k, v in row.items()}
                                      for row in taguette_rows(codebook)))


def write_qdc(codebook, path) -> None:
    atomic_write_bytes(path, codebook_qdc(codebook))


def write_taguette_csv(codebook, path) -> None:
    atomic_write_text(path, "\ufeff" + taguette_csv(codebook))


__all__ = ["guid", "xml_text", "CodeNode", "code_tree", "code_index", "codes_element",
           "serialize", "codebook_qdc", "taguette_rows", "taguette_csv", "write_qdc",
           "write_taguette_csv", "GUID_NAMESPACE", "CODEBOOK_NS", "PROJECT_NS", "ORIGIN"]
