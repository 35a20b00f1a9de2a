"""`qualtrace review`: a local web app (Flask) to accept, reject and add codings, with memos.

Loopback only, and every request must carry the random token printed in the URL (403 without
it; the Host header must name the loopback address too, so another site cannot reach the app
through DNS rebinding). Source text goes through Jinja2's autoescaping only, never `|safe`.
Each decision is appended to data/review/<reviewer>.csv at once (qualtrace.review.decisions).
"""
from __future__ import annotations

import secrets
import sys
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, abort, redirect, render_template, request

from ..common.io import InputError
from .decisions import (DECISIONS, THEME, append_decisions, check_reviewer, reviewer_file)
from .queue import PAGE_SIZE, Corpus, coding_rows, current, highlight, is_reviewed

FILTERS = ("doc", "theme", "value", "status")
STATUSES = ("unreviewed", "reviewed", "uncoded", "all")


def create_app(root: str | Path, reviewer: str, token: str | None = None) -> Flask:
    check_reviewer(reviewer)
    corpus = Corpus(root)
    app = Flask(__name__)
    app.config.update(TOKEN=token or secrets.token_urlsafe(24), REVIEWER=reviewer,
                      CORPUS=corpus, MAX_CONTENT_LENGTH=1 << 20)
    target = reviewer_file(reviewer, corpus.root)
    shown_target = str(target.relative_to(corpus.root))

    @app.before_request
    def guard():
        given = request.args.get("token") or request.form.get("token") or ""
        if not secrets.compare_digest(given, app.config["TOKEN"]):
            abort(403)
        host = (request.host or "").rsplit(":", 1)[0]
        if host not in ("127.0.0.1", "localhost"):
            abort(403)

    @app.after_request
    def headers(response):
        # Everything the page needs is inline or from this app; nothing else may load.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'self' 'unsafe-inline'; form-action 'self'; "
            "img-src 'self'; base-uri 'none'; frame-ancestors 'none'")
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    def filters() -> dict[str, str]:
        chosen = {k: request.values.get(k, "") for k in FILTERS}
        if chosen["status"] not in STATUSES:
            chosen["status"] = "unreviewed_first"
        return chosen

    def url(**extra) -> str:
        query = {"token": app.config["TOKEN"], **{k: v for k, v in extra.items() if v}}
        return "/?" + urlencode(query)

    @app.get("/")
    def queue():
        chosen = filters()
        decided, problems = current(corpus)
        entries = []
        wanted = [(THEME, chosen["theme"])] if chosen["theme"] else []
        wanted += [tuple(chosen["value"].split(":", 1))] if chosen["value"] else []
        for item in corpus.items.values():
            mine = decided.get(item.segment_id)
            reviewed = mine is not None and is_reviewed(item, mine)
            if chosen["doc"] and item.segment["doc_id"] != chosen["doc"]:
                continue
            if wanted:
                labels = {(c.facet, c.label) for c in item.codings} | {
                    k for k, by in (mine or {}).items()
                    if any(d.decision == "add" for d in by.values())}
                if any(w not in labels for w in wanted):
                    continue
            status = chosen["status"]
            # Uncoded: no theme from the rules (a facet value alone codes no theme).
            if status == "uncoded" and any(c.facet == THEME for c in item.codings):
                continue
            if status in ("unreviewed", "reviewed", "unreviewed_first") and not item.codings:
                continue
            if status == "unreviewed" and reviewed or status == "reviewed" and not reviewed:
                continue
            entries.append((reviewed, item))
        if chosen["status"] == "unreviewed_first":
            entries.sort(key=lambda e: e[0])  # stable: document order within each group
        page = max(1, request.args.get("page", 1, type=int))
        pages = max(1, -(-len(entries) // PAGE_SIZE))
        page = min(page, pages)
        shown = []
        for reviewed, item in entries[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]:
            spans = [(c.evidence[0], c.evidence[1], f"{c.facet}: {c.label}")
                     for c in item.codings if c.evidence]
            shown.append({"item": item, "reviewed": reviewed,
                          "uncoded": not any(c.facet == THEME for c in item.codings),
                          "pieces": highlight(item.segment["text"], spans),
                          "rows": coding_rows(item, decided.get(item.segment_id, {}),
                                              reviewer)})
        done = sum(1 for seg_id, by in decided.items() for facet, label in by
                   if (seg_id, facet, label) in corpus.auto_keys)
        back = {k: v for k, v in chosen.items() if v and v != "unreviewed_first"}
        return render_template(
            "queue.html", shown=shown, filters=chosen, corpus=corpus, reviewer=reviewer,
            token=app.config["TOKEN"], target=shown_target, problems=problems,
            done=done, total=corpus.total, page=page, pages=pages, n_entries=len(entries),
            statuses=STATUSES, back=back, saved=request.args.get("saved", ""),
            page_url=lambda p: url(**back, page=str(p)),
            choices=[(f, lab) for f, labels in corpus.vocabulary.items() for lab in labels])

    @app.post("/decide")
    def decide():
        form = request.form
        item = corpus.items.get(form.get("segment_id", ""))
        facet, label, word = form.get("facet", ""), form.get("label", ""), form.get("decision")
        if ":" in form.get("choice", ""):  # the add form's <select> names facet:label
            facet, label = form["choice"].split(":", 1)
        if item is None or word not in DECISIONS or label not in corpus.vocabulary.get(
                facet, ()):
            abort(400)
        note = " ".join(form.get("note", "").split())  # a memo is one line of text
        append_decisions(target, [{
            "segment_id": item.segment_id, "text_sha256": item.sha, "facet": facet,
            "label": label, "decision": word, "reviewer": reviewer, "note": note}])
        back = {k: form.get(k, "") for k in FILTERS if form.get(k)}
        page = form.get("page", "")
        saved = f"{word} {facet}={label} on {item.segment_id}"
        return redirect(url(**back, page=page, saved=saved) + f"#{item.segment_id}", code=303)

    return app


def serve(root: str | Path, reviewer: str, port: int = 0, open_browser: bool = True) -> None:
    """Start the app on 127.0.0.1; the URL (with its token) is the first line printed."""
    from werkzeug.serving import make_server

    app = create_app(root, reviewer)
    try:
        server = make_server("127.0.0.1", port, app, threaded=True)
    except OSError as err:
        raise InputError(f"cannot listen on 127.0.0.1:{port}: {err.strerror}; choose another "
                         "--port") from None
    address = f"http://127.0.0.1:{server.server_port}/?token={app.config['TOKEN']}"
    print(address, flush=True)
    print(f"Reviewing as {reviewer}: decisions go to "
          f"{reviewer_file(reviewer, '.')}. Afterwards run `snakemake --cores 4` to "
          "regenerate the tables and the report. Ctrl+C stops the app.", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(address)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()
