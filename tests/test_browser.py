"""Both editions of the book, served on localhost and opened in headless Chromium as a reader would: every
page of the TOC loads without a console error, every image loads, every internal link resolves, search
works, the student edition shows no solution text, and screenshots are left in _build/screenshots/. On
every page of both editions, at 1280 px: no table or code block is wider than the content column and no
figure is shrunk to less than half its size, no machine path or TensorFlow log line shows, no two pages
share a title (so no worked solution repeats its lab's), and the licence footer is there; each notebook
page's download button serves that page's notebook.

Needs Debian's `chromium` and `chromium-driver` (`apt-get install -y chromium chromium-driver`) and the
`selenium` package (requirements-dev.txt). Without a browser the tests skip and say so, unless
LABKIT_REQUIRE_BROWSER=1 (set by .ci/run once it has installed one), where they fail instead."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from book_site import (KNOWN_LONG_OUTPUT, LINE_LIMIT, ROOT, SCREENSHOTS, build, chromium, leaks, machine_text,
                       serve, solution_needles, toc_pages, words)

pytestmark = pytest.mark.book

EDITIONS = ["student", "instructor"]
SEARCHES = [("sigmoid", "labs/lab1_dense_autoencoder"), ("denoising", "labs/lab2_denoising_autoencoder"),
            ("anomaly", "labs/lab3_latent_space"), ("reproduce", "results")]
"""(word, page it must find): a word from a lab, and that lab's page among the results."""
LAB_SCREENSHOT = ("labs/lab2", "labs/lab1")
"""The lab page to photograph: the first TOC page starting with one of these."""
OFFLINE_OK = ("https://cdn.jsdelivr.net/",)
"""External resources a page may load (MathJax on pages with math): unreachable offline, so their load
failures are not counted as console errors."""
PAGE_TIMEOUT_S = 20


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, shared by the module's tests."""
    with chromium() as driver:
        driver.set_page_load_timeout(PAGE_TIMEOUT_S)
        yield driver


@dataclass
class Page:
    doc: str
    url: str
    title: str
    console_errors: list[str] = field(default_factory=list)
    images: list[tuple[str, int]] = field(default_factory=list)  # (src, naturalWidth)
    links: list[str] = field(default_factory=list)  # absolute URLs of every href and src
    text: str = ""  # every text of the page's DOM, collapsed parts included, reduced with book_site.words
    raw_text: str = ""  # the same, as written
    heading: str = ""  # the page's title as its first heading shows it
    layout: dict = field(default_factory=dict)  # what _LAYOUT measured: column width, what is too wide
    downloads: list[str] = field(default_factory=list)  # URLs of the header's download buttons


@dataclass
class Site:
    edition: str
    base: str
    pages: list[Page]


def _console_errors(driver) -> list[str]:
    errors = []
    for entry in driver.get_log("browser"):
        message = entry["message"]
        if entry["level"] == "SEVERE" and not (message.startswith(OFFLINE_OK) and "Failed to load" in message):
            errors.append(message)
    return errors


_WAIT_FOR_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach(img => { img.loading = "eager"; });
Promise.all(images.map(img => img.complete ? null : new Promise(r => { img.onload = img.onerror = r; })))
  .then(() => done(images.map(img => [img.currentSrc || img.src, img.naturalWidth])));
"""
_DOM_TEXT = """
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode: node =>
  node.parentElement.closest("script, style, noscript") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
const parts = [];
while (walker.nextNode()) parts.push(walker.currentNode.nodeValue);
return parts.join(" ");
"""
_LINKS = """
return Array.from(document.querySelectorAll("[href], [src]")).map(e => e.href || e.src)
  .filter(u => typeof u === "string" && u.length);
"""
_LAYOUT = """
// Every folded part opened (a folded table is still a table), then measured against the content column.
document.querySelectorAll("article details").forEach(d => { d.open = true; });
const column = document.querySelector("article.bd-article");
const style = getComputedStyle(column);
const width = column.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
const tables = [], blocks = [], shrunk = [];
for (const table of column.querySelectorAll("table")) {
  const w = table.getBoundingClientRect().width;
  if (w > width + 1) tables.push([Math.round(w), table.innerText.slice(0, 80)]);
}
for (const pre of column.querySelectorAll("pre")) {
  if (pre.scrollWidth > pre.clientWidth + 1) blocks.push([pre.scrollWidth, pre.innerText]);
}
for (const img of column.querySelectorAll("img")) {
  const shown = img.getBoundingClientRect().width;
  if (img.naturalWidth && shown > 0 && shown < 0.5 * img.naturalWidth)
    shrunk.push([img.naturalWidth, Math.round(shown), (img.alt || img.src).slice(0, 60)]);
}
return {column: Math.round(width), tables: tables, blocks: blocks, shrunk: shrunk,
        pre_font: (column.querySelector("pre") ? getComputedStyle(column.querySelector("pre")).fontSize : "")};
"""
_HEADING = """
const h1 = document.querySelector("article h1");
return h1 ? h1.textContent.replace("#", "").trim() : "";
"""
_DOWNLOADS = """
return Array.from(document.querySelectorAll(".btn-download-notebook-button")).map(a => a.href);
"""


def _visit(driver, base: str, doc: str) -> Page:
    url = f"{base}{doc}.html"
    driver.get(url)
    driver.set_script_timeout(PAGE_TIMEOUT_S)
    page = Page(doc, url, driver.title)
    page.images = [tuple(image) for image in driver.execute_async_script(_WAIT_FOR_IMAGES)]
    page.links = driver.execute_script(_LINKS)
    page.raw_text = driver.execute_script(_DOM_TEXT)
    page.text = words(page.raw_text)
    page.heading = driver.execute_script(_HEADING)
    page.downloads = driver.execute_script(_DOWNLOADS)
    page.console_errors = _console_errors(driver)
    page.layout = driver.execute_script(_LAYOUT)  # last: it opens the folded parts
    return page


@pytest.fixture(scope="module", params=EDITIONS)
def site(request, browser):
    """An edition, built, served on 127.0.0.1 and read page by page in the browser (once per module)."""
    edition = build(request.param)
    with serve(edition.html) as base:
        browser.get(base)  # a first page, so that the theme's first-visit work is not charged to a page
        browser.get_log("browser")
        yield Site(request.param, base, [_visit(browser, base, doc) for doc in toc_pages(request.param)])


def test_every_page_loads_without_console_errors(site):
    """Does every page of the edition's TOC load, with its own title and no error in the browser console?"""
    problems = {page.doc: page.console_errors for page in site.pages if page.console_errors}
    assert problems == {}
    for page in site.pages:
        assert page.title and "404" not in page.title, page.doc
    print(f"{site.edition}: {len(site.pages)} pages loaded: {', '.join(p.doc for p in site.pages)}")


def test_every_image_loads(site):
    """Does every <img> of every page load (a natural width above zero)?"""
    broken = [(page.doc, src) for page in site.pages for src, width in page.images if width <= 0]
    assert broken == []
    print(f"{site.edition}: {sum(len(p.images) for p in site.pages)} images loaded")


def _fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read().decode("utf-8", errors="replace") if url.endswith(".html") else ""
            return response.status, body
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_every_internal_link_resolves(site):
    """Does every link and resource of every page that points into the site answer 200, and does every
    #anchor it names exist on the target page?"""
    internal = sorted({link for page in site.pages for link in page.links if link.startswith(site.base)})
    fetched = {}
    broken = []
    for link in internal:
        target, _, anchor = link.partition("#")
        target = target.split("?")[0]
        if target not in fetched:
            fetched[target] = _fetch(target)
        status, body = fetched[target]
        if status != 200:
            broken.append(f"{link}: HTTP {status}")
        elif anchor and body and f'id="{urllib.parse.unquote(anchor)}"' not in body:
            broken.append(f"{link}: no element with id {anchor!r}")
    assert broken == []
    external = {link for page in site.pages for link in page.links if not link.startswith(site.base)}
    print(f"{site.edition}: {len(internal)} internal links to {len(fetched)} files resolved; "
          f"{len(external)} external links not fetched (offline)")


@pytest.mark.parametrize("word, doc", SEARCHES)
def test_search_finds_a_lab(site, browser, word, doc):
    """Does the book's search page, given a word from a lab, list that lab?"""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{site.base}search.html?q={urllib.parse.quote(word)}")
    results = WebDriverWait(browser, PAGE_TIMEOUT_S).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a"))
    hrefs = [a.get_attribute("href") for a in results]
    assert any(href.split("#")[0].split("?")[0] == f"{site.base}{doc}.html" for href in hrefs), hrefs
    assert _console_errors(browser) == []


def test_student_edition_shows_no_solution_text(site):
    """Does no page of the student edition show solution code or a model answer (and does the instructor
    edition show them all, so that this check can fail)?"""
    shown = {page.doc: leaks(page.text) for page in site.pages}
    if site.edition == "student":
        assert {doc: found for doc, found in shown.items() if found} == {}
    else:
        solution_pages = " ".join(page.text for page in site.pages if page.doc.startswith("solutions/"))
        needles = [n for n in solution_needles() if f"solutions/{n.notebook[:-6]}" in toc_pages("instructor")]
        assert needles and set(leaks(solution_pages, needles)) == set(needles)


_SCROLL_TO = """
const [selector, text] = arguments;
let target = document.querySelector(selector);
if (text) {  // the code cell whose source holds the text, then its output
  const cell = Array.from(document.querySelectorAll(".cell")).find(c => c.innerText.includes(text));
  target = cell ? (cell.querySelector(".cell_output") || cell) : target;
}
if (target) target.scrollIntoView();
"""


def _screenshot(driver, url: str, path: Path, *, selector: str | None = None, text: str | None = None) -> Path:
    driver.get(url)
    if selector:
        driver.execute_script(_SCROLL_TO, selector, text)
    driver.execute_async_script(_WAIT_FOR_IMAGES)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(path)), path
    return path


def test_screenshots_for_a_person_to_look_at(site, browser, record_property):
    """Are screenshots of the welcome page, a lab page, its quiz, the Results page (and, for instructors, a
    worked solution's first figure and Lab 4's confusion matrices) saved in _build/screenshots/?"""
    docs = toc_pages(site.edition)
    lab = next(doc for prefix in LAB_SCREENSHOT for doc in docs if doc.startswith(prefix))
    shots = [_screenshot(browser, site.base + "index.html", SCREENSHOTS / f"{site.edition}-welcome.png"),
             _screenshot(browser, f"{site.base}{lab}.html", SCREENSHOTS / f"{site.edition}-{Path(lab).name}.png"),
             _screenshot(browser, f"{site.base}{lab}.html", SCREENSHOTS / f"{site.edition}-{Path(lab).name}-quiz.png",
                         selector=".labkit-quiz"),
             _screenshot(browser, f"{site.base}results.html", SCREENSHOTS / f"{site.edition}-results.png",
                         selector="table"),
             _screenshot(browser, f"{site.base}results.html", SCREENSHOTS / f"{site.edition}-results-figure.png",
                         selector="figure")]
    solutions = [doc for doc in docs if doc.startswith("solutions/")]
    if solutions:
        shots.append(_screenshot(browser, f"{site.base}{solutions[0]}.html",
                                 SCREENSHOTS / f"{site.edition}-{Path(solutions[0]).name}-figure.png",
                                 selector=".cell_output img"))
        lab4 = next(doc for doc in solutions if "lab4" in doc)
        shots.append(_screenshot(browser, f"{site.base}{lab4}.html",
                                 SCREENSHOTS / f"{site.edition}-{Path(lab4).name}-confusion.png",
                                 selector=".cell_output img",
                                 text="plots.confusion_heatmaps"))
    for shot in shots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000, shot
    record_property("screenshots", [str(s) for s in shots])
    print(f"{site.edition}: screenshots in {SCREENSHOTS}: {', '.join(s.name for s in shots)}")

def _overflowing_blocks(page: Page) -> list[str]:
    """The longest line of each code block wider than the column, less blocks whose only long lines are
    the known ones (book_site.KNOWN_LONG_OUTPUT, printed by a file outside this check's reach)."""
    found = []
    for _, text in page.layout["blocks"]:
        lines = [line for line in text.splitlines() if len(line.rstrip()) > LINE_LIMIT]
        if not lines or any(line.strip() not in KNOWN_LONG_OUTPUT for line in lines):
            found.append(max(text.splitlines(), key=len)[:120])
    return found


def test_nothing_is_wider_than_the_column(site):
    """At 1280 px, is every table and every code block of every page (folded parts opened) within the content
    column, and is no figure shown at less than half its size (its labels would be unreadable)?"""
    problems = {}
    for page in site.pages:
        tables = [f"table {width} px: {text[:60]!r}" for width, text in page.layout["tables"]]
        blocks = [f"code block: {line!r}" for line in _overflowing_blocks(page)]
        shrunk = [f"figure {natural} px shown at {shown} px: {name}" for natural, shown, name in page.layout["shrunk"]]
        if tables or blocks or shrunk:
            problems[page.doc] = tables + blocks + shrunk
    columns = {page.layout["column"] for page in site.pages}
    print(f"{site.edition}: content column {sorted(columns)} px; code in {site.pages[1].layout['pre_font']}")
    assert problems == {}


def test_no_machine_path_or_tensorflow_log_line_shows(site):
    """Does no page show an absolute path of the machine that ran it, or a TensorFlow C++ log line?"""
    found = {page.doc: machine_text(page.raw_text) for page in site.pages}
    assert {doc: hits for doc, hits in found.items() if hits} == {}


def test_no_two_pages_share_a_title(site):
    """Does every page have its own title, so that sidebar and search never list a worked solution under its
    lab's title, and is every worked solution marked as one?"""
    headings = [page.heading for page in site.pages]
    assert all(headings) and len(set(headings)) == len(headings), headings
    for page in site.pages:
        if page.doc.startswith("solutions/"):
            assert page.heading.startswith("Worked solution — Lab "), page.heading
            assert "Worked solution, for instructors" in page.raw_text, page.doc
        else:
            assert not page.heading.startswith("Worked solution"), page.doc
    if site.edition == "instructor":
        labs = {page.heading for page in site.pages if page.doc.startswith("labs/")}
        solutions = {page.heading.removeprefix("Worked solution — ") for page in site.pages
                     if page.doc.startswith("solutions/")}
        assert solutions == labs  # the same labs, told apart by the prefix


def test_every_page_carries_the_licence_footer(site):
    """Does every page show the licences and how to cite the kit at its foot?"""
    missing = [page.doc for page in site.pages if "CC BY 4.0" not in page.raw_text or "Cite as" not in page.raw_text]
    assert missing == []


def test_notebook_pages_download_their_own_notebook(site):
    """Does each notebook page's download button serve that page's notebook, byte for byte (the student
    notebook on a lab page), and do the other pages have none?"""
    for page in site.pages:
        source = ROOT / f"{page.doc}.ipynb"
        if not source.is_file():
            assert page.downloads == [], page.doc
            continue
        assert len(page.downloads) == 1, page.doc
        with urllib.request.urlopen(page.downloads[0], timeout=10) as response:
            assert response.read() == source.read_bytes(), page.doc


def test_lab_pages_show_their_quiz(site):
    """Does every lab page (the student notebooks, in both editions) show its quiz's questions (a static copy;
    the answers of the marked ones folded), instead of a bare quiz.show call with nothing under it?"""
    from labkit import bank

    for page in site.pages:
        if page.doc.startswith("labs/"):
            lab = int(page.doc.split("/lab")[1][0])
            missing = [q.id for q in bank.load_bank(lab) if words(q.question) not in page.text]
            assert missing == [], page.doc
