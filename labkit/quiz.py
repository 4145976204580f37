"""Self-check quizzes from the question bank: ipywidgets in JupyterLab, text with hidden answers in the book.

Each lab ends with one cell, ``labkit.quiz.show(lab=2)``. In JupyterLab every question becomes a small
form: multiple-choice and true/false questions mark a choice at once and explain the answer; numeric
questions accept an answer within the question's tolerance; short-answer questions reveal the model
answer and the marking rubric once the student has written something, so they can mark themselves.

The marking is plain Python (:func:`check_choice`, :func:`check_number`, :func:`reveal_model_answer`),
so tests drive it without a browser; the widgets only display what it returns. A quiz keeps its state in
the running notebook only: nothing is written anywhere and nothing needs a network.

The same output carries a static ``text/html`` version of the quiz (each answer in a collapsed
``<details>``, styled like the book's dropdowns), which the static book shows when its configuration
leaves out the widget view (``nb_mime_priority_overrides``; see the kit's ``_config.yml``).
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets

from labkit import bank
from labkit.bank import Question

MIN_WORDS = 3
"""Words a short answer needs before the model answer is revealed."""

ATTEMPTS_BEFORE_REVEAL = {"multiple-choice": 2, "true-false": 1, "numeric": 3}
"""Wrong attempts after which the right answer is shown anyway."""

_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


@dataclass(frozen=True)
class Feedback:
    """The verdict on one attempt: ``status`` is correct, wrong, invalid or revealed."""

    status: str
    message: str
    reveal: bool = False
    """Whether the answer and its explanation (or rubric) are shown with the message."""

    @property
    def correct(self) -> bool:
        return self.status == "correct"


# --------------------------------------------------------------------------------------- marking

def check_choice(question: Question, choice: str | bool, attempts: int = 1) -> Feedback:
    """Mark a multiple-choice or true/false answer; ``attempts`` counts this one."""
    if question.kind == "true-false":
        given = choice if isinstance(choice, bool) else str(choice).strip().lower() == "true"
    else:
        given = str(choice).strip()
        if given not in question.options:
            return Feedback("invalid", "Choose one of the options.")
    if given == question.answer:
        return Feedback("correct", "Correct.", reveal=True)
    if attempts >= ATTEMPTS_BEFORE_REVEAL[question.kind]:
        return Feedback("wrong", f"Not quite. The answer is {question.answer_text}.", reveal=True)
    return Feedback("wrong", "Not quite. Think again and try another option.")


def parse_number(text: str) -> float | None:
    """Read a student's number: ``24.5``, ``2.45e1``, ``100,480``, ``0,5``, ``1.67 %``; None if it is not one."""
    cleaned = text.strip().replace(" ", "").replace("_", "").rstrip("%").removesuffix("dB")
    cleaned = cleaned.replace("−", "-")
    if _THOUSANDS.fullmatch(cleaned):
        cleaned = cleaned.replace(",", "")
    elif cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        return None


def check_number(question: Question, text: str, attempts: int = 1) -> Feedback:
    """Mark a numeric answer given as text; right when within the question's tolerance."""
    value = parse_number(text)
    if value is None:
        return Feedback("invalid", f"Enter a number, such as 0.25 or 1e-3; got {text.strip()!r}.")
    target, tolerance = float(question.answer), question.tolerance
    if abs(value - target) <= tolerance + 1e-9 * max(1.0, abs(target)):
        return Feedback("correct", "Correct.", reveal=True)
    if attempts >= ATTEMPTS_BEFORE_REVEAL["numeric"]:
        return Feedback("wrong", f"Not quite. The answer is {question.answer_text}.", reveal=True)
    direction = "too high" if value > target else "too low"
    return Feedback("wrong", f"Not quite: {bank.format_number(value)} is {direction}. Try again.")


def reveal_model_answer(question: Question, text: str) -> Feedback:
    """Reveal a short answer's model answer and rubric, but only once the student has written something."""
    if len(text.split()) < MIN_WORDS:
        return Feedback("invalid", "Write your own answer first (a sentence or two); "
                                   "the model answer appears once you have.")
    return Feedback("revealed", "Compare your answer with the model answer and the rubric below.",
                    reveal=True)


# --------------------------------------------------------------------------------------- HTML

def answer_html(question: Question) -> str:
    """The answer with its explanation, or the model answer with its rubric, as HTML."""
    inline = bank.inline_html
    if question.kind == "short-answer":
        rubric = question.rubric
        parts = [f"<p><strong>Model answer.</strong> {inline(question.answer)}</p>",
                 "<ul>",
                 f"<li><strong>Full marks:</strong> {inline(rubric.full)}</li>",
                 f"<li><strong>Partial:</strong> {inline(rubric.partial)}</li>",
                 f"<li><strong>Poor:</strong> {inline(rubric.poor)}</li>",
                 "</ul>"]
    else:
        parts = [f"<p><strong>{inline(question.answer_text)}</strong></p>"]
    if question.explanation:
        parts.append(f"<p>{bank.inline_html(question.explanation)}</p>")
    return "".join(parts)


def question_html(question: Question, number: int) -> str:
    meta = f"{question.id} · {question.kind_label} · {question.difficulty}"
    return (f"<p><strong>{number}.</strong> {bank.inline_html(question.question)} "
            f"<small style=\"opacity: 0.7\">({meta})</small></p>")


def feedback_html(question: Question, feedback: Feedback) -> str:
    colour = {"correct": "#1a7f37", "wrong": "#b35900", "invalid": "#555", "revealed": "#0b5cad"}
    mark = {"correct": "✔ ", "wrong": "✘ "}.get(feedback.status, "")
    text = (f"<p style=\"color: {colour[feedback.status]}\"><strong>{mark}</strong>"
            f"{html.escape(feedback.message)}</p>")
    return text + (answer_html(question) if feedback.reveal else "")


SHORT_ANSWER_NOTE = ("Short answer: write yours in the notebook's quiz, which then shows a model answer "
                     "to compare it with.")
"""What the student book says under a short-answer question instead of its model answer and rubric."""


def static_html(questions: Sequence[Question], title: str, *, model_answers: bool = True) -> str:
    """The quiz as static HTML: each question as text, its answer in a collapsed dropdown.

    With ``model_answers=False`` (the student notebooks and book), a short-answer question shows
    :data:`SHORT_ANSWER_NOTE` instead of its model answer and rubric, which only the instructor edition
    prints. The classes are sphinx-design's, so the book styles these like its own ``{dropdown}``;
    elsewhere (nbconvert, GitHub) they are plain ``<details>``.
    """
    parts = [f"<div class=\"labkit-quiz\"><p><strong>{html.escape(title)}</strong></p>"]
    for number, question in enumerate(questions, start=1):
        parts.append(question_html(question, number))
        if question.kind == "multiple-choice":
            parts.append("<ol type=\"A\">" + "".join(f"<li>{bank.inline_html(option)}</li>"
                                                      for option in question.options) + "</ol>")
        if question.kind == "short-answer" and not model_answers:
            parts.append(f"<p><em>{html.escape(SHORT_ANSWER_NOTE)}</em></p>")
            continue
        parts.append("<details class=\"sd-sphinx-override sd-dropdown sd-card sd-mb-3\">"
                     "<summary class=\"sd-summary-title sd-card-header\">Answer</summary>"
                     f"<div class=\"sd-summary-content sd-card-body\">{answer_html(question)}</div>"
                     "</details>")
    parts.append("</div>")
    return "\n".join(parts)


def static_text(questions: Sequence[Question], title: str) -> str:
    """The quiz as plain text (questions only), for front ends that show neither widgets nor HTML."""
    lines = [title]
    for number, question in enumerate(questions, start=1):
        lines.append(f"{number}. {question.question} ({question.id})")
        lines += [f"   {bank.option_letter(i)}. {option}" for i, option in enumerate(question.options)]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------- widgets

@dataclass
class Card:
    """One question's widgets and what the student has done with it."""

    question: Question
    box: widgets.VBox
    answer: widgets.Widget
    """The input: RadioButtons, ToggleButtons, Text or Textarea."""
    feedback: widgets.HTML
    button: widgets.Button | None = None
    attempts: int = 0
    solved: bool = False


class Quiz:
    """A set of question cards shown together, with a running score of the automatically marked ones."""

    def __init__(self, questions: Sequence[Question], title: str = "Self-check quiz"):
        if not questions:
            raise ValueError("a quiz needs at least one question; check the lab number and stage.")
        self.questions = list(questions)
        self.title = title
        self.score = widgets.HTML()
        self.cards = [self._card(question, number) for number, question in enumerate(self.questions, 1)]
        header = widgets.HTML(f"<h3 style=\"margin-bottom: 0\">{html.escape(title)}</h3>")
        self.widget = widgets.VBox([header, self.score, *[card.box for card in self.cards]])
        self._update_score()

    def card(self, question_id: str) -> Card:
        for card in self.cards:
            if card.question.id == question_id:
                return card
        raise KeyError(f"no question {question_id} in this quiz")

    def _card(self, question: Question, number: int) -> Card:
        text = widgets.HTML(question_html(question, number))
        feedback = widgets.HTML()
        full_width = widgets.Layout(width="auto")
        if question.kind in ("multiple-choice", "true-false"):
            options = list(question.options) if question.kind == "multiple-choice" else ["True", "False"]
            kind = widgets.RadioButtons if question.kind == "multiple-choice" else widgets.ToggleButtons
            answer = kind(options=options, value=None, layout=full_width)
            card = Card(question, widgets.VBox(), answer, feedback)
            answer.observe(lambda change: self._on_choice(card, change["new"]), names="value")
            children = [text, answer, feedback]
        elif question.kind == "numeric":
            unit = f" (in {question.unit})" if question.unit else ""
            answer = widgets.Text(placeholder=f"your answer{unit}")
            button = widgets.Button(description="Check")
            card = Card(question, widgets.VBox(), answer, feedback, button)
            button.on_click(lambda _: self._on_number(card))
            children = [text, widgets.HBox([answer, button]), feedback]
        else:
            answer = widgets.Textarea(placeholder="Write your answer here, then reveal the model answer.",
                                      rows=4, layout=widgets.Layout(width="95%"))
            button = widgets.Button(description="Show model answer", layout=full_width)
            card = Card(question, widgets.VBox(), answer, feedback, button)
            button.on_click(lambda _: self._on_reveal(card))
            children = [text, answer, button, feedback]
        card.box.children = children
        card.box.layout = widgets.Layout(margin="0 0 12px 0")
        return card

    def _on_choice(self, card: Card, choice: str | None) -> None:
        if choice is None:
            return
        card.attempts += 1
        self._show(card, check_choice(card.question, choice, card.attempts))

    def _on_number(self, card: Card) -> None:
        feedback = check_number(card.question, card.answer.value, card.attempts + 1)
        if feedback.status != "invalid":
            card.attempts += 1
        self._show(card, feedback)

    def _on_reveal(self, card: Card) -> None:
        self._show(card, reveal_model_answer(card.question, card.answer.value))

    def _show(self, card: Card, feedback: Feedback) -> None:
        card.feedback.value = feedback_html(card.question, feedback)
        if feedback.correct and not card.solved:
            card.solved = True
            self._update_score()

    def _update_score(self) -> None:
        marked = [card for card in self.cards if card.question.kind != "short-answer"]
        solved = sum(card.solved for card in marked)
        first = sum(card.solved and card.attempts == 1 for card in marked)
        self.score.value = (f"<p>{solved} of {len(marked)} marked questions right ({first} at the first "
                            f"try). Short answers reveal a model answer and rubric to mark yourself.</p>")

    def _repr_mimebundle_(self, **kwargs) -> dict:
        """The widget for JupyterLab, plus static HTML and text for the book and other viewers."""
        data = self.widget._repr_mimebundle_(**kwargs)
        data["text/html"] = static_html(self.questions, self.title)
        data["text/plain"] = static_text(self.questions, self.title)
        return data


# --------------------------------------------------------------------------------------- one call

def show(lab: int | None = None, *, questions: Sequence[Question] | None = None,
         stage: str | Sequence[str] | None = None, n: int | None = None, seed: int = 0,
         title: str | None = None) -> Quiz:
    """The quiz for a lab (the last line of each lab notebook), or for the ``questions`` given.

    ``stage`` keeps only those stages (``"post-lab"``); ``n`` draws that many questions, balanced
    across difficulty, with ``seed``; by default the quiz holds all the lab's questions in the order of
    the lab. Make it the last line of a cell so that Jupyter displays it.
    """
    if questions is None:
        if lab is None:
            raise ValueError("give a lab number, such as show(lab=2), or a list of questions.")
        stages = (stage,) if isinstance(stage, str) else stage
        questions = [q for q in bank.load_bank(lab) if stages is None or q.stage in stages]
        if not questions:
            raise ValueError(f"lab {lab} has no questions for the stage {stage!r}; "
                             f"stages are {', '.join(bank.STAGES)}.")
        if n is not None:
            questions = bank.draw(questions, n, rng=random.Random(seed))
        else:
            questions = sorted(questions, key=lambda q: (bank.STAGES.index(q.stage), q.id))
        title = title or f"Self-check quiz · Lab {lab}: {bank.lab_title(lab)}"
    return Quiz(questions, title=title or "Self-check quiz")


def practice(n: int = 10, *, seed: int = 0, labs: Sequence[int] | None = None) -> Quiz:
    """A practice viva of ``n`` questions drawn across ``labs`` (default: every lab with exercises); change the
    seed for another one. Lab 5."""
    labs = bank.practised_labs() if labs is None else labs
    questions = bank.draw_practice(n, seed=seed, labs=labs)
    labs_text = ", ".join(str(lab) for lab in labs)
    return Quiz(questions, title=f"Practice viva · {n} questions from labs {labs_text} · seed {seed}")


__all__ = ["Card", "Feedback", "Quiz", "check_choice", "check_number", "parse_number", "practice",
           "reveal_model_answer", "show"]
