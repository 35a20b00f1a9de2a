"""The report's designer-editable templates (Jinja2): the two documents' layout, section prose
and the styles. Data comes in as values already computed from the tables (numbers as their
Markdown links, source text already escaped by markdown.md_literal), so a template decides
wording and order, never a number. Markdown, not HTML: no autoescaping; undefined names fail.
"""
from __future__ import annotations

from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=None)
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: template_text(name)),
        autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True,
        # `{#id}` is Markdown (a heading's id), so template comments are `{## ... ##}`
        comment_start_string="{##", comment_end_string="##}")


@lru_cache(maxsize=None)
def template_text(name: str) -> str:
    return files(__name__).joinpath(name).read_text(encoding="utf-8")


def render_template(name: str, **values) -> str:
    return _environment().get_template(name).render(**values)
