"""The question bank: pre-lab, in-lab, post-lab and viva questions, one YAML file per lab.

The questions are data, not code: ``labkit/bank/lab<N>.yaml``, whose schema is described at the top of
``lab1.yaml``. :func:`load_file` checks every entry and raises a :class:`BankError` that names the file,
the entry and what is wrong. The bank feeds the self-check quizzes (:mod:`labkit.quiz`), the examiners'
viva sheets (:mod:`labkit.viva`) and the book's question-bank page (:func:`write_page`).

Imports only the standard library and PyYAML, so that it loads fast and without TensorFlow.
"""

from __future__ import annotations

import html
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

BANK_DIR = Path(__file__).with_name("bank")
"""Where the shipped bank files live, one ``lab<N>.yaml`` per lab."""

PAGE = Path("viva") / "question_bank.md"
"""The student edition's page of the whole bank, relative to the repository root; made by :func:`write_page`,
which writes the instructor edition's page, with every answer and rubric, beside it (:func:`answers_page`)."""

STAGES = ("pre-lab", "in-lab", "post-lab", "viva")
KINDS = ("multiple-choice", "true-false", "numeric", "short-answer")
DIFFICULTIES = ("easy", "medium", "hard")
RUBRIC_LEVELS = ("full", "partial", "poor")

KIND_LABELS = {"multiple-choice": "multiple choice", "true-false": "true/false",
               "numeric": "numeric", "short-answer": "short answer"}
STAGE_LABELS = {"pre-lab": "Pre-lab", "in-lab": "In-lab", "post-lab": "Post-lab", "viva": "Viva"}

_COMMON_KEYS = ("id", "stage", "kind", "difficulty", "tags", "question", "answer")
_OPTIONAL_KEYS = ("lab", "source")
"""An entry's lab defaults to its file's; where given, it must agree."""
_PERSONAL_KEY = "personal"
"""A short answer's optional second wording, with the student's own figures: ``Your test BCE was {test_bce:.4f}.
...``; each ``{name}`` is one of the lab's ``FIGURES`` (see :mod:`labkit.figures`), filled in by ``labkit viva
--submissions`` from the student's submitted notebook. The ``question`` stays the generic wording."""
_KIND_KEYS = {  # kind -> (required keys, optional keys) besides the common ones
    "multiple-choice": (("options", "explanation"), ()),
    "true-false": (("explanation",), ()),
    "numeric": (("tolerance", "explanation"), ("unit",)),
    "short-answer": (("rubric",), ("explanation", _PERSONAL_KEY)),
}
_FILE_KEYS = ("lab", "title", "questions")
_ID_PATTERN = re.compile(r"L(\d+)-(\d{2,})")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BALANCE_ORDER = ("medium", "easy", "hard")
"""The order in which a draw hands out questions by difficulty: 5 questions give 2 medium, 2 easy, 1 hard."""


class BankError(ValueError):
    """A bank file, or one of its entries, does not follow the schema described in ``lab1.yaml``."""


class DrawError(ValueError):
    """The bank holds too few questions for the draw that was asked for."""


@dataclass(frozen=True)
class Rubric:
    """What a full, a partial and a poor answer to a short-answer question contain."""

    full: str
    partial: str
    poor: str


@dataclass(frozen=True)
class Question:
    """One entry of the bank, checked. ``answer`` is the option's text, a bool, a number or a model answer."""

    id: str
    lab: int
    stage: str
    kind: str
    difficulty: str
    tags: tuple[str, ...]
    question: str
    answer: str | bool | float
    options: tuple[str, ...] = ()
    explanation: str = ""
    tolerance: float = 0.0
    unit: str = ""
    rubric: Rubric | None = None
    source: str = ""
    personal: str = ""
    """The wording with the student's own figures (short answers only; see :data:`_PERSONAL_KEY`)."""

    @property
    def figures(self) -> tuple[str, ...]:
        """The figures its personal wording names, in order (none without one)."""
        return template_fields(self.personal) if self.personal else ()

    def personalised(self, figures: dict[str, float]) -> str | None:
        """The personal wording with ``figures`` filled in, or None when it has none or a figure is missing."""
        if not self.personal or any(name not in figures for name in self.figures):
            return None
        return self.personal.format(**{name: float(figures[name]) for name in self.figures})

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def answer_text(self) -> str:
        """The answer as a student would write it: option text, True/False, a number with its tolerance."""
        if self.kind == "true-false":
            return "True" if self.answer else "False"
        if self.kind == "numeric":
            unit = f" {self.unit}" if self.unit else ""
            within = f" (± {format_number(self.tolerance)})" if self.tolerance else ""
            return f"{format_number(self.answer)}{unit}{within}"
        if self.kind == "multiple-choice":
            return f"{option_letter(self.options.index(self.answer))}. {self.answer}"
        return str(self.answer)


@dataclass(frozen=True)
class LabBank:
    """The questions of one lab, as read from its file."""

    lab: int
    title: str
    questions: tuple[Question, ...]
    path: Path


def format_number(value: float) -> str:
    """``100480`` for whole numbers, the shortest exact form otherwise (``0.0289``)."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}" if abs(value) >= 1e-4 else repr(value)


def template_fields(text: str) -> tuple[str, ...]:
    """The ``{name}`` fields of a personal wording, in order; ValueError when the text is not a template of
    plain names (no ``{a.b}`` or ``{a[0]}``) whose formats apply to numbers."""
    import string

    names: list[str] = []
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or conversion:
            raise ValueError(f"{{{name}}} is not a figure's name; write {{test_bce}} or {{test_bce:.4f}}")
        try:
            format(0.5, spec or "")
        except ValueError:
            raise ValueError(f"{{{name}:{spec}}} has a format that does not apply to a number") from None
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError("it names no figure; write one as {test_bce} or {test_bce:.4f}")
    return tuple(names)


def option_letter(index: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[index]


# --------------------------------------------------------------------------------------- loading

def load_file(path: str | Path) -> LabBank:
    """Read and check one bank file; raises :class:`BankError` naming the file and the entry at fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BankError(f"{path}: cannot read the bank file ({error.strerror or error}).") from None
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f", line {where.line + 1}" if where is not None else ""
        problem = getattr(error, "problem", None) or "syntax error"
        raise BankError(f"{path}{line}: not valid YAML ({problem}).") from None

    if not isinstance(data, dict):
        raise BankError(f"{path}: expected a mapping with the keys {', '.join(_FILE_KEYS)}; "
                        f"got {type(data).__name__}.")
    unknown = sorted(set(data) - set(_FILE_KEYS))
    missing = [key for key in _FILE_KEYS if key not in data]
    if unknown or missing:
        raise BankError(f"{path}: the file must have exactly the keys {', '.join(_FILE_KEYS)}; "
                        f"missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}.")
    lab, title, entries = data["lab"], data["title"], data["questions"]
    if not _is_int(lab) or lab < 1:
        raise BankError(f"{path}: 'lab' must be a lab number such as 2; got {lab!r}.")
    if not isinstance(title, str) or not title.strip():
        raise BankError(f"{path}: 'title' must be the lab's title; got {title!r}.")
    if not isinstance(entries, list) or not entries:
        raise BankError(f"{path}: 'questions' must be a non-empty list of questions.")

    questions: list[Question] = []
    first_seen: dict[str, int] = {}
    for index, entry in enumerate(entries, start=1):
        question = _parse_entry(entry, lab=lab, where=_where(path, index, entry))
        if question.id in first_seen:
            raise BankError(f"{_where(path, index, entry)}: the id {question.id} is already used by "
                            f"entry {first_seen[question.id]}.")
        first_seen[question.id] = index
        questions.append(question)
    return LabBank(lab=lab, title=title.strip(), questions=tuple(questions), path=path)


def load_banks(folder: str | Path = BANK_DIR) -> list[LabBank]:
    """Every ``lab<N>.yaml`` in ``folder``, checked, in lab order."""
    folder = Path(folder)
    paths = sorted(folder.glob("lab*.yaml"))
    if not paths:
        raise BankError(f"{folder}: no bank files (lab1.yaml, lab2.yaml, ...) found.")
    banks = [load_file(path) for path in paths]
    by_lab: dict[int, Path] = {}
    for bank in banks:
        if bank.lab in by_lab:
            raise BankError(f"{bank.path}: lab {bank.lab} already has a bank file, {by_lab[bank.lab]}.")
        by_lab[bank.lab] = bank.path
    return sorted(banks, key=lambda bank: bank.lab)


def load_bank(lab: int | None = None, *, folder: str | Path = BANK_DIR) -> list[Question]:
    """The questions of one lab, or of every lab when ``lab`` is None. Used by the quizzes and viva sheets."""
    banks = load_banks(folder)
    if lab is None:
        return [question for bank in banks for question in bank.questions]
    for bank in banks:
        if bank.lab == lab:
            return list(bank.questions)
    known = ", ".join(str(bank.lab) for bank in banks)
    raise BankError(f"there is no question bank for lab {lab}; the labs with one are {known}.")


def lab_title(lab: int, *, folder: str | Path = BANK_DIR) -> str:
    for bank in load_banks(folder):
        if bank.lab == lab:
            return bank.title
    raise BankError(f"there is no question bank for lab {lab}.")


def counts(questions: Iterable[Question]) -> dict[int, Counter]:
    """How many questions each lab has of each kind (and in ``"total"``)."""
    table: dict[int, Counter] = {}
    for question in questions:
        row = table.setdefault(question.lab, Counter())
        row[question.kind] += 1
        row["total"] += 1
    return dict(sorted(table.items()))


def _where(path: Path, index: int, entry: object) -> str:
    qid = entry.get("id") if isinstance(entry, dict) else None
    return f"{path}, entry {index} ({qid})" if isinstance(qid, str) else f"{path}, entry {index} (no id)"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(entry: dict, key: str, fail) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        fail(f"'{key}' must be non-empty text; got {value!r}")
    return value.strip()


def _parse_entry(entry: object, *, lab: int, where: str) -> Question:
    def fail(problem: str):
        raise BankError(f"{where}: {problem}.")

    if not isinstance(entry, dict):
        fail(f"expected a mapping of keys (id, kind, question, ...); got {entry!r}")
    kind = entry.get("kind")
    if kind not in KINDS:
        fail(f"'kind' must be one of {', '.join(KINDS)}; got {kind!r}")
    required, optional = _KIND_KEYS[kind]
    missing = [key for key in (*_COMMON_KEYS, *required) if key not in entry]
    if missing:
        fail(f"a {KIND_LABELS[kind]} question needs {', '.join(map(repr, missing))}")
    unknown = sorted(set(entry) - set(_COMMON_KEYS) - set(required) - set(optional) - set(_OPTIONAL_KEYS))
    if unknown:
        allowed = ", ".join((*_COMMON_KEYS, *required, *optional, *_OPTIONAL_KEYS))
        fail(f"unknown key {', '.join(map(repr, unknown))} (a {KIND_LABELS[kind]} question takes {allowed})")

    qid = entry["id"]
    match = _ID_PATTERN.fullmatch(qid) if isinstance(qid, str) else None
    if match is None:
        fail(f"'id' must look like L{lab}-07; got {qid!r}")
    if entry.get("lab", lab) != lab or int(match.group(1)) != lab:
        fail(f"the file is lab {lab}'s bank, but the entry says lab {entry.get('lab', lab)!r} and id {qid}")
    for key, allowed in (("stage", STAGES), ("difficulty", DIFFICULTIES)):
        if entry[key] not in allowed:
            fail(f"'{key}' must be one of {', '.join(allowed)}; got {entry[key]!r}")
    tags = entry["tags"]
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and t.strip() for t in tags):
        fail(f"'tags' must be a non-empty list of words such as [bottleneck, loss]; got {tags!r}")

    fields = dict(id=qid, lab=lab, stage=entry["stage"], kind=kind, difficulty=entry["difficulty"],
                  tags=tuple(tag.strip() for tag in tags), question=_text(entry, "question", fail))
    if "source" in entry:
        fields["source"] = _text(entry, "source", fail)
    if "explanation" in entry:
        fields["explanation"] = _text(entry, "explanation", fail)
    answer = entry["answer"]

    if kind == "multiple-choice":
        options = entry["options"]
        if (not isinstance(options, list) or len(options) < 2
                or not all(isinstance(o, str) and o.strip() for o in options)):
            fail(f"'options' must be a list of at least two answers (text); got {options!r}")
        options = tuple(option.strip() for option in options)
        if len(set(options)) != len(options):
            fail("two of the 'options' are the same")
        if not isinstance(answer, str) or answer.strip() not in options:
            fail(f"'answer' must be the text of one of the options, copied exactly; got {answer!r}")
        fields.update(options=options, answer=answer.strip())
    elif kind == "true-false":
        if not isinstance(answer, bool):
            fail(f"'answer' must be true or false (without quotes); got {answer!r}")
        fields["answer"] = answer
    elif kind == "numeric":
        tolerance = entry["tolerance"]
        if not _is_number(answer):
            fail(f"'answer' must be a number; got {answer!r}")
        if not _is_number(tolerance) or tolerance < 0:
            fail(f"'tolerance' must be a number of at least 0; got {tolerance!r}")
        fields.update(answer=float(answer), tolerance=float(tolerance))
        if "unit" in entry:
            fields["unit"] = _text(entry, "unit", fail)
    else:
        fields["answer"] = _text(entry, "answer", fail)
        rubric = entry["rubric"]
        if not isinstance(rubric, dict) or set(rubric) != set(RUBRIC_LEVELS):
            got = sorted(rubric) if isinstance(rubric, dict) else rubric
            fail(f"'rubric' must have exactly the keys full, partial and poor; got {got!r}")
        fields["rubric"] = Rubric(**{level: _text(rubric, level, fail) for level in RUBRIC_LEVELS})
        if _PERSONAL_KEY in entry:
            personal = _text(entry, _PERSONAL_KEY, fail)
            try:
                template_fields(personal)
            except ValueError as error:
                fail(f"'{_PERSONAL_KEY}' must be the question with the student's figures in braces: {error}")
            fields[_PERSONAL_KEY] = personal
    return Question(**fields)


# --------------------------------------------------------------------------------------- drawing

def difficulty_quotas(questions: Sequence[Question], n: int) -> dict[str, int]:
    """How many questions of each difficulty a draw of ``n`` takes: as even as the bank allows."""
    available = Counter(question.difficulty for question in questions)
    if n < 1:
        raise DrawError(f"cannot draw {n} questions; ask for at least 1.")
    if n > len(questions):
        raise DrawError(f"cannot draw {n} different questions from {len(questions)}; ask for at most "
                        f"{len(questions)}.")
    quotas = {level: 0 for level in DIFFICULTIES if available[level]}
    while sum(quotas.values()) < n:
        for level in _BALANCE_ORDER:
            if sum(quotas.values()) < n and quotas.get(level, 0) < available[level]:
                quotas[level] += 1
    return quotas


def draw(questions: Sequence[Question], n: int, *, rng: random.Random,
         usage: Counter | None = None) -> list[Question]:
    """Draw ``n`` different questions, balanced across difficulty and spread across labs.

    ``usage`` counts how often each question id was drawn before (for a class of viva sheets): the least
    used questions go first, so a class sees the whole bank. The result runs from easy to hard.
    """
    quotas = difficulty_quotas(questions, n)
    usage = usage if usage is not None else Counter()
    order = sorted(questions, key=lambda question: question.id)
    rng.shuffle(order)
    chosen: list[Question] = []
    per_lab: Counter = Counter()
    for _ in range(n):
        candidates = [q for q in order if quotas.get(q.difficulty, 0) > 0 and q not in chosen]
        pick = min(candidates, key=lambda q: (usage[q.id], per_lab[q.lab]))
        chosen.append(pick)
        quotas[pick.difficulty] -= 1
        per_lab[pick.lab] += 1
    return sorted(chosen, key=lambda q: DIFFICULTIES.index(q.difficulty))


def practised_labs() -> list[int]:
    """The labs whose questions a practice viva draws from (every lab but the viva practice itself)."""
    from labkit import labs

    return [lab.number for lab in labs.all_labs() if lab.practised]


def draw_practice(n: int = 10, *, seed: int = 0, labs: Sequence[int] | None = None,
                  stages: Sequence[str] | None = None, folder: str | Path = BANK_DIR) -> list[Question]:
    """A practice viva of ``n`` questions across ``labs`` (default: :func:`practised_labs`); the same seed gives
    the same viva. Used in Lab 5."""
    labs = practised_labs() if labs is None else labs
    pool = [q for q in load_bank(folder=folder) if q.lab in labs and (stages is None or q.stage in stages)]
    return draw(pool, n, rng=random.Random(seed))


# --------------------------------------------------------------------------------------- rendering

def inline_html(text: str) -> str:
    """Escape ``text`` for HTML and turn its Markdown `code` spans into ``<code>``."""
    parts = html.escape(text, quote=False).split("`")
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


SHORT_ANSWER_NOTE = ("*Short answer, in your own words: your examiner marks it against a rubric, and the "
                     "lab's quiz shows a model answer once you have written yours.*")
"""What the student page says under a short-answer question in place of its model answer and rubric."""


def question_markdown(question: Question, *, answers: bool = True) -> str:
    """The question as MyST Markdown, its answer in a collapsed ``dropdown``. Without ``answers`` (the student
    page), a short-answer question shows :data:`SHORT_ANSWER_NOTE` instead of its model answer and rubric."""
    lines = [f"**{question.id}** · {question.kind_label} · {question.difficulty} · "
             f"*{', '.join(question.tags)}*", "", question.question, ""]
    if question.kind == "multiple-choice":
        lines += [f"- {option_letter(i)}. {option}" for i, option in enumerate(question.options)] + [""]
    if question.kind == "short-answer" and not answers:
        return "\n".join([*lines, SHORT_ANSWER_NOTE, ""])
    lines += [":::{dropdown} Answer", *answer_markdown(question), ":::", ""]
    return "\n".join(lines)


def answer_markdown(question: Question) -> list[str]:
    """The model answer, and the explanation or the marking rubric, as Markdown lines."""
    if question.kind == "short-answer":
        rubric = question.rubric
        lines = [f"**Model answer.** {question.answer}", "",
                 f"**Full marks:** {rubric.full}", "",
                 f"**Partial:** {rubric.partial}", "",
                 f"**Poor:** {rubric.poor}"]
    else:
        lines = [f"**{question.answer_text}**"]
    if question.explanation:
        lines += ["", question.explanation]
    if question.personal:
        lines += ["", f"**On a viva sheet with the student's figures** (`labkit viva --submissions`): "
                      f"{question.personal.replace('{', '`{').replace('}', '}`')}"]
    return lines


def to_markdown(banks: Sequence[LabBank], *, answers: bool = False) -> str:
    """A book page of every question, grouped by lab and stage, answers in collapsed dropdowns.

    The student edition's page (``answers=False``) leaves out the short answers' model answers and marking
    rubrics, which would defeat a viva; the instructor edition's page (``answers=True``) has them all."""
    all_questions = [q for bank in banks for q in bank.questions]
    table = counts(all_questions)
    other = PAGE if answers else answers_page(PAGE)
    if answers:
        title = "# Question bank: answers and rubrics"
        intro = ("Every question of the labs' quizzes and vivas, with its model answer and, for a short "
                 "answer, the marking rubric: the page for examiners, in the instructor edition only. "
                 "Students see {doc}`question_bank`, where short answers have neither. Draw viva sheets "
                 "from this bank with `labkit viva`.")
    else:
        title = "# Question bank"
        intro = ("Every question of the labs' quizzes and vivas, for practice: try each one before you "
                 "open its answer. Short answers are yours to write; your examiner marks them against a "
                 "rubric. Practise with the quiz at the end of each lab and with Lab 5.")
    lines = [
        f"<!-- Generated from labkit/bank/*.yaml by `labkit bank --page {PAGE.as_posix()}`, with "
        f"{other.as_posix()}; edit the YAML files, not this page. -->",
        "",
        title,
        "",
        intro,
        "",
        "| Lab | " + " | ".join(KIND_LABELS[kind] for kind in KINDS) + " | total |",
        "|---|" + "---:|" * (len(KINDS) + 1),
    ]
    for lab, row in table.items():
        lines.append(f"| {lab} | " + " | ".join(str(row[kind]) for kind in KINDS) + f" | {row['total']} |")
    lines.append("")
    for bank in banks:
        lines += [f"## Lab {bank.lab}: {bank.title}", ""]
        for stage in STAGES:
            staged = [q for q in bank.questions if q.stage == stage]
            if not staged:
                continue
            lines += [f"### {STAGE_LABELS[stage]}", ""]
            lines += [question_markdown(q, answers=answers) for q in staged]
    return "\n".join(lines).rstrip("\n") + "\n"


def answers_page(path: str | Path = PAGE) -> Path:
    """The instructor edition's page that goes with the student page at ``path``: ``question_bank_answers.md``
    beside ``question_bank.md``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_answers{path.suffix}")


def render_page(folder: str | Path = BANK_DIR, *, answers: bool = False) -> str:
    return to_markdown(load_banks(folder), answers=answers)


def write_page(path: str | Path = PAGE, *, folder: str | Path = BANK_DIR) -> list[Path]:
    """Regenerate the book's question-bank pages from the bank files: the student page at ``path`` and the
    instructor page beside it (:func:`answers_page`). Returns both paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for target, answers in ((path, False), (answers_page(path), True)):
        target.write_text(render_page(folder, answers=answers), encoding="utf-8", newline="\n")
        written.append(target)
    return written


def page_is_current(path: str | Path = PAGE, *, folder: str | Path = BANK_DIR) -> bool:
    """Whether both pages are exactly what :func:`write_page` would write now."""
    path = Path(path)
    return all(target.is_file() and target.read_text(encoding="utf-8") == render_page(folder, answers=answers)
               for target, answers in ((path, False), (answers_page(path), True)))


def main(page: str | Path | None = None, *, check: bool = False, folder: str | Path = BANK_DIR) -> int:
    """``labkit bank``: check every bank file, print the counts, and write or check the book's page."""
    banks = load_banks(folder)
    table = counts(q for b in banks for q in b.questions)
    print("lab  " + "  ".join(f"{KIND_LABELS[kind]:>15}" for kind in KINDS) + "  total")
    for lab, row in table.items():
        print(f"{lab:>3}  " + "  ".join(f"{row[kind]:>15}" for kind in KINDS) + f"  {row['total']:>5}")
    print(f"all {len(banks)} bank files are valid")
    if check:
        path = Path(page or PAGE)
        if page_is_current(path, folder=folder):
            print(f"{path} and {answers_page(path)} are up to date")
            return 0
        print(f"{path} or {answers_page(path)} is out of date: run `labkit bank --page {path}`")
        return 1
    if page is not None:
        for written in write_page(page, folder=folder):
            print(f"wrote {written}")
    return 0
