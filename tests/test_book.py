"""The book's configuration is what we mean, both editions build with warnings as errors, and the student
edition serves no solution: not in its pages, its downloads or its launch links. (test_browser.py opens
both editions in a real browser.)"""

import html as html_module
import re
import sys

import nbformat
import pytest
import yaml

from book_site import ROOT, build, leaks, page_text, solution_needles, toc_pages, words

# jupyter-book silently ignores keys it does not know: every key we use is listed here, so a typo fails.
KNOWN_KEYS = {
    "title": None, "author": None, "copyright": None, "logo": None, "only_build_toc_files": None,
    "exclude_patterns": None, "execute": {"execute_notebooks"},
    "parse": {"myst_enable_extensions"},
    "html": {"use_repository_button", "use_issues_button", "use_edit_page_button", "home_page_in_navbar",
             "favicon", "extra_footer"},
    "launch_buttons": {"notebook_interface", "colab_url", "binderhub_url", "jupyterhub_url"},
    "repository": {"url", "branch", "path_to_book"},
    "sphinx": {"recursive_update", "local_extensions", "config"},
}
LAUNCH_HOSTS = ("colab.research.google.com", "mybinder.org", "/hub/user-redirect/")


def load_config():
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


REPOSITORY = load_config()["repository"]["url"]
"""The book's repository, written once, in _config.yml (a fork changes it there and nowhere else)."""


def test_config_passes_the_jupyter_book_schema():
    """Does _config.yml validate against jupyter-book's own schema?"""
    from jupyter_book.config import validate_yaml

    validate_yaml(load_config(), raise_on_errors=True)


def test_config_uses_only_known_keys():
    """Is every key of _config.yml one we know jupyter-book reads (so none is silently ignored)?"""
    config = load_config()
    unknown = [key for key in config if key not in KNOWN_KEYS]
    for key, allowed in KNOWN_KEYS.items():
        if allowed is not None and isinstance(config.get(key), dict):
            unknown += [f"{key}.{sub}" for sub in config[key] if sub not in allowed]
    assert unknown == []


def test_notebooks_are_never_executed_at_build_time():
    """Is execution off (the string 'off', not YAML false) and only the TOC built?"""
    config = load_config()
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["only_build_toc_files"] is True
    assert config["sphinx"]["recursive_update"] is True
    assert config["sphinx"]["config"]["html_copy_source"] is False
    assert config["sphinx"]["config"]["html_theme_options"]["use_download_button"] is False


def test_repository_and_launch_settings_are_filled_in():
    """Do the repository settings name a GitHub repository, its branch and the book's root, and do the launch
    buttons offer Colab and Binder?"""
    config = load_config()
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", config["repository"]["url"])
    assert config["repository"]["path_to_book"] == "" and config["repository"]["branch"]
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["launch_buttons"]["notebook_interface"] == "jupyterlab"
    assert (ROOT / config["html"]["favicon"]).is_file()


@pytest.mark.parametrize("toc", ["_toc.yml", "_toc_instructor.yml"])
def test_toc_parses_and_every_entry_exists(toc):
    """Does each TOC parse, and does every file it names exist?"""
    from sphinx_external_toc.parsing import parse_toc_yaml

    site = parse_toc_yaml(ROOT / toc)
    missing = [doc for doc in site if not any((ROOT / f"{doc}{ext}").is_file() for ext in (".md", ".ipynb"))]
    assert missing == []


def test_student_toc_holds_no_solutions():
    """Does the student edition's TOC leave the solutions out?"""
    assert "solutions/" not in (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert not [doc for doc in toc_pages("student") if doc.startswith("solutions/")]


def test_instructor_edition_is_the_student_edition_and_more():
    """Does the instructor edition start with every page of the student edition, in the same order?"""
    student = toc_pages("student")
    assert toc_pages("instructor")[:len(student)] == student


def test_every_notebook_is_in_the_book():
    """Is each student notebook in both editions and each solution in the instructor edition (so a new lab
    cannot be forgotten in a TOC)?"""
    student, instructor = set(toc_pages("student")), set(toc_pages("instructor"))
    labs = {f"labs/{p.stem}" for p in (ROOT / "labs").glob("*.ipynb")}
    solutions = {f"solutions/{p.stem}" for p in (ROOT / "solutions").glob("*.ipynb")}
    assert sorted(labs - student) == []
    assert sorted((labs | solutions) - instructor) == []


@pytest.mark.book
def test_student_edition_builds_and_links_every_page():
    """Does the student edition build with warnings as errors and link every page of its TOC?"""
    edition = build("student")
    print(f"student edition: {len(toc_pages('student'))} pages, built in {edition.seconds:.1f} s")
    html = edition.html
    index = (html / "index.html").read_text(encoding="utf-8")
    for doc in toc_pages("student")[1:]:
        assert f'href="{doc}.html"' in index, f"{doc} is not linked from the welcome page's navigation"
        assert (html / f"{doc}.html").is_file()
    assert re.search(r"YOUR CODE HERE", (html / "labs" / "lab1_dense_autoencoder.html").read_text("utf-8"))


@pytest.mark.book
def test_student_edition_serves_no_solution():
    """Does no file of the student site (pages, search index, anything downloadable) hold solution code or a
    model answer, is there no _sources copy or download button, and no link into solutions/?"""
    html = build("student").html
    assert not (html / "_sources").exists()
    assert not (html / "solutions").exists()
    served = sorted(path.relative_to(html / "_notebooks").as_posix() for path in html.rglob("*.ipynb"))
    assert served == sorted(f"labs/{path.name}" for path in (ROOT / "labs").glob("*.ipynb"))
    for name in served:  # the download button's notebooks: the student notebooks, byte for byte
        assert (html / "_notebooks" / name).read_bytes() == (ROOT / name).read_bytes(), name
    found = {}
    for path in html.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".js", ".txt", ".json", ".md") and "_static" not in path.parts:
            found.update({needle: path.relative_to(html) for needle in leaks(page_text(path))})
    assert found == {}, "\n".join(f"{path}: {n.kind} of {n.notebook} cell {n.cell}: {n.text!r}"
                                  for n, path in found.items())
    for path in html.rglob("*.html"):
        page = path.read_text(encoding="utf-8")
        assert "_sources/" not in page, path
        downloads = re.findall(r'class="[^"]*btn-download[^"]*"', page)
        assert downloads == (['class="btn btn-sm btn-download-notebook-button"'] if "labs/" in str(path) else [])
        assert not re.findall(r'(?:href|src)="[^"]*solutions/', page), f"{path} links into solutions/"


@pytest.mark.book
def test_question_bank_shows_students_questions_and_instructors_answers():
    """Does the student edition's question bank show every question, the marked answers folded, and no model
    answer or rubric of a short answer, while the instructor edition's answers page has them all (issue #23)?"""
    from labkit import bank

    questions = bank.load_bank()
    short = [q for q in questions if q.kind == "short-answer"]
    student = page_text(build("student").html / "viva" / "question_bank.html")
    page = (build("student").html / "viva" / "question_bank.html").read_text(encoding="utf-8")
    folds = re.findall(r"<details[^>]*>", page)
    assert len(folds) == len(questions) - len(short)
    assert not [fold for fold in folds if re.search(r"\bopen\b", fold)]
    assert not (build("student").html / "viva" / "question_bank_answers.html").exists()
    answers = page_text(build("instructor").html / "viva" / "question_bank_answers.html")
    for question in questions:
        assert words(question.question) in student and words(question.question) in answers
    for question in short:
        for secret in (question.answer, question.rubric.full, question.rubric.partial, question.rubric.poor):
            assert words(secret) not in student, f"{question.id} shows its answer or rubric to students"
            assert words(secret) in answers, question.id


@pytest.mark.book
def test_launch_buttons_open_the_student_notebooks():
    """Does each lab page offer Colab and Binder, opening labs/<lab>.ipynb of the canonical repository?"""
    html = build("student").html
    for doc in toc_pages("student"):
        if not doc.startswith("labs/"):
            continue
        page = (html / f"{doc}.html").read_text(encoding="utf-8")
        launch = [url for url in re.findall(r'href="([^"]+)"', page) if any(h in url for h in LAUNCH_HOSTS)]
        branch = load_config()["repository"]["branch"]
        owner_repo = REPOSITORY.split("github.com/")[1]
        assert sorted(launch) == [
            f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{doc}.ipynb",
            f"https://mybinder.org/v2/gh/{owner_repo}/{branch}?urlpath=lab/tree/{doc}.ipynb",
        ]


def test_the_repository_address_is_written_only_in_config():
    """Do the book's pages take the repository's address from _config.yml ({{ repository }},
    repository-code blocks) rather than writing it out, so that a fork changes it in one place?"""
    pages = {doc for edition in ("student", "instructor") for doc in toc_pages(edition)}
    written = [doc for doc in sorted(pages) if (ROOT / f"{doc}.md").is_file()
               and REPOSITORY.split("github.com/")[1] in (ROOT / f"{doc}.md").read_text(encoding="utf-8")]
    assert written == []
    assert "{repository}" in (ROOT / "setup.md").read_text(encoding="utf-8")


@pytest.mark.book
def test_pages_show_the_configured_repository():
    """Does the setup page's clone command, built, name the repository of _config.yml?"""
    setup = (build("student").html / "setup.html").read_text(encoding="utf-8")
    text = html_module.unescape(re.sub(r"<[^>]+>", "", setup))
    assert f"git clone {REPOSITORY}" in text and "{repository}" not in text


def test_the_kit_has_a_licence_for_its_code_and_its_text_and_a_citation():
    """Is the code under the MIT licence (LICENSE, as pyproject.toml says), the text under CC BY 4.0
    (LICENSE-TEXT), and does CITATION.cff cite the kit under both, with the book's title?"""
    import tomllib

    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == {"text": "MIT"}
    text_licence = (ROOT / "LICENSE-TEXT").read_text(encoding="utf-8")
    assert "Creative Commons Attribution 4.0 International Public License" in text_licence
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert {"cff-version", "message", "title", "authors"} <= set(citation)
    assert citation["title"] == load_config()["title"] and citation["license"] == ["MIT", "CC-BY-4.0"]
    footer = load_config()["html"]["extra_footer"]
    assert "MIT" in footer and "CC BY 4.0" in footer and "Cite as" in footer


@pytest.mark.parametrize("edition", ["student", "instructor"])
@pytest.mark.book
def test_every_page_shows_the_licences_and_citation_in_its_footer(edition):
    """Does every page of both editions carry the licence and citation footer?"""
    html = build(edition).html
    missing = [doc for doc in toc_pages(edition)
               if 'class="labkit-licence"' not in (html / f"{doc}.html").read_text(encoding="utf-8")]
    assert missing == []


def test_table_columns_keeps_the_named_columns_and_names_a_missing_one():
    """Does the book's table-columns directive keep the named columns in the given order (an experiment's
    name only where asked), keep a | inside a code span, and name a column the table lacks?"""
    sys.path.insert(0, str(ROOT / "_ext"))
    from table_columns import first_table, select

    table = first_table("Intro.\n\n| A | B | C |\n|---|:-:|---|\n| `x|y`: long | 1 | 2 |\n\nAfter.")
    assert select(table, ["C", "A"]) == ["| C | A |", "|---|---|", "| 2 | `x|y`: long |"]
    assert select(table, ["A", "B"], {"A"}) == ["| A | B |", "|---|:-:|", "| `x|y` | 1 |"]
    with pytest.raises(KeyError, match="no column 'D'; the table has A, B, C"):
        select(table, ["A", "D"])


@pytest.mark.book
def test_instructor_edition_builds_with_the_solutions():
    """Does the instructor edition build and show the solutions with their stored figures, solution code and
    model answers (which also proves the student edition's leak check can find them)?"""
    edition = build("instructor")
    print(f"instructor edition: {len(toc_pages('instructor'))} pages, built in {edition.seconds:.1f} s")
    html = edition.html
    solution = (html / "solutions" / "lab1_dense_autoencoder.html").read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" in solution
    assert len(re.findall(r'<img [^>]*src="\.\./_images/', solution)) >= 3, "the figures of the full-scale run"
    shown = " ".join(page_text(path) for path in (html / "solutions").glob("*.html"))
    needles = [n for n in solution_needles() if f"solutions/{n.notebook[:-6]}" in toc_pages("instructor")]
    assert needles and set(leaks(shown, needles)) == set(needles)


def test_welcome_page_lists_every_lab():
    """Does the welcome page's table of labs have a row, with a link, for every lab of the student edition?"""
    index = (ROOT / "index.md").read_text(encoding="utf-8")
    rows = [line for line in index.splitlines() if line.startswith("| {doc}")]
    labs = [doc for doc in toc_pages("student") if doc.startswith("labs/")]
    assert [re.search(r"<(labs/[^>]+)>", row)[1] for row in rows] == labs


def test_welcome_page_gives_each_labs_own_times():
    """Does the welcome page's table give, for each lab, the full-scale and quick-mode times its notebook's header
    states (issue #23: the welcome page said "about 2.5 minutes" where Lab 2 said "under 2 minutes")?"""
    index = (ROOT / "index.md").read_text(encoding="utf-8")
    rows = {re.search(r"<labs/([^>]+)>", line)[1]: [cell.strip() for cell in line.strip("|").split("|")]
            for line in index.splitlines() if line.startswith("| {doc}")}
    for name, cells in rows.items():
        header = nbformat.read(ROOT / "labs" / f"{name}.ipynb", as_version=4).cells[0].source
        header = " ".join(header[header.index("**Time:**"):].split())
        full = re.search(r"\*\*Time:\*\* (.+?) at full scale", header)
        quick = re.search(r"((?:[^;.]|\.(?=\d))+) in quick", header)  # the clause before it; 2.5 is one number
        if full is None:  # a lab without training (Lab 5) gives one plain time
            continue
        assert re.match(re.escape(full[1].lower()) + r"\b", cells[2].lower()), (name, cells[2], full[1])
        assert cells[3].lower() == quick[1].strip().lower(), (name, cells[3], quick[1])


def load_workflow(name):
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    return workflow


def steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_pages_workflow_publishes_the_student_edition():
    """Does the Pages workflow run on pushes to main with the current actions and the permissions Pages needs,
    and build the student edition, warnings as errors, into the folder it uploads?"""
    workflow = load_workflow("pages.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert {"pages": "write", "id-token": "write"}.items() <= workflow["permissions"].items()
    uses = {step["uses"].split("@")[0]: step["uses"].split("@")[1] for step in steps(workflow) if "uses" in step}
    assert {"actions/checkout": "v4", "actions/upload-pages-artifact": "v3",
            "actions/deploy-pages": "v4"}.items() <= uses.items()
    runs = [step["run"] for step in steps(workflow) if "run" in step]
    assert "jupyter-book build . -W -n --keep-going" in runs
    upload = next(step for step in steps(workflow) if step.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "_build/html"
    assert "_toc_instructor" not in (ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8")


def test_tests_workflow_runs_the_readme_test_command():
    """Does the test workflow run, on every push and pull request, the test command the README gives, with a
    browser that the browser test may not skip?"""
    workflow = load_workflow("tests.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = next(step["run"] for step in steps(workflow) if "pytest" in step.get("run", ""))
    assert command in readme
    assert workflow["jobs"]["test"]["env"]["LABKIT_REQUIRE_BROWSER"] == "1"


def test_readme_says_where_ci_has_the_full_datasets():
    """Does the README promise the full datasets only where CI provides them: .ci/run sets
    LABKIT_REQUIRE_FULL_DATA=1 when it finds them, and the GitHub workflow, which has none, is said to skip?"""
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    workflow = load_workflow("tests.yml")
    assert "LABKIT_REQUIRE_FULL_DATA=1" in ci_run and "`.ci/run` provides the data" in readme
    if "LABKIT_DATA_DIR" not in workflow["jobs"]["test"]["env"]:
        assert "the GitHub workflow (`tests.yml`) has no copy of the datasets" in readme
