"""Rendering stays cheap as well as safe: figures embedded by us, not by pandoc's re-serialising
`--embed-resources`; evidence passages as native spans, which pandoc reads in one pass."""
from __future__ import annotations

import json
import re

import pytest

from qualtrace.report.markdown import excerpt, md_literal, span
from qualtrace.report.render import RenderError, embed_images

pypandoc = pytest.importorskip("pypandoc")


def test_images_are_embedded_as_data_uris(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures/a.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    page = (b'<html><head><style>p { color: red }</style></head><body>'
            b'<p>src="https://evil.example/x"&gt; &lt;script&gt; url(https://evil.example)</p>'
            b'<img src="figures/a.svg" alt="A" /></body></html>')
    out = embed_images(page, tmp_path)
    assert b'<img src="data:image/svg+xml;base64,PHN2Zy' in out
    assert out.replace(out[out.index(b"data:"):out.index(b'" alt')], b"figures/a.svg") == page


@pytest.mark.parametrize("page", [
    b'<script src="https://evil.example/x.js"></script>',
    b'<link rel="stylesheet" href="https://evil.example/x.css">',
    b'<iframe src="data:text/html,x"></iframe>',
    b'<img src="https://evil.example/x.png">',
    b'<img src="../outside.svg">',
    b'<img src="data:image/png;base64," srcset="https://evil.example/x.png 2x">',
    b'<div style="background: url(https://evil.example/x.png)">x</div>',
    b'<style>@import "https://evil.example/x.css";</style>',
])
def test_a_page_that_would_load_anything_is_refused(tmp_path, page):
    with pytest.raises(RenderError):
        embed_images(page, tmp_path)


def test_native_span_reads_like_the_bracketed_span():
    text = excerpt('He said "<b>x</b>" ... [a](b) {.cls} </span> `code` $x$', 300, (8, 16))
    native = "1. " + span(f"Ch\\. 1, line 2: {text}", "passage", data_segment="d-0001 d-0002")
    bracketed = f'1. [Ch\\. 1, line 2: {text}]{{.passage data-segment="d-0001 d-0002"}}'
    trees = [convert(md) for md in (native, bracketed)]
    assert trees[0] == trees[1]
    assert span_attr(trees[0]) == ["", ["passage"], [["data-segment", "d-0001 d-0002"]]]


def test_native_span_attribute_holds_any_text():
    odd = 'a "quoted" & <odd> \\ value'
    tree = convert("1. " + span("x", "passage", data_segment=odd))
    assert span_attr(tree) == ["", ["passage"], [["data-segment", odd]]]


def convert(markdown: str) -> list:
    return json.loads(pypandoc.convert_text(markdown, "json", format="markdown"))["blocks"]


def span_attr(blocks: list) -> list:
    """The attributes of the span that makes up the first item of the first (ordered) list."""
    item = blocks[0]["c"][1][0]
    return item[0]["c"][0]["c"][0]


def test_typst_literal_rewrites_the_json_like_a_walk_of_the_ast():
    from qualtrace.report.render import typst_literal

    texts = ['a...b', '....', '-?-?', 'x-?...y', '"quoted..." and \\...', 'é...ü-?', 'plain',
             'tab\there...', '…', 'a.. .. -- ?-']
    body = "\n\n".join(md_literal(t) for t in texts)
    source = f"---\ntitle: {json.dumps('T...itle -? x')}\n---\n\n{body}\n\n`code ... -?`\n"
    ast = pypandoc.convert_text(source, "json", format="markdown").encode("utf-8")
    assert json.loads(typst_literal(ast)) == walk(json.loads(ast))
    out = typst_literal(ast)
    assert out.count(b'"RawInline"') == 12 and b'"code ... -?"' in out  # code is left alone


def walk(node):
    """The reference rewrite: split every Str around `...` and `-?` into raw Typst."""
    if isinstance(node, list):
        out = []
        for item in node:
            if isinstance(item, dict) and item.get("t") == "Str":
                out += [{"t": "RawInline", "c": ["typst", RAW[p]]} if p in RAW
                        else {"t": "Str", "c": p}
                        for p in re.split(r"(\.\.\.|-\?)", item["c"]) if p]
            else:
                out.append(walk(item))
        return out
    if isinstance(node, dict):
        return {key: walk(value) for key, value in node.items()}
    return node


RAW = {"...": "\\.\\.\\.", "-?": "-\\?"}
