"""The question bank: its schema, its coverage, the draws made from it and the book's page."""

import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from labkit import bank, labs
from labkit.bank import BankError, DrawError

ROOT = Path(__file__).resolve().parents[1]
FILES = Path(__file__).parent / "files"

SHEET_TOPICS = ["feature-extraction", "bottleneck", "activation", "pca", "downstream", "trade-off",
                "non-image", "unsupervised", "loss", "compression-ratio", "denoising", "transfer"]
"""The topics of the questions in the lab sheets and reports the labs come from."""


@pytest.fixture(scope="module")
def questions():
    return bank.load_bank()


def test_every_lab_has_at_least_12_questions_with_a_model_answer(questions):
    """Does every lab hold at least 12 questions, each with an answer and an explanation or rubric?"""
    per_lab = Counter(q.lab for q in questions)
    assert sorted(per_lab) == labs.numbers()
    assert min(per_lab.values()) >= 12
    for q in questions:
        assert q.answer_text.strip()
        assert q.rubric is not None if q.kind == "short-answer" else q.explanation


def test_every_kind_and_difficulty_is_used_in_every_lab(questions):
    """Can each lab's quiz and viva mix kinds and difficulties (no lab with only one sort of question)?"""
    for lab in labs.numbers():
        mine = [q for q in questions if q.lab == lab]
        assert {q.kind for q in mine} == set(bank.KINDS), lab
        assert {q.difficulty for q in mine} == set(bank.DIFFICULTIES), lab


@pytest.mark.parametrize("topic", SHEET_TOPICS)
def test_the_lab_sheets_topics_are_covered(questions, topic):
    """Is every topic of the original lab sheets' viva and post-lab questions asked somewhere?"""
    assert any(topic in q.tags for q in questions)


def test_the_right_option_is_not_always_in_the_same_place(questions):
    """Is the position of the right option varied, so that it gives nothing away?"""
    positions = Counter(q.options.index(q.answer) for q in questions if q.kind == "multiple-choice")
    assert max(positions.values()) <= sum(positions.values()) / 2


def test_ids_are_unique_and_name_their_lab(questions):
    """Is every id unique across the bank and prefixed with its own lab?"""
    ids = [q.id for q in questions]
    assert len(ids) == len(set(ids))
    assert all(q.id.startswith(f"L{q.lab}-") for q in questions)


@pytest.mark.parametrize("name, expected", [
    ("bank_missing_rubric.yaml", ["entry 2 (L2-02)", "needs 'rubric'"]),
    ("bank_answer_not_an_option.yaml", ["entry 1 (L1-01)", "text of one of the options", "'Sigmoid'"]),
    ("bank_duplicate_id.yaml", ["entry 2 (L3-01)", "already used by entry 1"]),
    ("bank_unknown_key.yaml", ["entry 1 (L1-01)", "unknown key 'tolerence'"]),
    ("bank_quoted_true_false.yaml", ["entry 1 (L4-01)", "true or false (without quotes)"]),
    ("bank_wrong_lab.yaml", ["entry 1 (L2-05)", "lab 1's bank"]),
    ("bank_no_model_answer.yaml", ["entry 1 (L5-01)", "'answer' must be non-empty text"]),
    ("bank_bad_yaml.yaml", ["line ", "not valid YAML"]),
    ("bank_bad_personal.yaml", ["entry 1 (L1-01)", "'personal' must be the question with the student's figures",
                                "{test_bce.__class__} is not a figure's name"]),
    ("bank_personal_not_short.yaml", ["entry 1 (L1-01)", "unknown key 'personal'"]),
])
def test_a_malformed_entry_is_rejected_naming_the_file_and_the_entry(name, expected):
    """Does a malformed bank file raise a BankError that names the file, the entry and the problem?"""
    with pytest.raises(BankError) as caught:
        bank.load_file(FILES / name)
    message = str(caught.value)
    assert name in message
    for part in expected:
        assert part in message


def test_a_personal_wording_is_filled_in_only_when_every_figure_it_names_is_there():
    """Does L2-17's personal wording name its three probe figures, and is it asked only when all three are
    known (a viva sheet falls back to the generic wording otherwise)?"""
    (question,) = [q for q in bank.load_bank(2) if q.id == "L2-17"]
    assert question.figures == ("probe_features", "probe_pixels", "probe_untrained")
    assert question.personalised({"probe_features": 0.95, "probe_pixels": 0.86}) is None
    text = question.personalised({"probe_features": 0.95, "probe_pixels": 0.86, "probe_untrained": 0.93})
    assert "95.0% on the 6,272 encoder features and 86.0% on" in text and "{" not in text


def test_asking_for_a_lab_without_a_bank_names_the_labs_that_have_one():
    """Is a quiz for a lab that does not exist refused with the list of labs that do?"""
    with pytest.raises(BankError, match="no question bank for lab 9; the labs with one are 1, 2, 3, 4, 5"):
        bank.load_bank(9)


def test_quotas_are_as_even_as_the_bank_allows(questions):
    """Does a draw of 5 take 2 easy, 2 medium and 1 hard, and move a short level's share elsewhere?"""
    lab2 = [q for q in questions if q.lab == 2]
    assert bank.difficulty_quotas(lab2, 5) == {"easy": 2, "medium": 2, "hard": 1}
    assert bank.difficulty_quotas(lab2, 6) == {"easy": 2, "medium": 2, "hard": 2}
    no_hard = [q for q in lab2 if q.difficulty != "hard"]
    assert bank.difficulty_quotas(no_hard, 6) == {"easy": 3, "medium": 3}


def test_a_draw_is_reproducible_balanced_and_without_repeats(questions):
    """Does the same seed give the same questions, each once, balanced across difficulty?"""
    lab3 = [q for q in questions if q.lab == 3]
    for seed in range(20):
        first = bank.draw(lab3, 6, rng=random.Random(seed))
        again = bank.draw(list(reversed(lab3)), 6, rng=random.Random(seed))
        assert [q.id for q in first] == [q.id for q in again]
        assert len({q.id for q in first}) == 6
        assert Counter(q.difficulty for q in first) == {"easy": 2, "medium": 2, "hard": 2}
    draws = {tuple(q.id for q in bank.draw(lab3, 6, rng=random.Random(seed))) for seed in range(20)}
    assert len(draws) > 10


def test_a_practice_viva_spreads_across_the_labs():
    """Does an 8-question practice viva take 2 questions from each of Labs 1 to 4, the same for the same seed?"""
    viva = bank.draw_practice(8, seed=3)
    assert Counter(q.lab for q in viva) == {1: 2, 2: 2, 3: 2, 4: 2}
    assert [q.id for q in viva] == [q.id for q in bank.draw_practice(8, seed=3)]


def test_drawing_more_questions_than_the_bank_holds_is_refused(questions):
    """Is a draw larger than its pool refused with both numbers, instead of repeating questions?"""
    lab1 = [q for q in questions if q.lab == 1]
    with pytest.raises(DrawError, match=f"cannot draw 99 different questions from {len(lab1)}"):
        bank.draw(lab1, 99, rng=random.Random(0))


def test_the_committed_book_pages_are_up_to_date():
    """Are viva/question_bank.md and viva/question_bank_answers.md exactly what the bank files give now?
    (Fix: labkit bank --page viva/question_bank.md)"""
    assert bank.answers_page(ROOT / bank.PAGE) == ROOT / "viva" / "question_bank_answers.md"
    assert bank.page_is_current(ROOT / bank.PAGE), "run: labkit bank --page viva/question_bank.md"


def test_the_student_page_leaves_out_short_answers_and_rubrics(questions):
    """Does the student page fold the answer of every marked question (multiple choice, true/false,
    numeric) and give no short answer's model answer or rubric, which only the answers page holds (#23)?"""
    student, answers = bank.render_page(), bank.render_page(answers=True)
    short = [q for q in questions if q.kind == "short-answer"]
    assert student.count(":::{dropdown} Answer") == len(questions) - len(short)
    assert student.count(bank.SHORT_ANSWER_NOTE) == len(short)
    for question in short:
        for secret in (question.answer, question.rubric.full, question.rubric.partial, question.rubric.poor):
            assert secret not in student and secret in answers, question.id


def test_the_page_lists_every_question_by_lab_with_its_answer_folded(questions):
    """Does the answers page group the questions by lab and put each answer in a collapsed MyST dropdown?"""
    page = bank.render_page(answers=True)
    assert page.count(":::{dropdown} Answer") == len(questions)
    positions = [page.index(f"## Lab {lab}:") for lab in range(1, 6)]
    assert positions == sorted(positions)
    lab2 = page[positions[1]:positions[2]]
    assert all(f"**{q.id}**" in lab2 for q in questions if q.lab == 2)


def test_the_bank_command_fails_when_the_page_is_stale(tmp_path):
    """Does `labkit bank --check` exit 1 for a stale page, and 0 once `--page` has rewritten it?"""
    page = tmp_path / "question_bank.md"
    page.write_text("# An old page\n", encoding="utf-8")
    command = [sys.executable, "-m", "labkit.cli", "bank", "--page", str(page)]
    stale = subprocess.run([*command, "--check"], capture_output=True, text=True, cwd=ROOT)
    assert stale.returncode == 1 and "out of date" in stale.stdout
    assert subprocess.run(command, capture_output=True, text=True, cwd=ROOT).returncode == 0
    assert bank.answers_page(page).is_file()
    fresh = subprocess.run([*command, "--check"], capture_output=True, text=True, cwd=ROOT)
    assert fresh.returncode == 0 and "up to date" in fresh.stdout


def test_the_bank_quiz_and_viva_modules_load_without_tensorflow():
    """Do labkit.bank, labkit.quiz and labkit.viva import without pulling in TensorFlow or Keras?"""
    code = ("import sys, labkit.bank, labkit.quiz, labkit.viva; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
