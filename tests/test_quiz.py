"""The self-check quizzes: marking, the widgets' callbacks (driven without a browser) and the static output."""

import re
from pathlib import Path

import nbformat
import pytest

from labkit import bank, quiz
from labkit.quiz import check_choice, check_number, parse_number, reveal_model_answer

ROOT = Path(__file__).resolve().parents[1]


def question(qid):
    lab = int(qid[1])
    return next(q for q in bank.load_bank(lab) if q.id == qid)


MC, TF, NUMERIC, SHORT = question("L2-01"), question("L2-05"), question("L1-04"), question("L2-08")
"""A multiple-choice, a true/false, a numeric (24.5 ± 0.05) and a short-answer question."""


def test_a_right_choice_is_confirmed_with_its_explanation():
    """Is a right option marked correct at once, with the explanation revealed?"""
    feedback = check_choice(MC, MC.answer)
    assert feedback.correct and feedback.reveal


def test_a_wrong_choice_asks_for_another_try_before_revealing_the_answer():
    """Does a first wrong option only say 'try again', and the second reveal the right answer?"""
    wrong = next(option for option in MC.options if option != MC.answer)
    first, second = check_choice(MC, wrong, attempts=1), check_choice(MC, wrong, attempts=2)
    assert first.status == "wrong" and not first.reveal and MC.answer not in first.message
    assert second.reveal and MC.answer in second.message


def test_a_wrong_true_false_answer_reveals_the_answer_at_once():
    """With only two options, is the answer explained after the first wrong try?"""
    feedback = check_choice(TF, "True")
    assert feedback.status == "wrong" and feedback.reveal and "False" in feedback.message
    assert check_choice(TF, False).correct


@pytest.mark.parametrize("text, value", [
    ("24.5", 24.5), (" 2.45e1 ", 24.5), ("100,480", 100480.0), ("0,5", 0.5), ("1.67 %", 1.67),
    ("20 dB", 20.0), ("−3", -3.0), ("twenty", None), ("", None), ("1,2,3", None),
])
def test_numbers_are_read_the_way_students_write_them(text, value):
    """Are decimal commas, thousands separators, units and exponents understood, and words refused?"""
    assert parse_number(text) == value


def test_a_numeric_answer_within_the_tolerance_is_right():
    """Is 24.46 accepted for 24.5 ± 0.05, and 24.4 refused as too low?"""
    assert check_number(NUMERIC, "24.46").correct
    too_low = check_number(NUMERIC, "24.4")
    assert too_low.status == "wrong" and "too low" in too_low.message and not too_low.reveal


def test_a_numeric_answer_is_revealed_after_three_wrong_tries():
    """Is the answer shown after the third wrong number, and is text that is not a number refused?"""
    assert check_number(NUMERIC, "30", attempts=3).reveal
    assert check_number(NUMERIC, "about 24").status == "invalid"


@pytest.mark.parametrize("text", ["", "   ", "small codes"])
def test_a_short_answer_hides_the_model_answer_until_the_student_has_written_one(text):
    """Is the model answer withheld while the student's answer is empty or only two words?"""
    feedback = reveal_model_answer(SHORT, text)
    assert feedback.status == "invalid" and not feedback.reveal


def test_a_written_short_answer_reveals_the_model_answer_and_rubric():
    """Once the student has written a sentence, are the model answer and all three rubric levels shown?"""
    feedback = reveal_model_answer(SHORT, "A small code compresses more but loses detail.")
    html = quiz.feedback_html(SHORT, feedback)
    assert feedback.reveal
    for part in ("Model answer", "Full marks", "Partial", "Poor"):
        assert part in html


@pytest.fixture
def lab2_quiz():
    return quiz.show(lab=2)


def test_choosing_an_option_in_the_widget_gives_immediate_feedback(lab2_quiz):
    """Does selecting a radio button mark it at once and update the score?"""
    card = lab2_quiz.card("L2-01")
    card.answer.value = card.question.answer
    assert "Correct" in card.feedback.value and "The network sees" in card.feedback.value
    assert card.solved and lab2_quiz.score.value.startswith("<p>1 of ")


def test_the_true_false_toggle_marks_the_answer(lab2_quiz):
    """Does the True/False toggle mark a wrong choice and reveal the explanation?"""
    card = lab2_quiz.card("L2-05")
    card.answer.value = "True"
    assert "Not quite" in card.feedback.value and "Salt-and-pepper noise sets" in card.feedback.value


def test_the_check_button_marks_a_numeric_answer(lab2_quiz):
    """Does clicking Check mark the typed number, without counting text that is not a number as a try?"""
    card = lab2_quiz.card("L2-02")
    card.answer.value = "lots"
    card.button.click()
    assert "Enter a number" in card.feedback.value and card.attempts == 0
    card.answer.value = "6272"
    card.button.click()
    assert "Correct" in card.feedback.value and card.attempts == 1 and card.solved


def test_the_reveal_button_needs_an_answer_first(lab2_quiz):
    """Does 'Show model answer' refuse an empty box and then show the rubric once text is written?"""
    card = lab2_quiz.card("L2-08")
    card.button.click()
    assert "Write your own answer first" in card.feedback.value and "Full marks" not in card.feedback.value
    card.answer.value = "Small codes compress but blur; large codes copy noise."
    card.button.click()
    assert "Full marks" in card.feedback.value


def test_a_quiz_writes_nothing_to_disk(tmp_path, monkeypatch):
    """Does answering a quiz leave no file behind (it remembers nothing outside the notebook)?"""
    monkeypatch.chdir(tmp_path)
    lab = quiz.show(lab=1)
    for card in lab.cards:
        if card.button is not None:
            card.answer.value = "24.5 is my answer"
            card.button.click()
        else:
            card.answer.value = card.answer.options[0]
    assert list(tmp_path.iterdir()) == []


def test_show_gives_the_whole_lab_in_order_or_a_reproducible_draw():
    """Does show(lab=3) hold all of Lab 3 from pre-lab to viva, and show(n=, seed=) the same draw twice?"""
    whole = quiz.show(lab=3)
    assert len(whole.cards) == len(bank.load_bank(3))
    stages = [bank.STAGES.index(card.question.stage) for card in whole.cards]
    assert stages == sorted(stages)
    first, again = quiz.show(lab=3, n=5, seed=11), quiz.show(lab=3, n=5, seed=11)
    assert [c.question.id for c in first.cards] == [c.question.id for c in again.cards]
    assert {c.question.stage for c in quiz.show(lab=3, stage="post-lab").cards} == {"post-lab"}


def test_show_refuses_a_stage_that_does_not_exist():
    """Is a misspelt stage refused with the list of stages, instead of an empty quiz?"""
    with pytest.raises(ValueError, match="pre-lab, in-lab, post-lab, viva"):
        quiz.show(lab=2, stage="postlab")


def test_the_output_carries_a_static_version_with_folded_answers():
    """Does the displayed bundle hold the widget view plus HTML with every answer in a closed <details>?"""
    lab4 = quiz.show(lab=4)
    data = lab4._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    static = data["text/html"]
    assert static.count("<details") == len(lab4.cards) and "<details open" not in static
    assert "<script" not in static
    outside_answers = re.sub(r"<details.*?</details>", "", static, flags=re.S)
    for card in lab4.cards:
        assert bank.inline_html(card.question.question) in outside_answers
        if card.question.kind == "short-answer":
            assert bank.inline_html(card.question.answer) not in outside_answers
    assert "Self-check quiz · Lab 4" in data["text/plain"]


def test_the_student_version_leaves_out_short_answers_model_answers_and_rubrics():
    """With model_answers=False (the student notebooks and book), does every question still show, the marked
    answers folded, but no short answer's model answer or rubric?"""
    lab1 = quiz.show(lab=1)
    static = quiz.static_html(lab1.questions, lab1.title, model_answers=False)
    short = [q for q in lab1.questions if q.kind == "short-answer"]
    assert short and static.count("<details") == len(lab1.questions) - len(short)
    for question in lab1.questions:
        assert bank.inline_html(question.question) in static
    for question in short:
        for secret in (question.answer, question.rubric.full, question.rubric.partial, question.rubric.poor):
            assert bank.inline_html(secret) not in static
    assert static.count(quiz.SHORT_ANSWER_NOTE.replace("'", "&#x27;")) == len(short)


def _quiz_call(path):
    cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    return cells[-1] if cells else None


NOTEBOOKS = sorted(ROOT.glob("solutions/lab*.ipynb")) + sorted(ROOT.glob("labs/lab*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_lab_notebook_ends_with_its_quiz(path):
    """Is the last code cell of each lab notebook the quiz of that lab, with a static answer if it has output?"""
    lab = int(re.match(r"lab(\d+)", path.name).group(1))
    cell = _quiz_call(path)
    assert cell is not None and re.fullmatch(rf"(labkit\.)?quiz\.show\(lab={lab}\)", cell.source.strip())
    for output in cell.outputs:
        assert "text/html" in output.get("data", {}), "re-run the notebook with the current labkit"
