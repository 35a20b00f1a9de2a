"""The review app's request handling, through Flask's test client on a hand-made run
directory (the browser tests are in test_review_app.py)."""
from __future__ import annotations

import shutil

import pytest

from conftest import ROOT
from qualtrace.common.io import InputError
from qualtrace.common.tables import write_table
from qualtrace.review.app import create_app
from qualtrace.review.decisions import read_decisions, text_sha256

HOST = {"Host": "127.0.0.1:8765"}
TEXT = 'Funding <b>cuts</b> & "waits" hurt.'


@pytest.fixture
def run_dir(tmp_path):
    shutil.copytree(ROOT / "config", tmp_path / "config")
    processed = tmp_path / "data/processed"
    seg = {"segment_id": "d-0001", "doc_id": "d", "kind": "paragraph", "section": "Money",
           "start": 10, "end": 10 + len(TEXT), "line": 3, "text": TEXT,
           "boilerplate": False, "speaker_group_raw": "", "speaker_group": "",
           "interview_id": "", "repeated_across_documents": False}
    other = {**seg, "segment_id": "d-0002", "start": 60, "end": 70, "text": "Plain text",
             "line": 5}
    write_table([seg, other], processed / "segments.csv")
    write_table([{
        "segment_id": "d-0001", "doc_id": "d", "theme": "resourcing", "evidence_start": 10,
        "evidence_end": 17, "evidence_text": "Funding", "rule": "resourcing/money"}],
        processed / "codings_auto.csv")
    write_table([], processed / "facets_auto.csv")
    return tmp_path


def test_pages_escape_text_and_decisions_are_validated(run_dir):
    app = create_app(run_dir, "alice", token="t0k")
    client = app.test_client()
    page = client.get("/?token=t0k", headers=HOST)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<mark title=\"theme: resourcing\">Funding</mark>" in html
    assert "&lt;b&gt;cuts&lt;/b&gt; &amp; &#34;waits&#34; hurt." in html
    assert "Reviewed 0 of 1 automatic codings" in html
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]

    form = {"token": "t0k", "segment_id": "d-0001", "facet": "theme", "label": "resourcing"}
    assert client.post("/decide", data={**form, "decision": "acept"},
                       headers=HOST).status_code == 400
    assert client.post("/decide", data={**form, "label": "nonsense", "decision": "accept"},
                       headers=HOST).status_code == 400
    assert client.post("/decide", data={**form, "segment_id": "d-9999", "decision": "accept"},
                       headers=HOST).status_code == 400
    assert client.post("/decide", data={**form, "decision": "accept"},
                       headers={"Host": "evil.example"}).status_code == 403
    assert client.post("/decide", data={**form, "decision": "accept", "token": "x"},
                       headers=HOST).status_code == 403
    done = client.post("/decide", data={**form, "decision": "accept", "note": "yes\nreally"},
                       headers=HOST)
    assert done.status_code == 303 and "saved=accept" in done.headers["Location"]
    decisions = read_decisions([str(run_dir / "data/review/alice.csv")])
    assert [(d.segment_id, d.label, d.decision, d.note, d.text_sha256) for d in decisions] == [
        ("d-0001", "resourcing", "accept", "yes really", text_sha256(TEXT))]
    html = client.get("/?token=t0k&status=reviewed", headers=HOST).get_data(as_text=True)
    assert "Reviewed 1 of 1 automatic codings" in html and "you: accepted" in html
    uncoded = client.get("/?token=t0k&status=uncoded", headers=HOST).get_data(as_text=True)
    assert 'id="d-0002"' in uncoded and 'id="d-0001"' not in uncoded


def test_a_hand_edited_bad_decision_file_is_shown_not_fatal(run_dir):
    review = run_dir / "data/review"
    review.mkdir(parents=True)
    (review / "bob.csv").write_text("segment_id,text_sha256,facet,label,decision,reviewer,note\n"
                                    f"d-0001,{'a' * 64},theme,resourcing,maybe,bob,\n")
    app = create_app(run_dir, "alice", token="t0k")
    html = app.test_client().get("/?token=t0k", headers=HOST).get_data(as_text=True)
    assert "Not read: " in html and "bob.csv:2: decision &#39;maybe&#39;" in html


def test_without_built_tables_the_app_says_what_to_run(tmp_path):
    shutil.copytree(ROOT / "config", tmp_path / "config")
    with pytest.raises(InputError, match="run `snakemake --cores 4` first"):
        create_app(tmp_path, "alice")
    with pytest.raises(InputError, match="reviewer name"):
        create_app(tmp_path, "../etc/passwd")
