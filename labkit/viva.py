"""Viva sheets for examiners: a different, reproducible set of questions for each student of a roster.

``labkit viva --lab 2 --roster roster.csv --per-student 5 --seed 7`` reads the roster, draws each
student's questions from the lab's bank (balanced across difficulty, no repeats on a sheet, spread so that
the class meets the whole bank), and writes a printable sheet, one page per student with the rubric
beside each question and space for marks, plus a CSV of the same questions for a marks spreadsheet.
The same roster and seed always give byte-identical files.

The roster is a CSV file with a header naming a ``student_id`` column and a ``name`` column (``id``,
``roll_no`` and ``student_name`` are accepted too); other columns are ignored.

With ``--submissions FOLDER`` (the folder ``labkit grade`` reads: ``STUDENT_ID.ipynb`` or ``STUDENT_ID/``), a
question that has a personal wording (the bank's ``personal``: "Your test BCE was {test_bce:.4f}. ...") is asked
with the student's own figures, read from the ``📌 name = value`` lines that the submitted notebook's stored
outputs hold (:mod:`labkit.figures`). The notebook is untrusted input: it is read as text through
:func:`labkit.grading.submission.load`, never run. Where a figure is missing, the sheet asks the generic
wording and says why. The draw does not depend on the submissions: the same seed gives the same questions.
"""

from __future__ import annotations

import csv
import html
import io
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from labkit import bank, figures
from labkit.bank import Question

MARKS = {"full": 2, "partial": 1, "poor": 0}
"""Marks per question: a full answer earns 2, a partial one 1, a poor one 0."""

FORMATS = ("html", "md")
OUT_DIR = Path("viva_sheets")
"""Where sheets go by default. They name students: keep them out of the book and out of git."""

_ID_COLUMNS = ("student_id", "id", "roll_no", "roll_number", "registration_no")
_NAME_COLUMNS = ("name", "student_name", "full_name")
_MAX_REDRAWS = 50
"""Fresh draws tried before accepting a sheet identical to an earlier student's (tiny banks only)."""


class VivaError(ValueError):
    """The viva sheets cannot be made as asked (bad lab, count or format)."""


class RosterError(VivaError):
    """The roster file is missing, empty or has a bad row; the message names the line."""


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str
    line: int
    """The roster line the student was read from, for messages."""


@dataclass(frozen=True)
class Sheet:
    student: Student
    questions: tuple[Question, ...]
    figures: tuple[tuple[str, float], ...] = ()
    """The student's figures, read from the submitted notebook (with ``--submissions``)."""
    submission: str | None = None
    """None without ``--submissions``; "" when the student's notebook was read; otherwise why it was not."""

    def asked(self, question: Question) -> tuple[str, str]:
        """The question's wording on this sheet, and a note for the examiner on where it comes from: the
        personal wording with the student's figures when the submission states them all, else the generic
        one (the note says which figure was missing, or why the submission could not be read)."""
        if not question.personal or self.submission is None:
            return question.question, ""
        found = dict(self.figures)
        personal = question.personalised(found)
        if personal is not None:
            values = ", ".join(f"{name} = {figures.format_value(found[name])}" for name in question.figures)
            return personal, f"personalised from the submitted notebook: {values}"
        if self.submission:
            return question.question, f"generic wording: {self.submission}"
        missing = ", ".join(name for name in question.figures if name not in found)
        return question.question, f"generic wording: the submitted notebook states no {missing}"


# --------------------------------------------------------------------------------------- roster

def _column(header: list[str], names: Sequence[str]) -> int | None:
    normalised = [cell.strip().lower().replace(" ", "_").replace("-", "_") for cell in header]
    for name in names:
        if name in normalised:
            return normalised.index(name)
    return None


def read_roster(path: str | Path) -> list[Student]:
    """Read the roster; a :class:`RosterError` names the line of the first bad row and what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"{path}: no such roster file.") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path}: not a UTF-8 text file; save the roster as CSV (UTF-8).") from None
    except OSError as error:
        raise RosterError(f"{path}: cannot read the roster ({error.strerror or error}).") from None

    reader = csv.reader(io.StringIO(text, newline=""))
    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        raise RosterError(f"{path}: the roster is empty; expected a header such as student_id,name.")
    header_line = reader.line_num
    id_column, name_column = _column(header, _ID_COLUMNS), _column(header, _NAME_COLUMNS)
    if id_column is None or name_column is None:
        raise RosterError(f"{path}, line {header_line}: the header must name a student_id column and a "
                          f"name column; found {', '.join(repr(cell) for cell in header)}.")

    students: list[Student] = []
    first_line: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            hint = "; put a name that contains a comma in double quotes" if len(row) > len(header) else ""
            raise RosterError(f"{path}, line {line}: expected {len(header)} fields "
                              f"({', '.join(header)}), found {len(row)}{hint}.")
        student_id, name = row[id_column].strip(), row[name_column].strip()
        if not student_id:
            raise RosterError(f"{path}, line {line}: the {header[id_column].strip()} is empty.")
        if not name:
            raise RosterError(f"{path}, line {line}: the {header[name_column].strip()} of {student_id} "
                              f"is empty.")
        if student_id in first_line:
            raise RosterError(f"{path}, line {line}: {student_id} is already on line "
                              f"{first_line[student_id]}; each student must appear once.")
        first_line[student_id] = line
        students.append(Student(student_id, name, line))
    if not students:
        raise RosterError(f"{path}: the roster has a header but no students.")
    return students


# --------------------------------------------------------------------------------------- submissions

def read_figures(folder: str | Path, students: Sequence[Student], *, notebook: str) -> dict[str, tuple[dict, str]]:
    """Each student's figures and a note ("" when read) from their submission in ``folder``: ``STUDENT_ID.ipynb``
    or a folder ``STUDENT_ID/`` holding ``notebook``, as ``labkit grade`` finds them. Nothing is run: the stored
    outputs are read as text (:func:`labkit.figures.from_notebook`)."""
    from labkit.grading import submission

    folder = Path(folder)
    if not folder.is_dir():
        raise VivaError(f"--submissions {folder}: no such folder of submitted notebooks.")
    found, _ = submission.find(folder)
    by_student = {entry.student: entry for entry in found}
    read: dict[str, tuple[dict, str]] = {}
    for student in students:
        entry = by_student.get(student.student_id)
        if entry is None:
            read[student.student_id] = ({}, f"no submission {student.student_id}.ipynb in {folder.name}/")
        elif entry.status is not None:
            read[student.student_id] = ({}, entry.note)
        else:
            try:
                loaded = submission.load(entry.path, notebook)
            except submission.SubmissionError as error:
                read[student.student_id] = ({}, f"the submission could not be read ({error})")
            else:
                read[student.student_id] = (figures.from_notebook(loaded.notebook), "")
    return read


def with_figures(sheets: Sequence[Sheet], read: dict[str, tuple[dict, str]]) -> list[Sheet]:
    """The sheets with each student's figures and note from :func:`read_figures` (the questions unchanged)."""
    return [replace(sheet, figures=tuple(sorted(read[sheet.student.student_id][0].items())),
                    submission=read[sheet.student.student_id][1]) for sheet in sheets]


# --------------------------------------------------------------------------------------- drawing

def draw_sheets(questions: Sequence[Question], students: Sequence[Student], per_student: int,
                seed: int) -> list[Sheet]:
    """One sheet per student, in roster order: balanced across difficulty, no repeats on a sheet.

    The least-used questions go first, so the class meets the whole bank, and no two students get the
    same set while the bank allows it. The same students and seed always give the same sheets.
    """
    rng = random.Random(seed)
    usage: Counter = Counter()
    given: set[frozenset[str]] = set()
    sheets = []
    for student in students:
        for _ in range(_MAX_REDRAWS):
            drawn = bank.draw(questions, per_student, rng=rng, usage=usage)
            if frozenset(q.id for q in drawn) not in given:
                break
        given.add(frozenset(q.id for q in drawn))
        usage.update(q.id for q in drawn)
        sheets.append(Sheet(student, tuple(drawn)))
    return sheets


# --------------------------------------------------------------------------------------- writers

def _rubric_lines(question: Question) -> list[tuple[str, str]]:
    """(label, text) pairs to print beside a question for the examiner."""
    if question.kind == "short-answer":
        rubric = question.rubric
        return [("Model answer", question.answer),
                (f"Full ({MARKS['full']})", rubric.full),
                (f"Partial ({MARKS['partial']})", rubric.partial),
                (f"Poor ({MARKS['poor']})", rubric.poor)]
    lines = [("Answer", question.answer_text)]
    if question.explanation:
        lines.append(("Why", question.explanation))
    lines.append(("Marks", f"{MARKS['full']} right with a sound reason, {MARKS['partial']} right without "
                           f"one, {MARKS['poor']} wrong"))
    return lines


def _total(sheet: Sheet) -> int:
    return MARKS["full"] * len(sheet.questions)


_CSS = """
body { font-family: system-ui, sans-serif; font-size: 10.5pt; margin: 1.5cm; }
h1 { font-size: 15pt; margin: 0 0 4pt 0; }
.sheet + .sheet { page-break-before: always; break-before: page; margin-top: 2cm; }
.who td { padding: 2pt 12pt 2pt 0; }
table.questions { border-collapse: collapse; width: 100%; margin-top: 8pt; }
table.questions th, table.questions td { border: 1px solid #999; padding: 5pt; vertical-align: top; }
td.q { width: 42%; } td.rubric { width: 44%; font-size: 9.5pt; } td.mark { width: 14%; text-align: center; }
td.rubric p, td.q p { margin: 0 0 4pt 0; }
.meta { color: #555; font-size: 9pt; }
.box { display: inline-block; border: 1px solid #333; width: 1.2em; height: 1.2em; margin: 2pt; }
@page { size: A4; margin: 1.2cm; }
@media print { body { margin: 0; } }
""".strip()


def sheets_html(sheets: Sequence[Sheet], *, lab: int, title: str, seed: int) -> str:
    """A printable HTML document, one page per student, the rubric beside each question."""
    inline = bank.inline_html
    out = ["<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">",
           f"<title>Lab {lab} viva sheets (seed {seed})</title>", f"<style>\n{_CSS}\n</style>", "</head>",
           "<body>"]
    for sheet in sheets:
        student = sheet.student
        out += ["<section class=\"sheet\">",
                f"<h1>Lab {lab} viva · {html.escape(title)}</h1>",
                f"<p class=\"meta\">{len(sheet.questions)} questions · seed {seed} · marks "
                f"{MARKS['full']} full, {MARKS['partial']} partial, {MARKS['poor']} poor</p>",
                "<table class=\"who\">",
                f"<tr><td>Student</td><td><strong>{html.escape(student.name)}</strong> "
                f"({html.escape(student.student_id)})</td></tr>",
                "<tr><td>Examiner</td><td>______________________________</td></tr>",
                "<tr><td>Date</td><td>______________</td></tr>",
                "</table>",
                "<table class=\"questions\">",
                "<tr><th>Question</th><th>Answer and rubric</th><th>Mark</th></tr>"]
        for number, question in enumerate(sheet.questions, start=1):
            text, note = sheet.asked(question)
            q_cell = [f"<p><strong>{number}.</strong> {inline(text)}</p>"]
            if question.kind == "multiple-choice":
                q_cell.append("<p>" + "<br>".join(f"{bank.option_letter(i)}. {inline(option)}"
                                                  for i, option in enumerate(question.options)) + "</p>")
            q_cell.append(f"<p class=\"meta\">{question.id} · {question.kind_label} · "
                          f"{question.difficulty}</p>")
            if note:
                q_cell.append(f"<p class=\"meta\">{inline(note)}</p>")
            rubric = "".join(f"<p><strong>{html.escape(label)}:</strong> {inline(text)}</p>"
                             for label, text in _rubric_lines(question))
            boxes = " ".join(f"{mark}<span class=\"box\"></span>" for mark in sorted(MARKS.values()))
            out.append(f"<tr><td class=\"q\">{''.join(q_cell)}</td><td class=\"rubric\">{rubric}</td>"
                       f"<td class=\"mark\">{boxes}</td></tr>")
        out += ["</table>",
                f"<p>Total: ______ / {_total(sheet)} &nbsp;&nbsp; Examiner's signature: "
                "______________________________</p>",
                "<p>Comments:</p><p>&nbsp;</p><p>&nbsp;</p>",
                "</section>"]
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def sheets_markdown(sheets: Sequence[Sheet], *, lab: int, title: str, seed: int) -> str:
    """The sheets as Markdown, one section per student, the rubric beside each question in a table."""
    out = [f"# Lab {lab} viva sheets · {title}", "",
           f"Seed {seed} · {len(sheets)} students · marks {MARKS['full']} full, {MARKS['partial']} "
           f"partial, {MARKS['poor']} poor.", ""]
    for sheet in sheets:
        student = sheet.student
        out += [f"## {student.name} ({student.student_id})", "",
                "Examiner: ______________________  Date: ______________", "",
                "| # | Question | Answer and rubric | Mark |", "|---|---|---|---|"]
        for number, question in enumerate(sheet.questions, start=1):
            q_cell, note = sheet.asked(question)
            if question.kind == "multiple-choice":
                q_cell += "<br>" + "<br>".join(f"{bank.option_letter(i)}. {option}"
                                               for i, option in enumerate(question.options))
            q_cell += f"<br>*{question.id} · {question.kind_label} · {question.difficulty}*"
            if note:
                q_cell += f"<br>*{note}*"
            rubric = "<br>".join(f"**{label}:** {text}" for label, text in _rubric_lines(question))
            out.append(f"| {number} | {_cell(q_cell)} | {_cell(rubric)} | ☐ 0 ☐ 1 ☐ 2 |")
        out += ["", f"Total: ______ / {_total(sheet)}  Signature: ______________________", "",
                "<div style=\"page-break-after: always\"></div>", ""]
    return "\n".join(out).rstrip("\n") + "\n"


CSV_COLUMNS = ("student_id", "name", "lab", "seed", "number", "question_id", "stage", "kind",
               "difficulty", "question", "wording", "answer", "rubric", "max_mark", "mark", "comment")
"""``question`` is the wording asked; ``wording`` says whether it holds the student's own figures, and if not
why (empty where the question has a single wording or no submissions were read)."""


def sheets_csv(sheets: Sequence[Sheet], *, lab: int, seed: int) -> str:
    """One row per student and question, with empty ``mark`` and ``comment`` columns to fill in."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for sheet in sheets:
        for number, question in enumerate(sheet.questions, start=1):
            rubric = " | ".join(f"{label}: {text}" for label, text in _rubric_lines(question)[1:])
            text, note = sheet.asked(question)
            writer.writerow([sheet.student.student_id, sheet.student.name, lab, seed, number, question.id,
                             question.stage, question.kind, question.difficulty, text, note,
                             question.answer_text, rubric, MARKS["full"], "", ""])
    return buffer.getvalue()


# --------------------------------------------------------------------------------------- one call

def write_sheets(lab: int, roster: str | Path, *, per_student: int = 5, seed: int = 0,
                 out: str | Path = OUT_DIR, fmt: str = "html", stages: Sequence[str] | None = None,
                 folder: str | Path = bank.BANK_DIR, submissions: str | Path | None = None,
                 log: Callable[[str], None] = print) -> list[Path]:
    """Draw and write the viva sheets of ``lab`` for ``roster``; returns the sheet and the CSV paths.

    ``submissions``: the folder of the students' submitted notebooks; where a drawn question has a personal
    wording, the sheet asks it with the student's own figures (see the module's docstring).

    Used by ``labkit viva``. Raises :class:`RosterError`, :class:`VivaError`, :class:`labkit.bank.BankError`
    or :class:`labkit.bank.DrawError` with a message for the examiner.
    """
    if fmt not in FORMATS:
        raise VivaError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if per_student < 1:
        raise VivaError(f"--per-student must be at least 1; got {per_student}.")
    students = read_roster(roster)
    log(f"roster: {len(students)} students from {roster}")
    pool = [q for q in bank.load_bank(lab, folder=folder) if stages is None or q.stage in stages]
    if per_student > len(pool):
        which = f" in the stages {', '.join(stages)}" if stages else ""
        raise VivaError(f"lab {lab}'s bank has {len(pool)} questions{which}; cannot put {per_student} "
                        f"different ones on one sheet.")
    quotas = bank.difficulty_quotas(pool, per_student)
    available = Counter(q.difficulty for q in pool)
    log(f"bank: lab {lab} has {len(pool)} questions ("
        + ", ".join(f"{level} {available[level]}" for level in bank.DIFFICULTIES if available[level])
        + f"); each sheet gets {per_student}: "
        + ", ".join(f"{level} {count}" for level, count in quotas.items() if count) + f"; seed {seed}")

    sheets = draw_sheets(pool, students, per_student, seed)
    if submissions is not None:
        from labkit import labs

        read = read_figures(submissions, students, notebook=labs.get(lab).notebook)
        sheets = with_figures(sheets, read)
        personal = sum(1 for sheet in sheets for question in sheet.questions if question.personal)
        asked = sum(1 for sheet in sheets for question in sheet.questions
                    if question.personal and sheet.asked(question)[1].startswith("personalised"))
        log(f"submissions: {sum(1 for _, note in read.values() if not note)} of {len(students)} notebooks "
            f"read from {submissions}; {asked} of {personal} questions with a personal wording are asked "
            "with the student's own figures")
    title = bank.lab_title(lab, folder=folder)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"viva_lab{lab}_seed{seed}"
    writer = sheets_html if fmt == "html" else sheets_markdown
    sheet_path, csv_path = out / f"{stem}.{fmt}", out / f"{stem}.csv"
    sheet_path.write_text(writer(sheets, lab=lab, title=title, seed=seed), encoding="utf-8", newline="\n")
    csv_path.write_text(sheets_csv(sheets, lab=lab, seed=seed), encoding="utf-8", newline="")
    used = len({q.id for sheet in sheets for q in sheet.questions})
    log(f"wrote {sheet_path} ({len(sheets)} sheets; {used} of {len(pool)} questions used)")
    log(f"wrote {csv_path} ({sum(len(sheet.questions) for sheet in sheets)} rows, one per student and "
        f"question)")
    return [sheet_path, csv_path]
