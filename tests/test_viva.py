"""Viva sheets for examiners: the roster, the per-student draws, the writers and the `labkit viva` command."""

import csv
import io
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from labkit import bank, viva
from labkit.viva import RosterError, VivaError

ROOT = Path(__file__).resolve().parents[1]
FILES = Path(__file__).parent / "files"
ROSTER = FILES / "roster_30.csv"


@pytest.fixture(scope="module")
def students():
    return viva.read_roster(ROSTER)


@pytest.fixture(scope="module")
def lab2_sheets(students):
    return viva.draw_sheets(bank.load_bank(2), students, per_student=5, seed=7)


def test_the_roster_is_read_with_quoted_names_and_extra_columns(students):
    """Are all 30 students read in order, a quoted name with a comma kept whole and the email column ignored?"""
    assert len(students) == 30
    assert students[0].student_id == "S001" and students[1].name == "Kumar, Ravi"
    assert students[-1].line == 31


def test_a_roster_saved_by_a_spreadsheet_with_a_byte_order_mark_is_read(tmp_path):
    """Does a UTF-8 roster with a BOM and Windows line ends still find its student_id column?"""
    path = tmp_path / "roster.csv"
    path.write_bytes("\ufeffStudent ID,Name\r\nS1,Zoë D'Souza\r\n".encode("utf-8"))
    assert viva.read_roster(path) == [viva.Student("S1", "Zoë D'Souza", 2)]


@pytest.mark.parametrize("name, expected", [
    ("roster_empty_name.csv", "line 5: the name of S003 is empty"),
    ("roster_duplicate_id.csv", "line 5: S002 is already on line 3"),
    ("roster_unquoted_comma.csv", "line 3: expected 2 fields (student_id, name), found 3; put a name"),
    ("roster_short_row.csv", "line 3: expected 3 fields (student_id, name, email), found 2."),
    ("roster_bad_header.csv", "line 1: the header must name a student_id column and a name column"),
    ("roster_empty_id.csv", "line 2: the id is empty"),
    ("no_such_roster.csv", "no such roster file"),
])
def test_a_bad_roster_row_is_named_by_its_line(name, expected):
    """Does a bad roster raise a RosterError naming the file, the line and what is wrong?"""
    with pytest.raises(RosterError) as caught:
        viva.read_roster(FILES / name)
    assert str(caught.value).startswith(str(FILES / name))
    assert expected in str(caught.value)


def test_each_sheet_is_balanced_and_has_no_repeats(lab2_sheets):
    """Does every sheet hold 5 different questions: 2 easy, 2 medium and 1 hard, easy ones first?"""
    for sheet in lab2_sheets:
        ids = [q.id for q in sheet.questions]
        assert len(set(ids)) == 5
        assert Counter(q.difficulty for q in sheet.questions) == {"easy": 2, "medium": 2, "hard": 1}
        order = [bank.DIFFICULTIES.index(q.difficulty) for q in sheet.questions]
        assert order == sorted(order)


def test_students_get_different_sets_and_the_class_meets_the_whole_bank(lab2_sheets):
    """Do the 30 students get 30 different sets, using every question of the lab about equally often?"""
    assert len({frozenset(q.id for q in sheet.questions) for sheet in lab2_sheets}) == 30
    usage = Counter(q.id for sheet in lab2_sheets for q in sheet.questions)
    assert set(usage) == {q.id for q in bank.load_bank(2)}
    difficulty = {q.id: q.difficulty for q in bank.load_bank(2)}
    for level in bank.DIFFICULTIES:
        counts = [n for qid, n in usage.items() if difficulty[qid] == level]
        assert max(counts) - min(counts) <= 1


def test_the_same_seed_gives_the_same_sheets_and_another_seed_others(students, lab2_sheets):
    """Is the draw reproducible from the seed, and does a new seed change it?"""
    again = viva.draw_sheets(bank.load_bank(2), students, per_student=5, seed=7)
    other = viva.draw_sheets(bank.load_bank(2), students, per_student=5, seed=8)
    assert again == lab2_sheets
    assert [s.questions for s in other] != [s.questions for s in lab2_sheets]


def test_the_html_sheet_has_a_page_per_student_with_rubric_and_marks(lab2_sheets):
    """Does the HTML give each student a page with the rubric beside each question and boxes for marks?"""
    page = viva.sheets_html(lab2_sheets, lab=2, title="Convolutional denoising autoencoder", seed=7)
    assert page.count('<section class="sheet">') == 30
    assert page.count('<td class="rubric">') == 150 and page.count('<td class="mark">') == 150
    assert ".sheet + .sheet { page-break-before: always;" in page
    assert "Johnson &amp; Johnson &lt;Test&gt;" in page and "<Test>" not in page
    short = next(q for s in lab2_sheets for q in s.questions if q.kind == "short-answer")
    assert f"<strong>Full (2):</strong> {bank.inline_html(short.rubric.full)}" in page


def test_the_markdown_sheet_puts_the_rubric_beside_each_question(lab2_sheets):
    """Does the Markdown sheet hold one table row per question with the rubric and a mark column?"""
    text = viva.sheets_markdown(lab2_sheets, lab=2, title="Convolutional denoising autoencoder", seed=7)
    assert text.count("| Question | Answer and rubric | Mark |") == 30
    assert text.count("☐ 0 ☐ 1 ☐ 2 |") == 150
    assert "## Kumar, Ravi (S002)" in text


def test_the_csv_has_a_row_per_student_and_question_with_empty_marks(lab2_sheets):
    """Does the CSV hold 150 rows that a spreadsheet reads back, with the mark left to fill in?"""
    rows = list(csv.DictReader(io.StringIO(viva.sheets_csv(lab2_sheets, lab=2, seed=7))))
    assert len(rows) == 150
    assert rows[5]["student_id"] == "S002" and rows[5]["name"] == "Kumar, Ravi"
    assert {row["mark"] for row in rows} == {""} and {row["max_mark"] for row in rows} == {"2"}


def test_writing_twice_with_the_same_seed_gives_byte_identical_files(tmp_path):
    """Do two runs with the same roster and seed write exactly the same bytes?"""
    first = viva.write_sheets(2, ROSTER, per_student=5, seed=7, out=tmp_path / "a", log=lambda line: None)
    second = viva.write_sheets(2, ROSTER, per_student=5, seed=7, out=tmp_path / "b", log=lambda line: None)
    assert [p.name for p in first] == ["viva_lab2_seed7.html", "viva_lab2_seed7.csv"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_asking_for_more_questions_than_the_bank_holds_is_refused(tmp_path):
    """Is a sheet larger than the lab's bank refused with both numbers?"""
    with pytest.raises(VivaError, match="lab 2's bank has 17 questions; cannot put 40"):
        viva.write_sheets(2, ROSTER, per_student=40, out=tmp_path, log=lambda line: None)


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "labkit.cli", "viva", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def test_one_command_writes_the_sheets_for_a_30_student_roster(tmp_path):
    """Does `labkit viva --lab 2 --roster ... --per-student 5 --seed 7` exit 0 and write the sheet and CSV?"""
    result = run_cli("--lab", 2, "--roster", ROSTER, "--per-student", 5, "--seed", 7, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "roster: 30 students" in result.stdout and "easy 2, medium 2, hard 1" in result.stdout
    assert (tmp_path / "viva_lab2_seed7.html").is_file() and (tmp_path / "viva_lab2_seed7.csv").is_file()
    markdown = run_cli("--lab", 3, "--roster", ROSTER, "--format", "md", "--out", tmp_path)
    assert markdown.returncode == 0 and (tmp_path / "viva_lab3_seed0.md").is_file()


@pytest.mark.parametrize("args, expected", [
    (["--lab", 2, "--roster", FILES / "roster_duplicate_id.csv"], "line 5: S002 is already on line 3"),
    (["--lab", 9, "--roster", ROSTER], "no question bank for lab 9"),
    (["--lab", 2, "--roster", ROSTER, "--per-student", 0], "--per-student must be at least 1"),
])
def test_bad_input_gives_one_clear_line_and_a_non_zero_exit(tmp_path, args, expected):
    """Does the command fail with exit 1 and a one-line message, without a traceback?"""
    result = run_cli(*args, "--out", tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("labkit viva: error: ") and expected in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --- questions asked with the student's own figures (--submissions) ------------------------------------------

SUBMISSIONS = FILES / "viva_submissions"
VIVA_ROSTER = FILES / "roster_viva.csv"


@pytest.fixture(scope="module")
def personal_sheets():
    """Lab 2's whole bank on each sheet of a 4-student roster, with the fixture submissions: S001 states every
    figure, S002 only val_bce, S003 is not valid JSON, S004 submitted nothing."""
    students = viva.read_roster(VIVA_ROSTER)
    sheets = viva.draw_sheets(bank.load_bank(2), students, per_student=17, seed=7)
    read = viva.read_figures(SUBMISSIONS, students, notebook="lab2_denoising_autoencoder.ipynb")
    return {sheet.student.student_id: sheet for sheet in viva.with_figures(sheets, read)}


def _asked(sheet, qid):
    return sheet.asked(next(q for q in sheet.questions if q.id == qid))


def test_a_question_is_asked_with_the_students_own_figures_where_the_submission_states_them(personal_sheets):
    """Does S001's sheet ask L2-11 with S001's validation BCE and L2-17 with S001's three probe figures, and say
    so to the examiner?"""
    text, note = _asked(personal_sheets["S001"], "L2-11")
    assert text.startswith("Your denoiser's validation binary cross-entropy was 0.0942.")
    assert note == "personalised from the submitted notebook: val_bce = 0.0942"
    text, note = _asked(personal_sheets["S001"], "L2-17")
    assert "scored 95.0% on the 6,272 encoder features and 85.8% on" in text and "scored 93.3%:" in text


def test_figures_are_read_only_from_well_formed_printed_lines(personal_sheets):
    """Are a 📌 line in markdown, one on stderr and one with code after the value all ignored (S001's val_bce is
    its printed 0.0942, and its probe figure the later well-formed line)?"""
    found = dict(personal_sheets["S001"].figures)
    assert found == {"val_bce": 0.0942, "probe_features": 0.9495, "probe_pixels": 0.8575,
                     "probe_untrained": 0.9335}


@pytest.mark.parametrize("student, qid, reason", [
    ("S002", "L2-17", "the submitted notebook states no probe_features, probe_pixels, probe_untrained"),
    ("S003", "L2-11", "could not be read (S003.ipynb is not valid JSON"),
    ("S004", "L2-11", "no submission S004.ipynb in viva_submissions/"),
])
def test_without_the_figure_the_generic_question_is_asked_and_the_sheet_says_why(personal_sheets, student, qid,
                                                                                  reason):
    """Does a sheet fall back to the generic wording, naming the missing figure, the unreadable notebook or the
    missing submission?"""
    question = next(q for q in bank.load_bank(2) if q.id == qid)
    text, note = _asked(personal_sheets[student], qid)
    assert text == question.question and note.startswith("generic wording: ") and reason in note


def test_submissions_change_no_question_drawn_and_nothing_without_a_personal_wording(personal_sheets):
    """Are the questions drawn the same with and without submissions, and a question without a personal wording
    asked as it is, without a note?"""
    students = viva.read_roster(VIVA_ROSTER)
    plain = viva.draw_sheets(bank.load_bank(2), students, per_student=17, seed=7)
    assert [s.questions for s in plain] == [personal_sheets[s.student.student_id].questions for s in plain]
    first = next(q for q in bank.load_bank(2) if not q.personal)
    assert personal_sheets["S001"].asked(first) == (first.question, "")
    assert plain[0].asked(next(q for q in bank.load_bank(2) if q.personal))[1] == ""


def test_the_command_writes_personal_questions_into_the_sheet_and_the_csv(tmp_path):
    """Does `labkit viva --submissions` put S001's figure into the HTML sheet and the CSV, with the wording column
    saying which questions are personal?"""
    result = run_cli("--lab", 2, "--roster", VIVA_ROSTER, "--per-student", 17, "--seed", 7,
                     "--submissions", SUBMISSIONS, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "submissions: 2 of 4 notebooks read" in result.stdout
    page = (tmp_path / "viva_lab2_seed7.html").read_text(encoding="utf-8")
    assert "Your denoiser&#x27;s validation binary cross-entropy was 0.0942." in page or \
        "Your denoiser's validation binary cross-entropy was 0.0942." in page
    rows = list(csv.DictReader(io.StringIO((tmp_path / "viva_lab2_seed7.csv").read_text(encoding="utf-8"))))
    row = next(r for r in rows if r["student_id"] == "S001" and r["question_id"] == "L2-11")
    assert row["question"].startswith("Your denoiser's") and row["wording"].startswith("personalised")
    missing = run_cli("--lab", 2, "--roster", VIVA_ROSTER, "--submissions", tmp_path / "none", "--out", tmp_path)
    assert missing.returncode == 1 and "no such folder" in missing.stderr


def test_every_personal_wording_names_figures_its_lab_states():
    """Does every personal wording in the bank name only figures of its lab's FIGURES, which the solution
    states with labkit.figures.show?"""
    from labkit import labs

    for question in bank.load_bank():
        if question.personal:
            assert set(question.figures) <= set(labs.get(question.lab).constants.FIGURES), question.id
