"""The HTML report in a real browser (Debian's Chromium driven by Playwright), from disk.

No console errors, no network request, no dialog; clicking a number brings its evidence into
view; on a phone-sized screen the page does not scroll sideways. Screenshots are saved (to
$QUALTRACE_SCREENSHOTS if set, else the test's temporary directory).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from test_report_helpers import INJECTION, build_once

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)",
                allow_module_level=True)

from playwright import sync_api  # noqa: E402 - a test dependency (requirements-dev.lock)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def injection(tmp_path_factory):
    return build_once("injection", INJECTION, tmp_path_factory)


def screenshot_dir(tmp_path: Path) -> Path:
    out = Path(os.environ.get("QUALTRACE_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    return out


def open_report(browser, html: Path, **viewport):
    page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
    seen = {"console": [], "requests": [], "dialogs": [], "errors": []}
    page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    return page, seen


def assert_quiet(seen, html: Path):
    assert seen["console"] == [] and seen["errors"] == [] and seen["dialogs"] == []
    ours = {html.as_uri(), (html.parent / "evidence.html").as_uri()}
    outside = [u for u in seen["requests"] if u.split("#")[0] not in ours
               and not u.startswith("data:")]
    assert outside == [], outside


def test_clicking_a_number_shows_its_evidence(browser, mini_build, tmp_path):
    html = mini_build / "reports/summary.html"
    page, seen = open_report(browser, html)
    link = page.locator("#tbl-themes a.num").first
    href = link.get_attribute("href")
    assert href.startswith("evidence.html#ev-")
    target = "#" + href.split("#", 1)[1]
    value = int(link.inner_text())
    link.click()
    page.wait_for_load_state("load")
    assert page.url == (html.parent / "evidence.html").as_uri() + target
    evidence = page.locator(target)
    sync_api.expect(evidence).to_be_in_viewport()
    # the entry lights up (the report's :target style), and lists the number's passages
    assert page.evaluate(f"getComputedStyle(document.querySelector('{target}'))"
                         ".backgroundColor") == "rgb(255, 246, 213)"
    assert evidence.locator(".passage, .passages").count() == value or (
        target.endswith(("-documents", "-interviews")))
    page.screenshot(path=str(screenshot_dir(tmp_path) / "report-evidence.png"))
    page.goto(html.as_uri())
    page.screenshot(path=str(screenshot_dir(tmp_path) / "report-top.png"))
    assert_quiet(seen, html)
    page.close()


def test_phone_width_page_does_not_scroll_sideways(browser, mini_build, tmp_path):
    html = mini_build / "reports/summary.html"
    page, seen = open_report(browser, html, width=390, height=844)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    page.locator("#themes").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir(tmp_path) / "report-phone.png"))
    assert_quiet(seen, html)
    page.close()


def test_hostile_source_text_runs_nothing(browser, injection, tmp_path):
    html = injection / "reports/summary.html"
    page, seen = open_report(browser, html)
    assert page.evaluate("document.querySelectorAll('script, iframe').length") == 0
    assert page.evaluate("getComputedStyle(document.body).display") != "none"
    body = page.inner_text("body")
    assert '<script>alert("kp-script")</script>' in body
    page.screenshot(path=str(screenshot_dir(tmp_path) / "report-injection.png"), full_page=False)
    assert_quiet(seen, html)
    page.close()


# Computed styles that show the report's own CSS is applied (not the browser's defaults), and
# the page frame: a centred body, the colours, a table of contents without bullets, the headings.
STYLE_PROBE = """() => {
  const style = (selector, ...props) => {
    const found = document.querySelector(selector);
    if (!found) return null;
    const computed = getComputedStyle(found);
    return props.map(p => computed[p]).join(' | ');
  };
  const box = document.body.getBoundingClientRect();
  const right = document.documentElement.clientWidth - box.right;
  return {body: style('body', 'maxWidth', 'paddingLeft', 'paddingRight', 'lineHeight',
                      'fontSize', 'hyphens'),
          centred: box.left > 20 && Math.abs(box.left - right) <= 1,
          page: style('html', 'color', 'backgroundColor'),
          header: style('header', 'textAlign', 'marginBottom'),
          title: style('h1.title', 'fontSize'),
          h2: style('h2', 'fontSize', 'marginTop'),
          toc: style('nav#TOC li', 'listStyleType'),
          tocIndent: style('nav#TOC > ul', 'paddingLeft'),
          tocLink: style('nav#TOC a', 'textDecorationLine', 'color'),
          num: style('a.num', 'textDecorationStyle', 'color'),
          table: style('table', 'display', 'borderCollapse', 'fontSize'),
          th: style('th', 'borderTopWidth', 'paddingLeft', 'textAlign'),
          cell: style('td', 'overflowWrap', 'paddingLeft', 'verticalAlign'),
          code: style('code', 'fontSize', 'whiteSpace')};
}"""


def test_report_css_is_applied_in_both_renders(browser, mini_build, quarto_mini, tmp_path):
    """The Quarto render carries the same styles as the pandoc one (Quarto used to drop them)."""
    styles = {}
    for name, html in (("pandoc", mini_build / "reports/summary.html"),
                       ("quarto", quarto_mini / "summary.html")):
        page, seen = open_report(browser, html)
        styles[name] = page.evaluate(STYLE_PROBE)
        page.screenshot(path=str(screenshot_dir(tmp_path) / f"report-top-{name}.png"))
        assert_quiet(seen, html)
        page.close()
    pandoc = styles["pandoc"]
    assert pandoc["body"].startswith("960px | 50px | 50px")
    assert pandoc["centred"] is True
    assert pandoc["toc"] == "none"
    assert pandoc["num"].startswith("dotted")
    assert pandoc["table"].startswith("block")
    assert pandoc["cell"].startswith("anywhere")
    assert None not in pandoc.values(), pandoc
    differ = {key: (value, styles["quarto"].get(key)) for key, value in pandoc.items()
              if styles["quarto"].get(key) != value}
    assert not differ, f"Quarto's HTML is styled differently from pandoc's: {differ}"
