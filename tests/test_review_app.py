"""The review app (`qualtrace review`) in real headless Chromium (Debian's, via Playwright):
decisions made by clicking land in data/review/<reviewer>.csv, exactly; the token is required;
hostile source text shows literally; concurrent writers lose nothing."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import MINI, ROOT
from qualtrace.review.decisions import read_decisions, text_sha256
from workflow_helpers import make_project, read_rows, snakemake

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
INJECTION = ROOT / "tests" / "fixtures" / "injection"

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)",
                allow_module_level=True)

from playwright import sync_api  # noqa: E402 - a test dependency (requirements-dev.lock)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The mini corpus plus the hostile chapter, coded (the app needs no more than that)."""
    work = make_project(tmp_path_factory.mktemp("review-app"), MINI)
    for raw in (INJECTION / "data" / "raw").iterdir():
        shutil.copy(raw, work / "data" / "raw" / raw.name)
    snakemake(work, "data/processed/codings_auto.csv", "data/processed/facets_auto.csv")
    return work


def start(work: Path, reviewer: str):
    process = subprocess.Popen(
        [sys.executable, "-m", "qualtrace", "review", "--reviewer", reviewer, "--no-browser",
         "--directory", str(work)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=work)
    first = process.stdout.readline().strip()
    match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{20,})", first)
    if not match:
        process.kill()
        raise AssertionError(f"first line is not the URL: {first!r} {process.stderr.read()}")
    return process, first


@pytest.fixture
def app(project):
    decisions = project / "data" / "review"
    shutil.rmtree(decisions, ignore_errors=True)
    process, url = start(project, "alice")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def status(url: str, data: dict | None = None, headers: dict | None = None) -> int:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as err:
        return err.code


def test_decisions_clicked_in_the_browser_are_saved_exactly(project, app, browser, tmp_path):
    segments = {s["segment_id"]: s for s in read_rows(project / "data/processed/segments.csv")}
    requests = []
    page = browser.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.goto(app)
    assert page.locator("#progress").inner_text().startswith("Reviewed 0 of ")

    first = page.locator("article").first
    seg_id = first.get_attribute("id")
    rows = first.locator("tr.coding")
    assert rows.count() >= 2, "the first segment needs two codings for this test"
    accepted = (rows.nth(0).get_attribute("data-facet"), rows.nth(0).get_attribute("data-label"))
    rejected = (rows.nth(1).get_attribute("data-facet"), rows.nth(1).get_attribute("data-label"))
    rows.nth(0).get_by_role("button", name="Accept").click()
    page.wait_for_selector("#saved")
    assert "accept" in page.locator("#saved").inner_text()
    page.locator(f"[id='{seg_id}'] tr.coding").nth(1).get_by_role("button", name="Reject").click()
    page.wait_for_selector("#saved")

    page.get_by_role("link", name="Uncoded segments").click()
    uncoded = page.locator("article").first
    added_to = uncoded.get_attribute("id")
    add_form = uncoded.locator("form.add")
    add_form.locator("select[name=choice]").select_option("theme:resourcing")
    add_form.locator("input[name=note]").fill("money is <em>implied</em>, see 'funding'")
    add_form.get_by_role("button", name="Add").click()
    page.wait_for_selector("#saved")

    page.goto(app + "&status=reviewed")
    page.reload()
    assert page.locator("article").count() == 1
    article = page.locator(f"[id='{seg_id}']")
    assert article.locator("tr.coding").nth(0).locator(".mine").inner_text() == "you: accepted"
    assert article.locator("tr.coding").nth(1).locator(".mine").inner_text() == "you: rejected"
    assert page.locator("#progress").inner_text().startswith("Reviewed 2 of ")
    page.goto(app + "&status=all&theme=resourcing")
    added = page.locator(f"[id='{added_to}'] tr.coding[data-label=resourcing]")
    assert added.locator(".mine").inner_text() == "you: added"
    assert "money is <em>implied</em>" in added.inner_text()
    page.screenshot(path=str(tmp_path / "review-app.png"), full_page=True)
    assert all(r.startswith("http://127.0.0.1:") for r in requests), requests

    decisions = read_decisions([str(project / "data/review/alice.csv")])
    assert [(d.segment_id, d.facet, d.label, d.decision, d.reviewer, d.note, d.text_sha256)
            for d in decisions] == [
        (seg_id, *accepted, "accept", "alice", "", text_sha256(segments[seg_id]["text"])),
        (seg_id, *rejected, "reject", "alice", "", text_sha256(segments[seg_id]["text"])),
        (added_to, "theme", "resourcing", "add", "alice",
         "money is <em>implied</em>, see 'funding'", text_sha256(segments[added_to]["text"]))]


def test_requests_without_the_token_are_refused(app):
    base = app.split("?")[0]
    assert status(base) == 403
    assert status(base + "?token=wrong") == 403
    # The right token through another host name (DNS rebinding) is refused too.
    assert status(app, headers={"Host": "attacker.example"}) == 403
    assert status(base + "decide", {"segment_id": "x", "decision": "add"}) == 403
    assert status(app) == 200


def test_hostile_text_renders_literally(project, app, browser):
    segments = read_rows(project / "data/processed/segments.csv")
    hostile = next(s for s in segments if "<script>" in s["text"] and s["kind"] == "key_point")
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app + "&status=all&doc=" + hostile["doc_id"])
    article = page.locator(f"[id='{hostile['segment_id']}']")
    text = article.locator(".text").inner_text()
    assert '<script>alert("kp-script")</script>' in text
    assert "{{< include /etc/passwd >}}" in text
    assert page.locator("main script").count() == 0 and dialogs == []


def test_two_tabs_and_many_quick_writers_lose_nothing(project, app, browser):
    page_a, page_b = browser.new_page(), browser.new_page()
    page_a.goto(app)
    page_b.goto(app)
    # Both tabs click before either reloads.
    page_a.locator("tr.coding").nth(0).get_by_role("button", name="Accept").click()
    page_b.locator("tr.coding").nth(1).get_by_role("button", name="Reject").click()
    page_a.wait_for_selector("#saved")
    page_b.wait_for_selector("#saved")
    seg_ids = [s["segment_id"] for s in read_rows(project / "data/processed/segments.csv")
               if s["kind"] == "paragraph" and s["boilerplate"] == "false"]
    token = urllib.parse.parse_qs(urllib.parse.urlparse(app).query)["token"][0]
    base = app.split("?")[0] + "decide"

    def writer(k):
        for i in range(15):
            code = status(base, {"token": token, "segment_id": seg_ids[i % len(seg_ids)],
                                 "choice": "theme:stigma_perception", "decision": "add",
                                 "note": f"writer {k} click {i}"})
            assert code in (200, 303)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    decisions = read_decisions([str(project / "data/review/alice.csv")])
    assert len(decisions) == 2 + 4 * 15
    assert sorted(d.note for d in decisions if d.note) == sorted(
        f"writer {k} click {i}" for k in range(4) for i in range(15))
