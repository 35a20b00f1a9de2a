"""REFI-QDA (QDA-XML 1.0) exchange: the coded corpus out as a `.qdpx` project, the codebook as
`.qdc` and Taguette CSV, and a coder's `.qdpx` back in as gold units. The command line is
`qualtrace export qdpx|qdc|taguette`, `qualtrace import-gold` and `qualtrace validate`
(qualtrace.cli.main.exchange).

Exports are validated against src/qualtrace/schemas/refi-qda/*.xsd with libxml2 (lxml), streamed:
any size, constant memory (see qdpx_export.validate_xml). Files from outside are refused
before they are parsed when they declare a DOCTYPE (exchange.xmlguard) or their archive is
over the limits (qdpx_read.open_archive); every refusal is an InputError naming
`FILE[: MEMBER]` and what is wrong.
"""
from __future__ import annotations

from pathlib import Path

from ..common.io import paused_gc
from .codebook_formats import codebook_qdc, write_qdc, write_taguette_csv
from .qdpx_export import (SCHEMA_DIR, ProjectXml, XsdValidationError, build_project,
                          source_date_epoch, validate_xml, write_project, write_qdpx, zip_bytes)
from .qdpx_read import (Coding, Project, anchor_for, open_archive, open_member, project_member,
                        qdpx_to_gold, read_qdpx)

__all__ = ["export_qdpx", "build_project", "zip_bytes", "write_qdpx", "read_qdpx",
           "qdpx_to_gold", "anchor_for", "validate_file", "validate_xml", "Project", "Coding",
           "ProjectXml", "write_project", "XsdValidationError", "SCHEMA_DIR", "export_qdc",
           "export_taguette"]


def _validate(source, schema: str, name: str) -> str:
    """source: bytes or a binary file object (streamed); `name` leads the error message."""
    try:
        validate_xml(source, schema)
    except XsdValidationError as err:
        raise XsdValidationError(f"{name} {err}") from err
    return f"valid against {schema}"


def export_qdpx(output, *, codebook, documents, segments, codings, facets,
                name: str = "qualtrace", validate: bool = True) -> str:
    """Read the tables and raw files, write the `.qdpx`; return a one-line summary."""
    with paused_gc():
        return _export(output, validate, codebook=codebook, documents=documents,
                       segments=segments, codings=codings, facets=facets, name=name)


def _export(output, validate, *, codebook, documents, segments, codings, facets, name) -> str:
    from ..coding.codebook import load_codebook
    from ..common.io import read_raw, sha256_file
    from ..common.tables import read_table, records

    cb = load_codebook(codebook, terms=False)
    tables = {"documents": documents, "segments": segments, "codings": codings,
              "facets": facets}
    rows = {key: records(read_table(path, key)) for key, path in tables.items()}
    raw_texts = {d["doc_id"]: read_raw(d["path"]) for d in rows["documents"]}
    meta = cb.raw if isinstance(getattr(cb, "raw", None), dict) else {}
    inputs = "; ".join(f"{Path(p).name} {sha256_file(p)}"
                       for p in [codebook, *tables.values()])
    description = (f"Coded corpus exported by qualtrace: {len(rows['documents'])} documents, "
                   f"{len(rows['codings'])} theme codings, {len(rows['facets'])} facet codings, "
                   f"codebook {meta.get('codebook', '')} version {meta.get('version', '')}. "
                   "Each selection spans one segment (its id follows the `line:N` prefix of the "
                   "selection name); its description gives the evidence span (code points, end "
                   "exclusive) and the codebook rule that fired. Inputs (SHA-256): " + inputs)
    project = ProjectXml(cb, rows["documents"], rows["segments"], rows["codings"],
                         rows["facets"], raw_texts, name=name, description=description,
                         epoch=source_date_epoch(),
                         table_names={k: str(v) for k, v in tables.items()})
    try:
        write_project(output, project, validate=validate)
    except XsdValidationError as err:
        raise XsdValidationError(f"{output}: project.qde {err}; nothing was written") from err
    status = "valid against Project.xsd" if validate else "not validated"
    return f"{output}: {project.n_sources} sources, {project.n_selections} selections; {status}"


def validate_file(path) -> str:
    """Validate a `.qdpx` (its project.qde) or `.qdc` against the REFI-QDA schemas."""
    path = Path(path)
    if path.suffix.lower() == ".qdpx":
        with open_archive(path) as archive:
            name = project_member(archive, path)
            with open_member(archive, name, path) as member:
                return f"{path}: " + _validate(member, "Project.xsd", f"{path}: {name}")
    with open(path, "rb") as handle:
        return f"{path}: " + _validate(handle, "Codebook.xsd", f"{path}:")


def export_qdc(codebook, output, *, validate: bool = True) -> str:
    """Write the codebook as REFI-QDA `.qdc`, validated first unless told not to."""
    from ..coding.codebook import load_codebook

    cb = load_codebook(codebook, terms=False)
    status = "" if not validate else _validate(codebook_qdc(cb), "Codebook.xsd",
                                               f"{output}: not written, it")
    write_qdc(cb, output)
    return f"wrote {output} ({status or 'not validated'})"


def export_taguette(codebook, output) -> str:
    """Write the codebook as the CSV Taguette imports."""
    from ..coding.codebook import load_codebook

    write_taguette_csv(load_codebook(codebook, terms=False), output)
    return f"wrote {output}"
